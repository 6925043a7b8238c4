"""Builds the vendor-scale data set of issue #20 with COPY (imported by bench/scale.py).

The base rows (customers, locations, work orders, lines, contacts, incidents, redemptions,
ledger entries, webhook subscriptions and deliveries) are generated here and streamed with
COPY; the derived rows (each incident's audit-history row and its timeline events) are
written by PostgreSQL from the copied incidents with INSERT ... SELECT, which sends nothing
over the wire twice. Secondary indexes of the big tables are dropped before the load and
built once after it. Deterministic (a fixed seed): two builds at one factor are the same.

Shape at --factor 1 (the issue): 5,000 customers, 15,000 work orders (a third expired),
150,000 named contacts, 3,000,000 incidents (50,000 open, the rest resolved or closed over
three years), their history and timeline rows, 1,000,000 ledger entries, 300,000
redemptions, 200,000 webhook deliveries. The demo data set (seed_demo: its logins and
passwords) is loaded first; Acme is the largest customer.

The parts, in the order they draw from the one seeded generator: contract_rows here
(account managers, customers, locations, work orders, named contacts),
bench/_scale_incidents.py (incidents, history, timeline) and bench/_scale_ledger.py
(redemptions, ledger, accounts; webhooks); bench/_scale_rows.py holds what they share
(sizes, the COPY writer, the load's state).
"""

from __future__ import annotations

import json


def _secondary_indexes(cursor, tables: list[str]) -> list[tuple[str, str]]:
    """(name, definition) of the indexes of `tables` that back no constraint."""
    cursor.execute(
        """
        SELECT i.relname, pg_get_indexdef(i.oid)
          FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
          JOIN pg_class t ON t.oid = x.indrelid
         WHERE t.relname = ANY(%s)
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.oid)
        """,
        [tables],
    )
    return cursor.fetchall()


def build(factor: float, log=print) -> dict:
    """Fill the (migrated, demo-seeded) database Django is connected to. Returns the counts."""
    from django.db import connection, transaction

    # Imported here: run as a script, the repository root is on sys.path only once main()
    # has put it there.
    from accounts.models import User
    from bench._scale_incidents import incident_rows
    from bench._scale_ledger import ledger_rows, webhook_rows
    from bench._scale_rows import BIG_TABLES, Load, release_missing, sizes_for
    from contracts.models import Customer
    from incidents.models import ResponseTarget
    from services.models import Service

    sizes = sizes_for(factor)
    targets = {
        (t.package, t.severity): t for t in ResponseTarget.objects.filter(rapid_response=False)
    }
    services = {
        s.code: s for s in Service.objects.filter(code__in=["proactive-credits", "workshops"])
    }
    manager = User.objects.get(username="manager")
    demo = {c.code: c for c in Customer.objects.filter(code__in=["acme", "globex", "initech"])}

    with transaction.atomic(), connection.cursor() as django_cursor:
        cur = django_cursor.cursor  # psycopg2: copy_expert
        load = Load(cur=cur, sizes=sizes, log=log)
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # The generated rows are consistent by construction: skip the per-row foreign-key
        # triggers (a lookup per key per row) for the load; restored at commit (LOCAL).
        cur.execute("SET LOCAL session_replication_role = replica")
        dropped = _secondary_indexes(cur, BIG_TABLES)
        for name, _ in dropped:
            cur.execute(f'DROP INDEX "{name}"')

        # The parts in a fixed order: each draws from the one seeded generator.
        customers, wos, all_wos, contact_base, per_wo = contract_rows(
            load, manager=manager, demo=demo
        )
        incident_rows(
            load,
            customers=customers,
            wos=wos,
            contact_base=contact_base,
            per_wo=per_wo,
            targets=targets,
            manager=manager,
        )
        ledger_rows(load, all_wos=all_wos, services=services)
        webhook_rows(load, customers=customers)

        release_missing(cur)
        for _name, definition in dropped:
            cur.execute(definition)
        load.step(f"rebuilt {len(dropped)} indexes")
        cur.execute(
            "SELECT c.relname FROM pg_class c WHERE c.relkind = 'S' AND c.relname LIKE '%%_id_seq'"
        )
        for (seq,) in cur.fetchall():
            table = seq[: -len("_id_seq")]
            cur.execute("SELECT to_regclass(%s)", [table])
            if cur.fetchone()[0]:
                cur.execute(f"SELECT setval('{seq}', coalesce((SELECT max(id) FROM {table}), 1))")
        cur.execute(
            "SELECT setval('incidents_historicalincident_history_id_seq', "
            "(SELECT max(history_id) FROM incidents_historicalincident))"
        )
    return sizes


def contract_rows(load, *, manager, demo):
    """Account managers, customers, locations, work orders and named contacts.

    Returns (customers, wos, all_wos, contact_base, per_wo) for the parts that follow."""
    from bench._scale_rows import DAY, Copier, ts

    cur, now, today, sizes = load.cur, load.now, load.today, load.sizes
    step, next_id = load.step, load.next_id
    # Staff: account managers (the demo `manager` is one of them).
    uid = next_id("accounts_user")
    cp = Copier(
        cur,
        "accounts_user",
        "id password is_superuser username first_name last_name email is_staff is_active "
        "date_joined role language time_zone".split(),
    )
    am_ids = [manager.pk]
    for i in range(sizes["account_managers"] - 1):
        cp.add(
            uid + i,
            "!",
            "f",
            f"am{i:03d}",
            "",
            "",
            f"am{i:03d}@vendor.example",
            "t",
            "t",
            ts(now),
            "account_manager",
            "",
            "",
        )
        am_ids.append(uid + i)
    cp.flush()

    # Customers: demo ones first (Acme rank 0: the largest), then generated ones.
    n_gen = sizes["customers"] - len(demo)
    cid = next_id("contracts_customer")
    cp = Copier(
        cur, "contracts_customer", "id code name country timezone language created_at".split()
    )
    customers = []  # (id, code, language, is_demo)
    for code in ["acme"]:
        customers.append((demo[code].pk, code, demo[code].language, True))
    for i in range(n_gen):
        nl = i % 3 == 0
        code = f"v{i:05d}"
        cp.add(
            cid + i,
            code,
            f"Vendor customer {i:05d} {'BV' if nl else 'Inc'}",
            "NL" if nl else "US",
            "Europe/Amsterdam" if nl else "America/New_York",
            "nl" if nl else "en",
            ts(now - 1100 * DAY),
        )
        customers.append((cid + i, code, "nl" if nl else "en", False))
        if i in (6, 40):  # the other demo customers: a large and a middling one
            code = "globex" if i == 6 else "initech"
            customers.append((demo[code].pk, code, demo[code].language, True))
    for code in ("globex", "initech"):
        if not any(c[1] == code for c in customers):
            customers.append((demo[code].pk, code, demo[code].language, True))
    cp.flush()
    step(f"{len(customers):,} customers")

    lid = next_id("contracts_supportlocation")
    cp = Copier(
        cur,
        "contracts_supportlocation",
        "id customer_id name country subdivision timezone opens_at closes_at weekdays calendar_version".split(),
    )
    location_of = {}
    for j, (c_id, _code, lang, is_demo) in enumerate(customers):
        if is_demo:
            location_of[c_id] = None
            continue
        nl = lang == "nl"
        cp.add(
            lid + j,
            c_id,
            "HQ",
            "NL" if nl else "US",
            "",
            "Europe/Amsterdam" if nl else "America/New_York",
            "09:00",
            "17:30",
            "0,1,2,3,4",
            1,
        )
        location_of[c_id] = lid + j
    cp.flush()

    # Work orders: three per customer, one of them expired (a third of all).
    per_customer = sizes["work_orders"] // len(customers)
    woid = next_id("contracts_workorder")
    cp = Copier(
        cur,
        "contracts_workorder",
        "id number package start_date end_date named_contact_limit cancellation_fee_percent "
        "deployment_docs_on_file products notes version created_at updated_at account_manager_id "
        "customer_id support_location_id cloud_subscription_active".split(),
    )
    wos = {}  # customer id -> [(wo id, package, start, end)]
    packages = ["core", "advanced", "performance"]
    n = 0
    for j, (c_id, code, _lang, _demo) in enumerate(customers):
        package = "advanced" if code == "acme" else packages[j % 3]
        am = manager.pk if code == "acme" else am_ids[j % len(am_ids)]
        terms = [
            (today - 1095 * DAY, today - 366 * DAY),
            (today - 365 * DAY, today + 365 * DAY),
        ]
        terms += [(today - 180 * DAY, today + 550 * DAY)] * (per_customer - 2)
        wos[c_id] = []
        for _k, (start, end) in enumerate(terms):
            cp.add(
                woid + n,
                f"WO-S{woid + n:06d}",
                package,
                start,
                end,
                None,
                "100",
                "f",
                "",
                "",
                1,
                ts(now),
                ts(now),
                am,
                c_id,
                location_of[c_id],
                "f",
            )
            wos[c_id].append((woid + n, package, start, end))
            n += 1
    cp.flush()
    all_wos = [w for ws in wos.values() for w in ws]
    step(f"{len(all_wos):,} work orders")

    # Named contacts: the same number on each work order.
    per_wo = max(1, sizes["contacts"] // len(all_wos))
    ncid = next_id("contracts_namedcontact")
    cp = Copier(
        cur,
        "contracts_namedcontact",
        "id name email phone active is_lead version created_at user_id work_order_id".split(),
    )
    contact_base = {}
    code_of = {c[0]: c[1] for c in customers}
    n = 0
    for c_id, ws in wos.items():
        for wo_id, *_ in ws:
            contact_base[wo_id] = ncid + n
            for k in range(per_wo):
                cp.add(
                    ncid + n,
                    f"Person {k}",
                    f"p{wo_id}-{k}@{code_of[c_id]}.example",
                    "",
                    "t",
                    "t" if k == 0 else "f",
                    1,
                    ts(now - 400 * DAY),
                    None,
                    wo_id,
                )
                n += 1
    cp.flush()
    step(f"{n:,} named contacts")
    return (customers, wos, all_wos, contact_base, per_wo)


def main(argv: list[str]) -> None:
    """`python bench/_scale_build.py DATABASE_URL FACTOR`: fill a migrated, demo-seeded database."""
    import os
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    os.environ["DATABASE_URL"] = argv[0]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("LOG_FORMAT", "plain")
    import django

    django.setup()
    sizes = build(float(argv[1]))
    print(json.dumps(sizes))


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
