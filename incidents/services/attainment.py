"""The precomputed first-response attainment per work order and month (issue #20)."""

import datetime as dt

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from incidents.models import AttainmentMonth, Incident


def month_starts(months: int, today: dt.date) -> list[dt.date]:
    """The first days of the last `months` months, oldest first."""
    first = today.replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - dt.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def attainment_refresh(*, months: int = 6, today: dt.date | None = None, now=None) -> int:
    """Recompute met/missed per work order for the last `months` months (one grouped query
    over those months' incidents through incident_list_opened_idx) and replace the rows.
    Met: answered by the due time; missed: flagged breached, answered late, or unanswered
    past the due time (as of `now`). Returns the rows written."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    starts = month_starts(months, today)
    since = timezone.make_aware(dt.datetime.combine(starts[0], dt.time.min))
    rows = (
        Incident.objects.filter(opened_at__gte=since)
        .annotate(month=TruncMonth("opened_at"))
        .values("month", "customer_id", "work_order_id")
        .annotate(
            met=Count(
                "id", filter=Q(responded_at__isnull=False, responded_at__lte=F("response_due_at"))
            ),
            missed=Count(
                "id",
                filter=Q(response_breached=True)
                | Q(responded_at__gt=F("response_due_at"))
                | Q(responded_at__isnull=True, response_due_at__lt=now),
            ),
        )
    )
    objs = [
        AttainmentMonth(
            customer_id=r["customer_id"],
            work_order_id=r["work_order_id"],
            month=r["month"].date() if hasattr(r["month"], "date") else r["month"],
            met=r["met"],
            missed=r["missed"],
            refreshed_at=now,
        )
        for r in rows
    ]
    with transaction.atomic():
        AttainmentMonth.objects.filter(month__gte=starts[0]).delete()
        AttainmentMonth.objects.bulk_create(objs, batch_size=2000)
    return len(objs)
