"""Writes of service reviews: storing a finished period's review, and the monthly job.

A review of a finished period is computed once and stored (`ServiceReview.figures`);
every later read of it returns the stored figures, so it reads the same next year
whatever is edited in that period afterwards (the change shows in the next review).
Periods that are not finished (the running month, term to date) are computed on each
read and never stored.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.api.serializers import WorkOrderSerializer
from contracts.models import Customer, WorkOrder
from core.actors import person
from core.errors import RuleViolation
from notifications.calendars import customer_calendar, staff_calendar
from notifications.choices import Event, Urgency
from notifications.localize import Reader, contact_reader, localized_notify, staff_reader
from reviews import figures, selectors
from reviews.models import ServiceReview
from reviews.periods import Period, parse_period, previous_month

log = logging.getLogger(__name__)


def review_obtain(
    *,
    actor,
    period: Period,
    work_order: WorkOrder | None = None,
    customer: Customer | None = None,
    today: dt.date | None = None,
) -> tuple[dict, ServiceReview | None]:
    """The figures of a review as the actor may read them, and the stored review if the
    period is finished (stored now if this is its first read).

    `work_order` (read through the door by the caller) for a work order's review;
    `customer` alone for the customer's review across its work orders.
    """
    today = today or selectors.business_today()
    if work_order is not None:
        customer = work_order.customer
    if period.is_finished(today):
        stored = selectors.stored_review(
            customer=customer, work_order=work_order, period_key=period.key
        )
        if stored is None:
            stored = review_store(
                customer=customer, work_order=work_order, period=period, today=today, by=actor
            )
        return stored.figures, stored
    return _compute(
        actor=actor, customer=customer, work_order=work_order, period=period, today=today
    ), None


def _compute(*, actor, customer, work_order, period, today) -> dict:
    if work_order is not None:
        return figures.review_figures(
            work_orders=[work_order],
            customer=customer,
            period=period,
            scope="work_order",
            today=today,
        )
    work_orders = list(
        selectors.work_orders_for_review(actor=actor, customer=customer, period=period)
    )
    return figures.review_figures(
        work_orders=work_orders, customer=customer, period=period, scope="customer", today=today
    )


def review_store(
    *,
    customer: Customer,
    period: Period,
    work_order: WorkOrder | None = None,
    today: dt.date | None = None,
    by=None,
) -> ServiceReview:
    """Store the review of a finished period once; a second call returns the first.

    Computed with staff's view of the customer's data (a stored review is the same for
    everyone who may read it). Refuses a period that is not finished: its figures can
    still change.
    """
    today = today or selectors.business_today()
    if not period.is_finished(today):
        raise RuleViolation(
            _("Only a finished period's review is stored; %(period)s runs until %(end)s.")
            % {"period": period.key, "end": period.end.isoformat()},
            field="period",
        )
    existing = selectors.stored_review(
        customer=customer, work_order=work_order, period_key=period.key
    )
    if existing is not None:
        return existing
    figures = _compute(
        actor=_SYSTEM, customer=customer, work_order=work_order, period=period, today=today
    )
    try:
        with transaction.atomic():
            return ServiceReview.objects.create(
                customer=customer,
                work_order=work_order,
                period_key=period.key,
                period_start=period.start,
                period_end=period.end,
                figures=figures,
                prepared_by=person(by),
            )
    except IntegrityError:
        # Stored meanwhile by another request or the worker (the unique constraints):
        # theirs stands, so everyone reads the same figures.
        return selectors.stored_review(
            customer=customer, work_order=work_order, period_key=period.key
        )


class _System:
    """The worker's view: every customer's data (like staff)."""

    is_authenticated = True
    is_staff = True
    customer_id = None


_SYSTEM = _System()


def _readers(work_order: WorkOrder) -> tuple[list[Reader], dict]:
    """The account manager and the customer's lead contacts, each in their language and zone."""
    readers: list[Reader] = []
    calendars: dict = {}
    manager = work_order.account_manager
    if manager is not None and manager.email:
        readers.append(staff_reader(manager))
        calendars[manager.email] = staff_calendar(manager)
    leads = [
        c
        for c in work_order.contacts.filter(is_lead=True, active=True).select_related("user")
        if c.email
    ]
    if leads:
        calendar = customer_calendar(work_order)
        for contact in leads:
            readers.append(contact_reader(contact, work_order))
            calendars[contact.email] = calendar
    return readers, calendars


def review_notify(*, review: ServiceReview) -> bool:
    """Tell the account manager and the lead contact that the review is ready; once
    (claimed by a conditional UPDATE of `notified_at`). True if this call sent it."""
    with transaction.atomic():
        # Claim before acting: only the call that sets notified_at writes the notices, in
        # the same transaction, so two workers never notify twice.
        claimed = ServiceReview.objects.filter(pk=review.pk, notified_at__isnull=True).update(
            notified_at=timezone.now()
        )
        if not claimed:
            return False
        _notify(review)
    return True


def _notify(review: ServiceReview) -> None:
    work_order = review.work_order
    readers, calendars = _readers(work_order)
    path = reverse("reviews:work_order", args=[work_order.pk]) + f"?period={review.period_key}"
    # Links use the portal's public base URL where one is configured (API.md revision 2).
    link = getattr(settings, "PUBLIC_BASE_URL", "").rstrip("/") + path
    facts = {"number": work_order.number, "period": review.period_key, "link": link}

    def render() -> tuple[str, str]:
        return (
            _("[%(number)s] Service review %(period)s is ready") % facts,
            _(
                "The service review of work order %(number)s for %(period)s is ready: "
                "incidents, response times, credits and hours. Read it or download the PDF: "
                "%(link)s"
            )
            % facts,
        )

    localized_notify(
        readers=readers,
        render=render,
        event=Event.REVIEW_READY,
        key=f"review:{review.pk}:ready",
        customer=work_order.customer,
        calendars=calendars,
        urgency=Urgency.BUSINESS_HOURS,
        payload=_payload(review, link),
    )


def _payload(review: ServiceReview, link: str) -> dict:
    """API.md revision 2: a work-order event carries the work order as its GET returns it,
    with the event's own figures under `detail`."""
    with timezone.override(dt.UTC):  # API.md: timestamps in UTC
        data = dict(WorkOrderSerializer(review.work_order).data)
    figures = review.figures
    data["detail"] = {
        "review": review.pk,
        "period": review.period_key,
        "url": link,
        "incidents": figures["incidents"]["total"],
        "attainment_percent": figures["attainment"]["percent"],
        "breaches": len(figures["breaches"]),
        "credits_redeemed": figures["credits"]["redeemed"],
    }
    return data


def review_prepare(
    *, work_order_id: int, period_key: str, today: dt.date | None = None, by=None
) -> dict:
    """Store one work order's review of a finished month and notify its account manager and
    lead contacts, once. Tolerates the work order being gone. Idempotent: a stored review is
    not recomputed and the notice is claimed once."""
    today = today or selectors.business_today()
    work_order = (
        WorkOrder.objects.filter(pk=work_order_id)
        .select_related("customer", "account_manager", "support_location")
        .first()
    )
    if work_order is None:
        return {"stored": False, "notified": False}
    period = parse_period(
        period_key, term_start=work_order.start_date, term_end=work_order.end_date, today=today
    )
    existed = selectors.stored_review(
        customer=work_order.customer, work_order=work_order, period_key=period.key
    )
    review = existed or review_store(
        customer=work_order.customer, work_order=work_order, period=period, today=today, by=by
    )
    return {"stored": existed is None, "notified": review_notify(review=review)}


def reviews_prepare_month(
    *, month: str | None = None, today: dt.date | None = None, by=None
) -> dict:
    """A month's reviews of every work order that ran in it, in this process: the catch-up
    command (`manage.py prepare_reviews --month 2026-03`) when the monthly job was missed.
    The worker fans the same out as one task per work order (reviews.tasks).

    Idempotent; one work order's failure does not stop the rest.
    """
    today = today or selectors.business_today()
    period = previous_month(today) if month is None else _month(month, today)
    result = {"period": period.key, "stored": 0, "notified": 0, "failed": 0}
    for work_order_id in selectors.month_review_candidates(period=period):
        try:
            done = review_prepare(
                work_order_id=work_order_id, period_key=period.key, today=today, by=by
            )
        except Exception:  # one work order's bad data must not stop the month's reviews
            log.exception("review of work order %s %s failed", work_order_id, period.key)
            result["failed"] += 1
            continue
        result["stored"] += done["stored"]
        result["notified"] += done["notified"]
    return result


def _month(key: str, today: dt.date) -> Period:
    period = parse_period(key, term_start=today, term_end=today, today=today)
    if period.kind != "month":
        raise RuleViolation(_("Name a month, e.g. 2026-03."), field="month")
    if not period.is_finished(today):
        raise RuleViolation(
            _("Only a finished period's review is stored; %(period)s runs until %(end)s.")
            % {"period": period.key, "end": period.end.isoformat()},
            field="month",
        )
    return period
