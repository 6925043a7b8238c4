"""Benchmark of the deadline sweep (issue #5) on 1,000,000 open incidents.

    .venv/bin/python bench/sweep.py [--rows 1000000] [--reload]
    .venv/bin/python bench/sweep.py --smoke   # 2,000 rows, 0/10/100 due, its own database

Creates (or reuses) the PostgreSQL database portal_bench_sweep, migrates it, loads
the incidents with COPY, then times one sweep (incidents.sweep.run_deadline_sweep)
with 0, 100 and 10,000 deadlines due, and prints the EXPLAIN (ANALYZE, BUFFERS) of
the selection (the claim query of one batch). Aims: under 20 ms when nothing is
due; 10,000 due handled in under 10 s.

The server is taken from BENCH_DATABASE_URL's host (default postgres@127.0.0.1:5432).
"""

import argparse
import datetime as dt
import io
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = "portal_bench_sweep_smoke" if "--smoke" in sys.argv else "portal_bench_sweep"
os.environ["DATABASE_URL"] = f"{SERVER}/{DB_NAME}"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("LOG_FORMAT", "plain")


def ensure_database() -> None:
    import psycopg2

    conn = psycopg2.connect(f"{SERVER}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
        if not cur.fetchone():
            cur.execute(f'CREATE DATABASE "{DB_NAME}"')
    conn.close()


def setup_django():
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fixtures():
    from accounts.models import User
    from contracts.models import Customer, NamedContact, SupportLocation, WorkOrder

    customer, _ = Customer.objects.get_or_create(
        code="bench", defaults={"name": "Bench BV", "country": "NL"}
    )
    location = SupportLocation.objects.filter(
        customer=customer
    ).first() or SupportLocation.objects.create(
        customer=customer, name="HQ", country="NL", timezone="Europe/Amsterdam"
    )
    manager, _ = User.objects.get_or_create(
        username="bench-am", defaults={"email": "am@bench.example", "is_staff": True}
    )
    wo, _ = WorkOrder.objects.get_or_create(
        number="WO-BENCH",
        defaults=dict(
            customer=customer,
            package="advanced",
            start_date=dt.date(2020, 1, 1),
            end_date=dt.date(2099, 12, 31),
            account_manager=manager,
            support_location=location,
        ),
    )
    contact, _ = NamedContact.objects.get_or_create(
        work_order=wo, email="ops@bench.example", defaults={"name": "Ops"}
    )
    return wo, contact


COLUMNS = [
    "number",
    "work_order_id",
    "contact_id",
    "title",
    "description",
    "severity",
    "product",
    "is_cloud",
    "around_the_clock",
    "is_advisory",
    "advisory_minutes",
    "external_reference",
    "status",
    "channel",
    "opened_at",
    "target_minutes",
    "target_clock",
    "target_rule",
    "response_due_at",
    "response_warning_at",
    "response_breached",
    "version",
    "created_at",
    "updated_at",
    "next_deadline_at",
    "language",
]


def load(rows: int, wo, contact) -> float:
    """COPY `rows` open incidents whose deadlines are all in the future (1..30 days)."""
    from django.db import connection

    started = time.perf_counter()
    now = dt.datetime.now(dt.UTC)
    chunk = 100_000
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE incidents_incident, notifications_outboxmessage, notifications_sweeprun RESTART IDENTITY CASCADE"
        )
        # Load without the secondary indexes, then build them once (much faster).
        cursor.execute("DROP INDEX IF EXISTS incident_next_deadline_idx")
        raw = cursor.cursor
        for start in range(0, rows, chunk):
            buf = io.StringIO()
            for i in range(start, min(start + chunk, rows)):
                opened = now - dt.timedelta(minutes=i % 600)
                warning = now + dt.timedelta(minutes=60 + (i * 37) % (30 * 24 * 60))
                due = warning + dt.timedelta(hours=1)
                ts = opened.isoformat()
                buf.write(
                    f"INC-B{i:07d}\t{wo.pk}\t{contact.pk}\tIncident {i}\t\tnormal\t\tf\tf\tf\t0\t\tnew\tweb\t{ts}\t"
                    f"240\tbusiness_hours\tR4 Advanced normal\t{due.isoformat()}\t{warning.isoformat()}\tf\t1\t{ts}\t{ts}\t"
                    f"{warning.isoformat()}\ten\n"
                )
            buf.seek(0)
            raw.copy_expert(f"COPY incidents_incident ({', '.join(COLUMNS)}) FROM STDIN", buf)
        cursor.execute(
            "CREATE INDEX incident_next_deadline_idx ON incidents_incident (next_deadline_at) WHERE next_deadline_at IS NOT NULL"
        )
        cursor.execute("ANALYZE incidents_incident")

    return time.perf_counter() - started


def make_due(count: int, offset: int) -> list[int]:
    """Move `count` incidents' warnings into the past (from id `offset`)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET response_warning_at = now() - interval '10 minutes', "
            "response_due_at = now() + interval '50 minutes', next_deadline_at = now() - interval '10 minutes' "
            "WHERE id > %s AND id <= %s",
            [offset, offset + count],
        )
        cursor.execute("ANALYZE incidents_incident")
    return list(range(offset + 1, offset + count + 1))


def explain(now) -> str:
    from django.db import transaction

    from incidents.sweep import claim_queryset

    with transaction.atomic():
        plan = claim_queryset(now=now).explain(analyze=True, buffers=True)
        transaction.set_rollback(True)  # EXPLAIN ANALYZE ... FOR UPDATE took locks: let go
    return plan


def timed_sweep():
    from django.utils import timezone

    from incidents.sweep import run_deadline_sweep

    now = timezone.now()
    started = time.perf_counter()
    result = run_deadline_sweep(now=now)
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--reload", action="store_true", help="Reload the incidents even if present."
    )
    parser.add_argument("--smoke", action="store_true", help="2,000 rows, seconds (CI)")
    args = parser.parse_args()
    dues = (0, 100, 10_000)
    if args.smoke:
        args.rows, dues = 2_000, (0, 10, 100)

    ensure_database()
    setup_django()
    from django.db import connection
    from django.utils import timezone

    from incidents.models import DeadlineEvent, Incident
    from notifications.models import OutboxMessage

    wo, contact = fixtures()
    present = Incident.objects.count()
    if args.reload or present != args.rows:
        print(f"loading {args.rows:,} open incidents with COPY ...", flush=True)
        seconds = load(args.rows, wo, contact)
        print(f"loaded {args.rows:,} incidents in {seconds:.1f} s")
    else:
        print(f"reusing {present:,} incidents in {DB_NAME}")
        with connection.cursor() as cursor:  # undo an earlier run's sweeps
            cursor.execute(
                "TRUNCATE incidents_deadlineevent, incidents_incidentevent, notifications_outboxmessage, notifications_sweeprun CASCADE"
            )
            cursor.execute(
                "UPDATE incidents_incident SET response_warning_at = now() + ((id * 37) % 43200) * interval '1 minute' "
                "+ interval '1 hour', response_breached = false WHERE response_warning_at < now() + interval '1 hour'"
            )
            cursor.execute(
                "UPDATE incidents_incident SET response_due_at = response_warning_at + interval '1 hour', "
                "next_deadline_at = response_warning_at WHERE next_deadline_at IS DISTINCT FROM response_warning_at"
            )
            cursor.execute(
                "VACUUM ANALYZE incidents_incident"
            ) if connection.get_autocommit() else None

    print(f"open incidents: {Incident.objects.filter(next_deadline_at__isnull=False).count():,}")
    print()
    print("EXPLAIN (ANALYZE, BUFFERS) of the selection, nothing due:")
    print(explain(timezone.now()))
    figures = []
    offset = 0
    for due in dues:
        if due:
            make_due(due, offset)
            offset += due
        if due == dues[-1]:
            print()
            print(f"EXPLAIN (ANALYZE, BUFFERS) of the selection, {due:,} due (one batch of 500):")
            print(explain(timezone.now()))
        runs = []
        # Nothing due: the warm figure is the median of a few runs (a sweep every 30 s
        # is always warm); with work due, one run does it all.
        for _ in range(5 if due == 0 else 1):
            runs.append(timed_sweep())
        seconds = sorted(r[0] for r in runs)[len(runs) // 2]
        result = runs[0][1]
        events = DeadlineEvent.objects.count()
        figures.append((due, seconds, result))
        print(
            f"due={due:>6,}: sweep {seconds * 1000:9.1f} ms  incidents={result.incidents:,} events={result.events:,} "
            f"notifications={result.notifications:,} failed={result.failed} batches={result.batches} "
            f"(deadline events in db: {events:,}, outbox rows: {OutboxMessage.objects.count():,})",
            flush=True,
        )
    print()
    print("figures:")
    for due, seconds, result in figures:
        aim = "aim < 20 ms" if due == 0 else ("aim < 10 s" if due == 10_000 else "")
        rate = f", {result.incidents / seconds:,.0f} incidents/s" if result.incidents else ""
        print(f"  {due:>6,} due: {seconds * 1000:.1f} ms{rate} {aim}")
    print(
        f"  notification latency bound: one sweep interval ({os.environ.get('SWEEP_INTERVAL_SECONDS', '30')} s) + the sweep's own time"
    )


if __name__ == "__main__":
    main()
