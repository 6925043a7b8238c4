from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.scoping import scoped_queryset


class ServiceReview(models.Model):
    """The stored review of a finished period: its figures as they read when it was made.

    A finished period's review is kept, never recomputed (issue #21): an incident or a
    ledger entry of that period edited later changes the next review, not this one.
    `work_order` is null for a customer's review across its work orders.
    """

    customer = models.ForeignKey(
        "contracts.Customer", on_delete=models.CASCADE, related_name="service_reviews"
    )
    work_order = models.ForeignKey(
        "contracts.WorkOrder",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="service_reviews",
    )
    #: `2026-09`, `2026-Q3` or `term` (reviews.periods)
    period_key = models.CharField(max_length=16)
    period_start = models.DateField()
    period_end = models.DateField()
    #: reviews.figures.review_figures as JSON, with its `schema` version inside.
    figures = models.JSONField()
    prepared_at = models.DateTimeField(default=timezone.now)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    #: When the account manager and the lead contact were told (the monthly job, once).
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        ordering = ["-period_start", "period_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order", "period_key"],
                condition=Q(work_order__isnull=False),
                name="review_once_per_work_order_period",
            ),
            models.UniqueConstraint(
                fields=["customer", "period_key"],
                condition=Q(work_order__isnull=True),
                name="review_once_per_customer_period",
            ),
        ]

    def __str__(self) -> str:
        what = self.work_order.number if self.work_order_id else self.customer.code
        return f"Review {what} {self.period_key}"
