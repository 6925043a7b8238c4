"""The incidents of the vendor-scale build (bench/_scale_build.py): three years of them,
COPY-streamed, then their audit-history rows and timeline events written by PostgreSQL
from the copied rows (INSERT ... SELECT)."""

from __future__ import annotations

import bisect
import datetime as dt

from bench._scale_rows import Copier, has_column, ts


def incident_rows(load, *, customers, wos, contact_base, per_wo, targets, manager) -> None:
    """Incidents over three years (customers drawn with weight 1/(rank+10)), history, timeline."""
    cur, rng, now, sizes = load.cur, load.rng, load.now, load.sizes
    step, next_id = load.step, load.next_id
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
    open_idx = set(rng.sample(range(n_inc - window, n_inc), min(sizes["open_incidents"], window)))
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
    with_customer = has_column(cur, "incidents_incident", "customer_id")
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
        due = opened + dt.timedelta(minutes=t.minutes * (3 if t.clock == "business_hours" else 1))
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
            ts(opened),
            t.minutes,
            t.clock,
            f"R4 {package} {severity}",
            ts(due),
            ts(warning),
            responded and ts(responded),
            "t" if breached else "f",
            next_deadline and ts(next_deadline),
            1,
            ts(opened),
            ts(updated),
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
