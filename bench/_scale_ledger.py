"""The credits and webhooks of the vendor-scale build (bench/_scale_build.py): redemptions,
the ledger with a running balance that never goes negative and the accounts; webhook
subscriptions and their deliveries."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from bench._scale_rows import DAY, Copier, ts


def ledger_rows(load, *, all_wos, services) -> None:
    """Redemptions, ledger entries and credit accounts of every work order."""
    cur, rng, now, today, sizes = load.cur, load.rng, load.now, load.today, load.sizes
    step, next_id = load.step, load.next_id
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
            ts(created),
            ts(created + DAY) if status == "cancelled" else None,
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
            ts(dt.datetime.combine(start, dt.time(8), dt.UTC)),
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
                ts(when),
                "bench" if kind == "adjustment" else "",
                "",
                None,
                None,
                wo_id,
                red,
            )
            n += 1
        cp_a.add(bal, ts(now), wo_id)
    cp_e.flush()
    cp_a.flush()
    step(f"{n:,} ledger entries")


def webhook_rows(load, *, customers) -> None:
    """Webhook subscriptions (a fifth of customers) and their deliveries."""
    cur, rng, now, sizes = load.cur, load.rng, load.now, load.sizes
    step, next_id = load.step, load.next_id
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
                ts(now - 400 * DAY),
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
            ts(when),
            ts(when),
            ts(when) if state == "delivered" else None,
            subs[d % len(subs)],
            0,
        )
    cp.flush()
    step(f"{n_del:,} webhook deliveries")
