"""Benchmark: business-hours deadlines of contracts.clock against its peers (R4, R5).

    .venv/bin/python bench/clock.py [--starts N] [--seed S] [--rounds R]

Computes the 4- and 8-business-hour deadlines of N random starts (minute
resolution, 2024-2029) for an Amsterdam office, 09:00-17:30 Monday to Friday with
the Dutch public holidays of 2024-2030, side by side in one run with:

* businesstimedelta: WorkDayRule + HolidayRule, both with the office's pytz zone as
  its README says; the holidays as a frozenset of dates (faster for it than the
  holidays object its README shows);
* pandas CustomBusinessHour(start="09:00", end="17:30", holidays=...), on naive
  local times (it has no time zones), the result localised back to Amsterdam.

Prints operations per second, how many times faster contracts.clock is than each
peer, and the mismatches of every implementation against a minute-stepping
reference (bench/_reference.py): ours must be 0, the peers' are facts worth
knowing. contracts.clock is timed twice per round: "cold", a fresh calendar with
its day cache empty (as when a request builds one; the process-wide zone offset
tables are built by an untimed warm-up), and "warm", the same calendar again.
"""

import argparse
import platform
import random
import sys
import time as stopwatch
from datetime import UTC, datetime, time, timedelta
from importlib.metadata import version
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root

import businesstimedelta  # noqa: E402
import pandas as pd  # noqa: E402
import pytz  # noqa: E402

from bench._reference import MinuteReference  # noqa: E402
from contracts.clock import BusinessCalendar, public_holidays  # noqa: E402

ZONE = "Europe/Amsterdam"
OPENS, CLOSES = time(9), time(17, 30)
TARGET_HOURS = (4, 8)
FIRST_START = datetime(2024, 1, 1, tzinfo=UTC)
LAST_START = datetime(2030, 1, 1, tzinfo=UTC)


def timed(function):
    """(CPU seconds taken, results).

    CPU time of this process, not wall time: other work on a shared machine
    (test suites, databases) then slows the measurement much less.
    """
    began = stopwatch.process_time()
    results = function()
    return stopwatch.process_time() - began, results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=2000, help="random starts (default 2000)")
    parser.add_argument("--seed", type=int, default=20260329)
    parser.add_argument("--rounds", type=int, default=5, help="timing rounds, best kept")
    parser.add_argument("--smoke", action="store_true", help="100 starts, 1 round (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.starts, args.rounds = 100, 1

    holidays = public_holidays("NL", None, range(2024, 2031))
    local = ZoneInfo(ZONE)
    rng = random.Random(args.seed)
    span = (LAST_START - FIRST_START) // timedelta(minutes=1)
    starts = [FIRST_START + timedelta(minutes=rng.randrange(span)) for _ in range(args.starts)]

    reference = MinuteReference(ZONE, holidays, OPENS, CLOSES)
    pytz_zone = pytz.timezone(ZONE)
    peer_rules = businesstimedelta.Rules(
        [
            businesstimedelta.WorkDayRule(
                start_time=OPENS, end_time=CLOSES, working_days=[0, 1, 2, 3, 4], tz=pytz_zone
            ),
            businesstimedelta.HolidayRule(frozenset(holidays), tz=pytz_zone),
        ]
    )
    naive_local_starts = [pd.Timestamp(s.astimezone(local).replace(tzinfo=None)) for s in starts]

    print(
        f"SLA clock benchmark: {ZONE} {OPENS:%H:%M}-{CLOSES:%H:%M} Mon-Fri, NL holidays"
        f" 2024-2030, {args.starts} random starts {FIRST_START:%Y}-{LAST_START.year - 1}"
        f" (seed {args.seed}), best of {args.rounds} interleaved rounds, CPU time"
    )
    print(
        f"Python {platform.python_version()}, businesstimedelta {version('businesstimedelta')},"
        f" pandas {version('pandas')}, holidays {version('holidays')}"
    )
    header = f"{'target':<7}{'implementation':<42}{'ops/s':>12}{'ours is x faster':>22}"
    header += f"{'mismatches':>12}"
    print(header)

    # Untimed warm-up: the zone's offset tables are built once per zone and year
    # for the whole process, whichever calendar asks first. "Cold" below is a fresh
    # calendar, its own day cache empty, as when a request builds one.
    warm_up = BusinessCalendar.standard(ZONE, closed=holidays, open=OPENS, close=CLOSES)
    for start in starts:
        warm_up.add(start, timedelta(hours=max(TARGET_HOURS)))

    failures = 0
    for hours in TARGET_HOURS:
        duration = timedelta(hours=hours)
        expected = [reference.add(s, hours * 60) for s in starts]
        delta = businesstimedelta.BusinessTimeDelta(peer_rules, hours=hours)
        offset = pd.offsets.CustomBusinessHour(
            n=hours, start=f"{OPENS:%H:%M}", end=f"{CLOSES:%H:%M}", holidays=sorted(holidays)
        )
        # Rounds interleave the implementations so that a burst of load on the
        # machine hits all of them alike; the best round of each is kept.
        best = {"cold": float("inf"), "warm": float("inf"), "btd": float("inf"), "pd": float("inf")}
        ours_mismatches = 0  # every round's results are checked, cold and warm
        for _ in range(args.rounds):
            calendar = BusinessCalendar.standard(ZONE, closed=holidays, open=OPENS, close=CLOSES)
            seconds, cold = timed(lambda c=calendar, d=duration: [c.add(s, d) for s in starts])
            best["cold"] = min(best["cold"], seconds)
            seconds, warm = timed(lambda c=calendar, d=duration: [c.add(s, d) for s in starts])
            best["warm"] = min(best["warm"], seconds)
            ours_mismatches += sum(
                got != want
                for results in (cold, warm)
                for got, want in zip(results, expected, strict=True)
            )
            seconds, btd = timed(lambda d=delta: [s + d for s in starts])
            best["btd"] = min(best["btd"], seconds)
            seconds, pd_naive = timed(lambda o=offset: [t + o for t in naive_local_starts])
            best["pd"] = min(best["pd"], seconds)
        cold_seconds, warm_seconds = best["cold"], best["warm"]
        btd_seconds, pd_seconds = best["btd"], best["pd"]
        pd_results = [t.to_pydatetime().replace(tzinfo=local) for t in pd_naive]

        failures += ours_mismatches
        rows = [
            ("contracts.clock BusinessCalendar (cold)", cold_seconds, cold, None),
            ("contracts.clock BusinessCalendar (warm)", warm_seconds, warm, None),
            ("businesstimedelta 1.0.1", btd_seconds, btd, (cold_seconds, warm_seconds)),
            ("pandas CustomBusinessHour", pd_seconds, pd_results, (cold_seconds, warm_seconds)),
        ]
        examples = []
        for name, seconds, results, ours in rows:
            wrong = [
                (start, got, want)
                for start, got, want in zip(starts, results, expected, strict=True)
                if got != want
            ]
            ratio = f"{seconds / ours[0]:.0f}x cold, {seconds / ours[1]:.0f}x warm" if ours else ""
            ops = len(starts) / seconds
            print(f"{hours}h{'':<5}{name:<42}{ops:>12,.0f}  {ratio:>20}{len(wrong):>12}")
            examples += [(name, *case) for case in wrong[:3]]
        for name, start, got, want in examples:
            print(
                f"    {name} disagrees with the reference: start"
                f" {start.astimezone(local):%a %Y-%m-%d %H:%M} + {hours}h gave"
                f" {got.astimezone(local):%a %Y-%m-%d %H:%M}, reference"
                f" {want.astimezone(local):%a %Y-%m-%d %H:%M}"
            )
    checked = 2 * args.rounds * len(TARGET_HOURS) * len(starts)
    print(f"contracts.clock mismatches against the reference: {failures} of {checked} results")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
