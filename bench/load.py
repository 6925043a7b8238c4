"""Load test: gunicorn on PostgreSQL, 20 clients filing incidents, reading lists and
redeeming credits through the API for 60 seconds; then the invariants.

    .venv/bin/python bench/load.py [--seconds 60] [--clients 20] [--workers 4]

Loopback only (127.0.0.1). Everything it uses is its own: the database
portal_bench_load (dropped, migrated and seeded here), a redis-server and
gunicorn on free ports (started and stopped here; --redis-port/--port to pin them). The shared PostgreSQL on 5432 is
only asked to host that one database.

Reports requests, throughput, p50/p95/p99 per operation and the status codes; fails
(exit 1) on any 5xx or broken invariant:
- no negative credit balance; every balance equals the sum of its ledger entries and
  the last entry's balance_after;
- every incident has its deadline (response_due_at) and its incident.created outbox row;
- no lost or doubled write: incidents and redemptions in the database equal the 201s.

The processes it starts (redis-server, gunicorn, its database) are bench/_load_stack.py;
bench/faults.py reuses them and the pieces here (seed, run_load, check_invariants).
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import requests

# The processes (redis-server, gunicorn, the database): bench/_load_stack.py. Run as a
# script, this folder is on sys.path; so it is for bench/faults.py, which imports this.
from _load_stack import (
    PY,
    ROOT,
    Gunicorn,
    RedisServer,
    app_env,
    database_url,
    free_port,
    migrate,
    recreate_database,
)

# --- seed (runs inside a Django process: `python bench/load.py --seed`) -------------------

SEED_CUSTOMERS = 4
SEED_CREDITS = 3000
RATE = 10  # credits per workshop participant


def seed() -> dict:
    """Customers with an Advanced work order, a credit line, contacts and API keys."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from accounts.services import api_key_create
    from contracts import services as contracts
    from credits.services import rate_create, vendor_consent_record
    from services.models import Service

    today = timezone.localdate()
    workshops = Service.objects.get(code="workshops")
    # Workshops are booked with the vendor's written consent (#18): recorded per work
    # order by an account manager, or every redemption of the run is refused (400).
    manager = get_user_model().objects.create_user(
        username="bench-manager", is_staff=True, is_superuser=True
    )
    rate_create(
        service=workshops, credits_per_unit=Decimal(RATE), valid_from=today - dt.timedelta(days=1)
    )
    customers = []
    for n in range(SEED_CUSTOMERS):
        customer = contracts.customer_create(
            code=f"bench{n}", name=f"Bench Customer {n}", country="NL", timezone="Europe/Amsterdam"
        )
        location = contracts.support_location_create(
            customer=customer, name="HQ", country="NL", timezone="Europe/Amsterdam"
        )
        work_order = contracts.work_order_create(
            customer=customer,
            number=f"WO-BENCH-{n}",
            package="advanced",
            start_date=today - dt.timedelta(days=30),
            end_date=today + dt.timedelta(days=335),
            support_location=location,
            lines=[
                {
                    "service": Service.objects.get(code="proactive-credits"),
                    "quantity": Decimal(SEED_CREDITS),
                }
            ],
        )
        vendor_consent_record(
            work_order=work_order, service=workshops, reference="bench consent", by=manager
        )
        contacts = [
            contracts.named_contact_add(
                work_order=work_order, name=f"Contact {n}.{i}", email=f"c{i}@bench{n}.example"
            )
            for i in range(3)
        ]
        _key, raw = api_key_create(name=f"bench-{n}", customer=customer)
        customers.append(
            {
                "code": customer.code,
                "key": raw,
                "work_order": work_order.pk,
                "contacts": [c.email for c in contacts],
            }
        )
    _key, staff_raw = api_key_create(name="bench-staff")
    return {"customers": customers, "staff_key": staff_raw}


def run_seed(env: dict) -> dict:
    out = subprocess.run(
        [PY, __file__, "--seed"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit("seeding failed:\n" + out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- the load --------------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, Counter] = defaultdict(Counter)
        self.created: Counter = Counter()
        self.errors: Counter = Counter()
        self.timeline: list[tuple[float, str, int]] = []

    def add(
        self, op: str, status: int, seconds: float, at: float, count_created: bool = True
    ) -> None:
        with self.lock:
            self.samples[op].append(seconds)
            self.statuses[op][status] += 1
            self.timeline.append((at, op, status))
            if status == 201 and count_created:
                self.created[op] += 1

    def count_created(self, op: str) -> None:
        """One write the client knows succeeded (once per Idempotency-Key)."""
        with self.lock:
            self.created[op] += 1


def _client_loop(
    base: str,
    seed_data: dict,
    stop_at: float,
    rec: Recorder,
    rng: random.Random,
    ops: tuple,
    start: float,
    retry_503: bool,
):
    customer = rng.choice(seed_data["customers"])
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {customer['key']}"
    wo = customer["work_order"]
    import datetime as dt

    scheduled = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    n = 0
    while time.monotonic() < stop_at:
        op = rng.choice(ops)
        n += 1
        if op == "file_incident":
            method, url = "post", f"{base}/api/v1/incidents/"
            body = {
                "work_order": wo,
                "contact": rng.choice(customer["contacts"]),
                "title": f"Load incident {threading.get_ident()}-{n}",
                "severity": rng.choice(["normal", "normal", "normal", "critical"]),
            }
        elif op == "redeem":
            method, url = "post", f"{base}/api/v1/work-orders/{wo}/redemptions/"
            body = {
                "service": "workshops",
                "quantity": "1",
                "scheduled_for": scheduled,
                "delivery_mode": "per_participant",
            }
        elif op == "list_incidents":
            method, url, body = "get", f"{base}/api/v1/incidents/?page_size=50", None
        elif op == "list_work_orders":
            method, url, body = "get", f"{base}/api/v1/work-orders/", None
        else:
            method, url, body = "get", f"{base}/api/v1/work-orders/{wo}/credits/", None
        # Every write carries an Idempotency-Key (API.md), so a client may retry it safely.
        headers = {"Idempotency-Key": uuid.uuid4().hex} if method == "post" else {}
        give_up_at = time.monotonic() + 60
        while True:
            t0 = time.monotonic()
            try:
                response = session.request(method, url, json=body, headers=headers, timeout=30)
                status = response.status_code
                if status >= 500 and len(rec.errors) < 20:
                    rec.errors[f"{op} {status}: {response.text[:200]}"] += 1
            except requests.RequestException as exc:
                status = 0  # no answer at all
                rec.errors[f"{op}: {exc.__class__.__name__}"] += 1
            rec.add(op, status, time.monotonic() - t0, t0 - start, count_created=False)
            # A well-behaved client retries a 503 with the same key (Retry-After); the
            # server either replays the first answer or does the work once.
            if status == 503 and retry_503 and method == "post" and time.monotonic() < give_up_at:
                time.sleep(0.5)
                continue
            break
        if status == 201:
            rec.count_created(op)


LOAD_OPS = (
    "file_incident",
    "file_incident",
    "list_incidents",
    "list_incidents",
    "list_work_orders",
    "credits",
    "redeem",
    "redeem",
)


def run_load(
    base: str,
    seed_data: dict,
    *,
    seconds: float,
    clients: int,
    ops: tuple = LOAD_OPS,
    seed: int = 8,
    retry_503: bool = False,
) -> tuple[Recorder, float]:
    rec = Recorder()
    start = time.monotonic()
    stop_at = start + seconds
    threads = [
        threading.Thread(
            target=_client_loop,
            args=(base, seed_data, stop_at, rec, random.Random(seed + i), ops, start, retry_503),
            daemon=True,
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return rec, time.monotonic() - start


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def report(rec: Recorder, elapsed: float, title: str) -> dict:
    total = sum(len(v) for v in rec.samples.values())
    every = [s for v in rec.samples.values() for s in v]
    statuses = Counter()
    for c in rec.statuses.values():
        statuses.update(c)
    five_xx = sum(n for s, n in statuses.items() if s >= 500)
    no_answer = statuses.get(0, 0)
    print(f"\n== {title} ==")
    print(f"requests: {total} in {elapsed:.1f} s = {total / elapsed:.1f} req/s")
    print(
        f"latency all: p50 {percentile(every, 50) * 1000:.0f} ms, p95 {percentile(every, 95) * 1000:.0f} ms, p99 {percentile(every, 99) * 1000:.0f} ms"
    )
    print(
        f"{'operation':<18}{'count':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}  statuses"
    )
    for op in sorted(rec.samples):
        v = rec.samples[op]
        codes = ", ".join(f"{s}: {n}" for s, n in sorted(rec.statuses[op].items()))
        print(
            f"{op:<18}{len(v):>7}{statistics.median(v) * 1000:>9.0f}{percentile(v, 95) * 1000:>9.0f}"
            f"{percentile(v, 99) * 1000:>9.0f}{max(v) * 1000:>9.0f}  {codes}"
        )
    print(f"status codes: {dict(sorted(statuses.items()))}; 5xx: {five_xx}; no answer: {no_answer}")
    for err, n in rec.errors.most_common(5):
        print(f"  error x{n}: {err}")
    return {
        "requests": total,
        "seconds": elapsed,
        "throughput": total / elapsed,
        "p95_ms": percentile(every, 95) * 1000,
        "five_xx": five_xx,
        "no_answer": no_answer,
        "statuses": dict(statuses),
    }


# --- invariants (run inside a Django process: `python bench/load.py --check`) -------------


def check_invariants() -> dict:
    from django.db.models import Count, Sum

    from credits.models import CreditAccount, CreditEntry, Redemption
    from incidents.models import Incident
    from notifications.models import OutboxMessage

    problems = []
    negative = CreditAccount.objects.filter(balance__lt=0).count()
    if negative:
        problems.append(f"{negative} negative balances")
    sums = dict(CreditEntry.objects.values_list("work_order").annotate(s=Sum("amount")).order_by())
    for account in CreditAccount.objects.all():
        total = sums.get(account.work_order_id, 0)
        last = (
            CreditEntry.objects.filter(work_order_id=account.work_order_id)
            .order_by("-created_at", "-id")
            .first()
        )
        if account.balance != total or (last and last.balance_after != account.balance):
            problems.append(
                f"work order {account.work_order_id}: balance {account.balance}, entries sum {total}"
            )
    if Incident.objects.filter(response_due_at__isnull=True).exists():
        problems.append("incidents without response_due_at")
    incident_ids = set(Incident.objects.values_list("id", flat=True))
    announced = OutboxMessage.objects.filter(
        event="incident.created", channel="webhook"
    ).values_list("payload", flat=True)
    announced_ids = Counter()
    for payload in announced:
        # The one envelope's payload (incidents/notices.py): the incident as GET returns it.
        announced_ids[((payload or {}).get("data") or {}).get("id")] += 1
    missing = [i for i in incident_ids if announced_ids.get(i, 0) == 0]
    doubled = [i for i, n in announced_ids.items() if n > 1]
    if missing:
        problems.append(f"{len(missing)} incidents without an incident.created outbox row")
    if doubled:
        problems.append(f"{len(doubled)} incidents announced twice")
    redemption_credits = (
        Redemption.objects.filter(status="scheduled").aggregate(s=Sum("credits"))["s"] or 0
    )
    states = dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")).order_by())
    return {
        "ok": not problems,
        "problems": problems,
        "incidents": len(incident_ids),
        "redemptions": Redemption.objects.count(),
        "redeemed_credits": redemption_credits,
        "balances": sorted(CreditAccount.objects.values_list("balance", flat=True)),
        "outbox_states": states,
    }


def run_check(env: dict) -> dict:
    out = subprocess.run(
        [PY, __file__, "--check"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit("invariant check crashed:\n" + out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_invariants(inv: dict, rec: Recorder) -> bool:
    filed, redeemed = rec.created["file_incident"], rec.created["redeem"]
    ok = inv["ok"] and inv["incidents"] == filed and inv["redemptions"] == redeemed
    # A write that never succeeds measures nothing: the run fails (a seed that a rule
    # change broke, e.g. workshops needing the vendor's consent, shows here).
    for op in ("file_incident", "redeem"):
        if rec.samples.get(op) and not rec.created[op]:
            print(f"  PROBLEM: no {op} answered 201 (statuses {dict(rec.statuses[op])})")
            ok = False
    print("invariants:")
    print(
        f"  incidents in database {inv['incidents']} = incidents answered 201 {filed}: {inv['incidents'] == filed}"
    )
    print(
        f"  redemptions in database {inv['redemptions']} = redemptions answered 201 {redeemed}: {inv['redemptions'] == redeemed}"
    )
    print(f"  balances {inv['balances']} (never negative; each = sum of its ledger entries)")
    print(
        f"  every incident has response_due_at and exactly one incident.created outbox row: {not inv['problems']}"
    )
    print(f"  outbox states: {inv['outbox_states']}")
    for p in inv["problems"]:
        print(f"  PROBLEM: {p}")
    return ok


def _django():
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    import django

    django.setup()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=0, help="0: a free port")
    parser.add_argument("--redis-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--database", default="portal_bench_load")
    parser.add_argument("--seed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--check", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true", help="3 s, 2 clients, 1 worker (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.seconds, args.clients, args.workers = 3, 2, 1
    if args.seed or args.check:
        _django()
        print(json.dumps(seed() if args.seed else check_invariants(), default=str))
        return 0

    args.port = args.port or free_port()
    args.redis_port = args.redis_port or free_port()
    redis_server = RedisServer(args.redis_port)
    redis_server.start()
    env = app_env(db_url=database_url(args.database), redis_url=redis_server.url)
    web = None
    try:
        recreate_database(args.database)
        migrate(env)
        seed_data = run_seed(env)
        web = Gunicorn(
            env, args.port, args.workers, Path(tempfile.gettempdir()) / "portal-bench-gunicorn.log"
        )
        web.start()
        print(
            f"load: {args.clients} clients for {args.seconds:.0f} s against gunicorn ({args.workers} workers) "
            f"on {web.base}, PostgreSQL database {args.database}, redis on {args.redis_port}"
        )
        rec, elapsed = run_load(web.base, seed_data, seconds=args.seconds, clients=args.clients)
        summary = report(rec, elapsed, "load")
    finally:
        if web:
            web.stop()
        redis_server.stop()
    inv = run_check(env)
    ok = print_invariants(inv, rec) and summary["five_xx"] == 0 and summary["no_answer"] == 0
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
