"""Benchmark: credit redemptions per second on PostgreSQL, then the ledger invariants (R10).

    .venv/bin/python bench/redemptions.py [--redemptions N] [--runs 1x1,8x1,8x8]

Uses DATABASE_URL (default postgres://postgres@127.0.0.1:5432/portal_bench): creates
the database if missing and migrates it. Each run is "<clients>x<balances>": that
many threads (each with its own connection), released together, share N
redemptions (credits.services.credits_redeem, each with its own idempotency key)
spread over that many fresh work orders. Every work order is funded for 90% of the
redemptions aimed at it, so the last ~10% must be refused (Conflict R10): the
balance is contended and runs dry, the case that matters. "8x1" is the worst case,
every client on one balance (they queue on its row lock); "8x8" is eight balances.

Prints redemptions per second per run, then checks, over every work order the runs
created: no negative balance, balance == sum of entries == the last balance_after,
accepted redemptions == rows written, exactly funding // cost redemptions per
balance (none overspent, none lost). Exit 1
on a broken invariant.
"""

import argparse
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/portal_bench")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("LOG_FORMAT", "plain")

COST = 50  # credits per chalk-talk day (the bench's default rate)


def ensure_database(url: str) -> None:
    """CREATE DATABASE if it does not exist (connecting to the server's `postgres` db)."""
    import dj_database_url
    import psycopg2

    cfg = dj_database_url.parse(url)
    dsn = dict(
        host=cfg["HOST"] or "127.0.0.1",
        port=cfg["PORT"] or 5432,
        user=cfg["USER"] or "postgres",
        dbname="postgres",
    )
    if cfg["PASSWORD"]:
        dsn["password"] = cfg["PASSWORD"]
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]])
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{cfg["NAME"]}"')
    finally:
        conn.close()


def setup_django() -> None:
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.conf import settings

    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        raise SystemExit(
            "bench/redemptions.py measures PostgreSQL; DATABASE_URL is not a PostgreSQL URL"
        )
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def funded_work_orders(n: int, credits: int, tag: str) -> list:
    import datetime as dt
    from decimal import Decimal

    from django.utils import timezone

    from contracts.models import Customer, WorkOrder, WorkOrderLine
    from credits.models import Rate
    from credits.services import credits_grant
    from services.models import Service

    today = timezone.localdate()
    chalk = Service.objects.get(code="chalk-talks")
    Rate.objects.get_or_create(
        service=chalk,
        customer=None,
        valid_from=dt.date(2000, 1, 1),
        defaults={"credits_per_unit": Decimal(COST)},
    )
    customer, _ = Customer.objects.get_or_create(
        code="bench", defaults={"name": "Bench BV", "country": "NL"}
    )
    credits_line = Service.objects.get(code="proactive-credits")
    out = []
    for i in range(n):
        wo = WorkOrder.objects.create(
            number=f"BENCH-{tag}-{i}",
            customer=customer,
            package="advanced",
            start_date=today - dt.timedelta(days=10),
            end_date=today + dt.timedelta(days=300),
        )
        line = WorkOrderLine.objects.create(
            work_order=wo, service=credits_line, quantity=Decimal(credits), unit="credits"
        )
        credits_grant(line=line)
        out.append(wo)
    return out


def run(clients: int, balances: int, total: int) -> dict:
    """`total` redemptions by `clients` threads over `balances` fresh work orders."""
    import datetime as dt

    from django.db import connection
    from django.utils import timezone

    from core.errors import Conflict
    from credits.services import credits_redeem
    from services.models import Service

    tag = uuid.uuid4().hex[:8]
    per_balance = total // balances
    work_orders = funded_work_orders(balances, credits=COST * per_balance * 9 // 10, tag=tag)
    chalk = Service.objects.get(code="chalk-talks")
    when = timezone.localdate() + dt.timedelta(days=30)
    barrier = threading.Barrier(clients + 1)
    accepted, refused, errors = [0] * clients, [0] * clients, []

    def client(k: int) -> None:
        try:
            barrier.wait()
            for i in range(k, per_balance * balances, clients):
                wo = work_orders[i % balances]
                try:
                    credits_redeem(
                        work_order=wo,
                        service=chalk,
                        quantity=1,
                        scheduled_for=when,
                        idempotency_key=f"{tag}-{i}",
                    )
                    accepted[k] += 1
                except Conflict:
                    refused[k] += 1
        except Exception as exc:  # reported and fails the run
            errors.append(repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    attempts = sum(accepted) + sum(refused)
    return {
        "run": f"{clients}x{balances}",
        "clients": clients,
        "balances": balances,
        "attempts": attempts,
        "accepted": sum(accepted),
        "refused": sum(refused),
        "errors": errors,
        "seconds": elapsed,
        "per_second": attempts / elapsed if elapsed else 0.0,
        "work_orders": [wo.pk for wo in work_orders],
    }


def check_invariants(results: list[dict]) -> list[str]:
    from django.db.models import Sum

    from credits.models import CreditAccount, CreditEntry, Redemption

    problems = []
    for r in results:
        rows = Redemption.objects.filter(work_order_id__in=r["work_orders"]).count()
        if rows != r["accepted"]:
            problems.append(
                f"{r['run']}: {r['accepted']} redemptions accepted but {rows} rows written"
            )
        if r["errors"]:
            problems.append(f"{r['run']}: unexpected errors {r['errors'][:3]}")
        for wo_id in r["work_orders"]:
            account = CreditAccount.objects.get(work_order_id=wo_id)
            entries = CreditEntry.objects.filter(work_order_id=wo_id)
            total = entries.aggregate(s=Sum("amount"))["s"] or 0
            granted = entries.filter(kind="grant").aggregate(s=Sum("amount"))["s"] or 0
            last = (
                entries.order_by("-created_at", "-id")
                .values_list("balance_after", flat=True)
                .first()
            )
            if account.balance < 0 or entries.filter(balance_after__lt=0).exists():
                problems.append(f"work order {wo_id}: negative balance")
            if account.balance != total or account.balance != last:
                problems.append(
                    f"work order {wo_id}: balance {account.balance}, sum of entries {total}, last balance_after {last}"
                )
            # Attempts exceed the funding, so exactly funding // COST must have been accepted.
            done = Redemption.objects.filter(work_order_id=wo_id).count()
            if done != granted // COST or account.balance != granted - done * COST:
                problems.append(
                    f"work order {wo_id}: {done} redemptions on {granted} credits (overspent or lost)"
                )
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--redemptions", type=int, default=800, help="redemption attempts per run (default 800)"
    )
    parser.add_argument(
        "--runs", default="1x1,8x1,8x8", help="clients x balances per run (default 1x1,8x1,8x8)"
    )
    parser.add_argument("--smoke", action="store_true", help="40 redemptions, 1x1 and 2x1 (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.redemptions, args.runs = 40, "1x1,2x1"
    setup_django()
    from django.db import connection

    print(f"PostgreSQL {connection.pg_version}, database {connection.settings_dict['NAME']}")
    print(
        f"{args.redemptions} redemption attempts per run; each balance funded for 90% of its attempts\n"
    )
    print(
        f"{'run (clients x balances)':<26}{'attempts':>9}{'accepted':>10}{'refused':>9}{'seconds':>9}{'redemptions/s':>15}"
    )
    results = []
    for spec in args.runs.split(","):
        clients, balances = (int(x) for x in spec.split("x"))
        r = run(clients, balances, args.redemptions)
        results.append(r)
        print(
            f"{r['run']:<26}{r['attempts']:>9}{r['accepted']:>10}{r['refused']:>9}{r['seconds']:>9.2f}{r['per_second']:>15.1f}"
        )
    problems = check_invariants(results)
    balances = sum(len(r["work_orders"]) for r in results)
    print()
    print(f"invariants over {balances} balances:")
    print(
        f"  no negative balance ............................ {'ok' if not any('negative' in p for p in problems) else 'BROKEN'}"
    )
    print(
        f"  balance == sum of entries == last balance_after  {'ok' if not any('sum of entries' in p for p in problems) else 'BROKEN'}"
    )
    print(
        f"  accepted redemptions == rows written ........... {'ok' if not any('rows written' in p for p in problems) else 'BROKEN'}"
    )
    print(
        f"  exactly funding // cost redeemed per balance ... {'ok' if not any('overspent' in p for p in problems) else 'BROKEN'}"
    )
    print(
        f"  no unexpected errors ........................... {'ok' if not any('unexpected' in p for p in problems) else 'BROKEN'}"
    )
    for p in problems:
        print("  !", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
