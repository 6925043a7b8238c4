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
"""

from __future__ import annotations

import bisect
import datetime as dt
import io
import json
import random
import time

FULL = {
    "customers": 5_000,
    "work_orders": 15_000,
    "contacts": 150_000,
    "incidents": 3_000_000,
    "open_incidents": 50_000,
    "ledger_entries": 1_000_000,
    "redemptions": 300_000,
    "webhook_deliveries": 200_000,
    "account_managers": 40,
}
BIG_TABLES = [
    "incidents_incident",
    "incidents_historicalincident",
    "incidents_incidentevent",
    "credits_creditentry",
    "credits_redemption",
    "notifications_webhookdelivery",
    "contracts_namedcontact",
]
DAY = dt.timedelta(days=1)
SEED = 20


def sizes_for(factor: float) -> dict[str, int]:
    s = {k: max(1, round(v * factor)) for k, v in FULL.items()}
    s["customers"] = max(s["customers"], 5)
    s["work_orders"] = max(s["work_orders"], 3 * s["customers"])
    s["account_managers"] = max(2, s["account_managers"])
    s["contacts"] = max(s["contacts"], 2 * s["work_orders"])
    s["open_incidents"] = min(s["open_incidents"], s["incidents"] // 2)
    return s


def _ts(value: dt.datetime) -> str:
    return value.isoformat()


#: A placeholder per type for NOT NULL columns a Copier does not name (columns added by
#: later issues: updated_at, version, ...), so the build keeps up with the schema.
PLACEHOLDER = {
    "timestamp with time zone": "now()",
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "boolean": "false",
    "character varying": "''",
    "text": "''",
    "jsonb": "'{}'::jsonb",
    "date": "current_date",
}
_placeheld: list[tuple[str, str]] = []


def _hold_missing(cursor, table: str, columns: list[str]) -> None:
    """Give the NOT NULL columns of `table` that `columns` leave out, and that have no
    default, a placeholder default for the load (dropped again by _release_missing)."""
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
            WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
              AND is_identity = 'NO' AND NOT (column_name = ANY(%s))""",
        [table, columns],
    )
    for column, data_type in cursor.fetchall():
        if column == "id" or data_type not in PLACEHOLDER:
            continue
        cursor.execute(
            f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {PLACEHOLDER[data_type]}'
        )
        _placeheld.append((table, column))


def _release_missing(cursor) -> None:
    while _placeheld:
        table, column = _placeheld.pop()
        cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


def _has_column(cursor, table: str, column: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
        [table, column],
    )
    return cursor.fetchone() is not None


class Copier:
    def __init__(self, cursor, table: str, columns: list[str]):
        self.cursor, self.table, self.columns = cursor, table, columns
        _hold_missing(cursor, table, columns)
        self.buf = io.StringIO()
        self.rows = 0

    def add(self, *values) -> None:
        self.buf.write("\t".join("\\N" if v is None else str(v) for v in values))
        self.buf.write("\n")
        self.rows += 1
        if self.rows % 50_000 == 0:
            self.flush()

    def flush(self) -> None:
        self.buf.seek(0)
        self.cursor.copy_expert(
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buf
        )
        self.buf = io.StringIO()


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

    from accounts.models import User
    from contracts.models import Customer, WorkOrder
    from incidents.models import ResponseTarget
    from services.models import Service

    sizes = sizes_for(factor)
    rng = random.Random(SEED)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    today = now.date()
    started = time.perf_counter()

    def step(msg):
        log(f"  [{time.perf_counter() - started:7.1f} s] {msg}", flush=True)

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
        cur.execute("SET LOCAL synchronous_commit = off")
        cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
        # The generated rows are consistent by construction: skip the per-row foreign-key
        # triggers (a lookup per key per row) for the load; restored at commit (LOCAL).
        cur.execute("SET LOCAL session_replication_role = replica")
        dropped = _secondary_indexes(cur, BIG_TABLES)
        for name, _ in dropped:
            cur.execute(f'DROP INDEX "{name}"')

        def next_id(table):
            cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
            return cur.fetchone()[0] + 1

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
                _ts(now),
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
                _ts(now - 1100 * DAY),
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
                    _ts(now),
                    _ts(now),
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
                        _ts(now - 400 * DAY),
                        None,
                        wo_id,
                    )
                    n += 1
        cp.flush()
        step(f"{n:,} named contacts")

        # Incidents: chronological ids over three years; customers drawn with weight 1/(rank+10).
        weights = [1 / (r + 10) for r in range(len(customers))]
        cum = []
        total = 0.0
        for w in weights:
            total += w
            cum.append(total)
        n_inc = sizes["incidents"]
        span = 1095 * 24 * 3600
        window = max(1, min(n_inc, int(n_inc * 30 / 1095) or 1))  # the last 30 days
        open_idx = set(
            rng.sample(range(n_inc - window, n_inc), min(sizes["open_incidents"], window))
        )
        iid = next_id("incidents_incident")
        first_incident_id = iid
        inc_cols = (
            "id number title description severity product is_cloud around_the_clock is_advisory "
            "advisory_minutes external_reference status channel opened_at target_minutes target_clock "
            "target_rule response_due_at response_warning_at responded_at response_breached "
            "next_deadline_at version created_at updated_at contact_id opened_by_id responded_by_id "
            "work_order_id target_id language"
        ).split()
        # Issue #20's stored customer (incidents 0011), when the schema has it yet: a
        # database built before that migration gets it from the migration's backfill.
        with_customer = _has_column(cur, "incidents_incident", "customer_id")
        if with_customer:
            inc_cols.append("customer_id")
        cp = Copier(cur, "incidents_incident", inc_cols)
        products = ["Exchange Online", "SQL Server", "Intune", "Azure", "Windows Server", "Teams"]
        titles = [
            "Mail flow delayed",
            "Cluster does not come online",
            "Enrolment fails",
            "Slow queries after patching",
            "Sign-in errors",
            "Backup job fails",
        ]
        open_statuses = ["new", "responded", "in_progress", "awaiting_customer"]
        start_ts = now.timestamp() - span
        open_count = 0
        for i in range(n_inc):
            opened = dt.datetime.fromtimestamp(
                start_ts + (i + rng.random()) * span / n_inc, dt.UTC
            ).replace(microsecond=0)
            if opened > now - dt.timedelta(minutes=5):
                opened = now - dt.timedelta(minutes=5)
            c_idx = bisect.bisect_left(cum, rng.random() * total)
            c_id, code, lang, _ = customers[min(c_idx, len(customers) - 1)]
            ws = wos[c_id]
            od = opened.date()
            if od < ws[0][3] or od <= ws[0][3]:
                wo = ws[0]
            elif len(ws) > 2 and od >= ws[2][2] and rng.random() < 0.5:
                wo = ws[2]
            else:
                wo = ws[1]
            wo_id, package = wo[0], wo[1]
            severity = "critical" if rng.random() < 0.08 else "normal"
            t = targets[(package, severity)]
            due = opened + dt.timedelta(
                minutes=t.minutes * (3 if t.clock == "business_hours" else 1)
            )
            warning = due - dt.timedelta(minutes=t.minutes // 4)
            is_open = i in open_idx
            if is_open:
                open_count += 1
                status = open_statuses[i % 4]
                if status == "new":
                    responded = None
                    if due < now:  # keep the sweep's "nothing due" state: deadlines ahead
                        due = now + dt.timedelta(minutes=30 + i % 600)
                        warning = due - dt.timedelta(minutes=15)
                    next_deadline = warning
                else:
                    responded = min(opened + dt.timedelta(minutes=t.minutes // 2), now)
                    next_deadline = None
            else:
                status = "closed" if rng.random() < 0.7 else "resolved"
                responded = opened + dt.timedelta(minutes=rng.randrange(5, t.minutes * 4))
                next_deadline = None
            breached = responded is not None and responded > due
            api = rng.random() < 0.3
            num = iid + i
            updated = responded or opened
            cp.add(
                num,
                f"INC-S{num:08d}",
                f"{titles[i % 6]} ({i})",
                "",
                severity,
                products[i % 6],
                "t" if i % 5 == 0 else "f",
                "f",
                "f",
                0,
                f"TT-{num}" if api else "",
                status,
                "api" if api else "web",
                _ts(opened),
                t.minutes,
                t.clock,
                f"R4 {package} {severity}",
                _ts(due),
                _ts(warning),
                responded and _ts(responded),
                "t" if breached else "f",
                next_deadline and _ts(next_deadline),
                1,
                _ts(opened),
                _ts(updated),
                contact_base[wo_id] + i % per_wo,
                None,
                manager.pk if responded else None,
                wo_id,
                t.pk,
                lang,
                *([c_id] if with_customer else []),
            )
        cp.flush()
        step(f"{n_inc:,} incidents ({open_count:,} open)")

        hist_cols = [c for c in inc_cols if c != "id"]
        cur.execute(
            f"""INSERT INTO incidents_historicalincident (id, {", ".join(hist_cols)},
                    history_date, history_type, history_user_id)
                SELECT id, {", ".join(hist_cols)}, created_at, '+', NULL
                  FROM incidents_incident WHERE id >= %s""",
            [first_incident_id],
        )
        step(f"{cur.rowcount:,} history rows")
        cur.execute(
            """INSERT INTO incidents_incidentevent
                   (incident_id, kind, author_label, from_customer, body, data, created_at, author_id)
               SELECT id, 'created', 'customer', true, '', '{}'::jsonb, opened_at, NULL
                 FROM incidents_incident WHERE id >= %(first)s
               UNION ALL
               SELECT id, 'comment', 'staff', false, 'We are looking into it.', '{}',
                      coalesce(responded_at, opened_at) + interval '1 minute', %(am)s
                 FROM incidents_incident WHERE id >= %(first)s AND id %% 3 = 0
               UNION ALL
               SELECT id, 'status', 'staff', false, '', jsonb_build_object('to', status),
                      coalesce(responded_at, opened_at) + interval '2 hours', %(am)s
                 FROM incidents_incident WHERE id >= %(first)s AND status IN ('resolved', 'closed')""",
            {"first": first_incident_id, "am": manager.pk},
        )
        step(f"{cur.rowcount:,} timeline events")

        # Redemptions and the ledger: per work order a grant, then redemptions (refunded
        # when cancelled) and adjustments, with a running balance that never goes negative.
        rid = next_id("credits_redemption")
        cp_r = Copier(
            cur,
            "credits_redemption",
            "id quantity scheduled_for delivery_mode credits_per_unit credits status "
            "travel_expenses_billable idempotency_key request_fingerprint created_at "
            "cancelled_at cancellation_reason version service_id work_order_id delivered_on".split(),
        )
        plan = {w[0]: [] for w in all_wos}  # wo -> [(time, kind, amount, redemption id)]
        wo_ids = [w[0] for w in all_wos]
        term = {w[0]: (w[2], w[3]) for w in all_wos}
        for r in range(sizes["redemptions"]):
            wo_id = wo_ids[(r * 7919) % len(wo_ids)]
            start, end = term[wo_id]
            created = dt.datetime.combine(start, dt.time(10), dt.UTC) + dt.timedelta(
                minutes=rng.randrange(0, max(1, (min(end, today) - start).days) * 1440)
            )
            qty = rng.randrange(1, 10)
            credits = qty * 12
            status = (
                "cancelled"
                if r % 10 == 0
                else ("delivered" if created.date() < today - 30 * DAY else "scheduled")
            )
            sched = min(created.date() + 30 * DAY, end)
            cp_r.add(
                rid + r,
                qty,
                sched,
                "per_participant",
                "12.0000",
                credits,
                status,
                "f",
                "",
                "",
                _ts(created),
                _ts(created + DAY) if status == "cancelled" else None,
                "",
                1,
                services["workshops"].pk,
                wo_id,
                sched if status == "delivered" else None,
            )
            plan[wo_id].append((created, "redemption", -credits, rid + r))
            if status == "cancelled":
                plan[wo_id].append((created + DAY, "refund", credits, rid + r))
        cp_r.flush()
        step(f"{sizes['redemptions']:,} redemptions")
        used = sum(len(v) for v in plan.values()) + len(plan)
        extra = max(0, sizes["ledger_entries"] - used)
        for e in range(extra):
            wo_id = wo_ids[(e * 104729) % len(wo_ids)]
            start, end = term[wo_id]
            when = dt.datetime.combine(start, dt.time(12), dt.UTC) + dt.timedelta(
                minutes=rng.randrange(0, max(1, (min(end, today) - start).days) * 1440)
            )
            plan[wo_id].append((when, "adjustment", rng.choice([-5, 5, 10, -10]), None))
        eid = next_id("credits_creditentry")
        cp_e = Copier(
            cur,
            "credits_creditentry",
            "id kind amount balance_after created_at reason reference created_by_id line_id "
            "work_order_id redemption_id".split(),
        )
        cp_a = Copier(cur, "credits_creditaccount", "balance updated_at work_order_id".split())
        n = 0
        for wo_id, items in plan.items():
            items.sort(key=lambda x: x[0])
            need = 0
            bal = 0
            for _, _, amount, _ in items:
                bal += amount
                need = max(need, -bal)
            grant = need + 500
            start = term[wo_id][0]
            bal = grant
            cp_e.add(
                eid + n,
                "grant",
                grant,
                bal,
                _ts(dt.datetime.combine(start, dt.time(8), dt.UTC)),
                "",
                "",
                None,
                None,
                wo_id,
                None,
            )
            n += 1
            for when, kind, amount, red in items:
                bal += amount
                cp_e.add(
                    eid + n,
                    kind,
                    amount,
                    bal,
                    _ts(when),
                    "bench" if kind == "adjustment" else "",
                    "",
                    None,
                    None,
                    wo_id,
                    red,
                )
                n += 1
            cp_a.add(bal, _ts(now), wo_id)
        cp_e.flush()
        cp_a.flush()
        step(f"{n:,} ledger entries")

        # Webhooks: a fifth of customers subscribe; deliveries spread over them.
        sid = next_id("notifications_webhooksubscription")
        cp = Copier(
            cur,
            "notifications_webhooksubscription",
            "id url events secret active created_at customer_id".split(),
        )
        subs = []
        for j, (c_id, code, _, _) in enumerate(customers):
            if j % 5 == 0:
                cp.add(
                    sid + len(subs),
                    f"https://hooks.{code}.example/portal",
                    '["incident.created"]',
                    "s3cret",
                    "t",
                    _ts(now - 400 * DAY),
                    c_id,
                )
                subs.append(sid + len(subs))
        cp.flush()
        cp = Copier(
            cur,
            "notifications_webhookdelivery",
            "delivery_id event payload state attempts next_attempt_at created_at delivered_at "
            "subscription_id window_failures".split(),
        )
        import uuid

        n_del = sizes["webhook_deliveries"]
        for d in range(n_del):
            when = now - dt.timedelta(seconds=(n_del - d) * 400 // max(1, n_del // 1000))
            state = "delivered" if d % 50 else "gave_up"
            cp.add(
                uuid.UUID(int=rng.getrandbits(128), version=4),
                "incident.created",
                json.dumps({"event": "incident.created", "n": d}),
                state,
                1 if state == "delivered" else 12,
                _ts(when),
                _ts(when),
                _ts(when) if state == "delivered" else None,
                subs[d % len(subs)],
                0,
            )
        cp.flush()
        step(f"{n_del:,} webhook deliveries")

        _release_missing(cur)
        for _name, definition in dropped:
            cur.execute(definition)
        step(f"rebuilt {len(dropped)} indexes")
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
    _ = WorkOrder  # imported for the reader: the rows above are WorkOrder rows
    return sizes


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
