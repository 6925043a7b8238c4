"""The staff ops page (/ops/): what the background work is doing.

Recent sweep runs (notifications.SweepRun), the outbox backlog (pending messages and
the age of the oldest) and recent webhook deliveries with their state, plus the same
dependency checks as /healthz. Read-only: every staff role may look.
"""

from django.db import connection
from django.db.models import Count, Min
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import staff_required
from core.pagination import COUNT_CAP
from incidents.selectors import sweep_health
from notifications.choices import DeliveryState, OutboxState
from notifications.models import OutboxMessage, SweepRun, WebhookDelivery
from portal.health import run_checks

RECENT = 25


def outbox_backlog(now=None) -> dict:
    """Pending outbox messages: how many, per channel, and how old the oldest is."""
    now = now or timezone.now()
    pending = OutboxMessage.objects.filter(state=OutboxState.PENDING)
    summary = pending.aggregate(count=Count("id"), oldest=Min("created_at"))
    due = pending.filter(deliver_after__lte=now).count()
    oldest = summary["oldest"]
    return {
        "pending": summary["count"],
        "due": due,
        "oldest_at": oldest,
        "oldest_age_seconds": round((now - oldest).total_seconds()) if oldest else None,
        "by_channel": dict(
            pending.values_list("channel").annotate(n=Count("id")).order_by("channel")
        ),
        "failed": OutboxMessage.objects.filter(state=OutboxState.FAILED).count(),
    }


@staff_required
def ops_dashboard(request):
    healthy, checks = run_checks()
    deliveries = WebhookDelivery.objects.select_related(
        "subscription", "subscription__customer"
    ).order_by("-created_at")[:RECENT]
    # Per state in one statement: the undelivered states exactly (few rows, on
    # webhook_delivery_ops_state_idx), delivered counted up to COUNT_CAP + 1 (a GROUP BY
    # over every delivery ever made cost 0.26 s at 200,000; issue #20).
    table = WebhookDelivery._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT state, count(*) FROM {table} WHERE state <> %s GROUP BY state "
            f"UNION ALL SELECT %s, count(*) FROM "
            f"(SELECT 1 FROM {table} WHERE state = %s LIMIT %s) AS delivered",
            [
                DeliveryState.DELIVERED,
                DeliveryState.DELIVERED,
                DeliveryState.DELIVERED,
                COUNT_CAP + 1,
            ],
        )
        delivery_states = dict(cursor.fetchall())
    context = {
        "healthy": healthy,
        "checks": checks,
        "sweeps": SweepRun.objects.order_by("-started_at")[:RECENT],
        "backlog": outbox_backlog(),
        "deliveries": deliveries,
        "delivery_states": [
            (label, delivery_states.get(value, 0)) for value, label in DeliveryState.choices
        ],
        "deadline_sweep": sweep_health(),
        "nav_section": "ops",
    }
    return render(request, "ops/index.html", context)
