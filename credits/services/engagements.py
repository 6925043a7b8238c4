"""Consulting engagements (seed §3.2, §3.3; R27): a statement of work with milestones and
a fixed price, paid in credits (one ledger entry) or in hours of an hour block (R11)."""

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from contracts.times import work_order_today
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import EntryKind
from credits.models import ConsultingEngagement, EngagementMilestone
from credits.services.common import require_editor
from credits.services.hours import time_entry_record
from services.choices import Category


def _milestones(milestones, work_order) -> list[tuple[str, dt.date]]:
    out = []
    for m in milestones or []:
        name = (m.get("name") or "").strip()
        due = m.get("due_on")
        if isinstance(due, str):
            try:
                due = dt.date.fromisoformat(due)
            except ValueError:
                due = None
        if not name or not isinstance(due, dt.date):
            raise RuleViolation(
                _("Every milestone needs a name and a due date."), field="milestones"
            )
        if not work_order.start_date <= due <= work_order.end_date:
            raise RuleViolation(
                _("R14: milestone %(name)s falls outside the term.") % {"name": name},
                rule="R14",
                field="milestones",
            )
        out.append((name[:200], due))
    if not out:
        raise RuleViolation(
            _("A statement of work names at least one milestone."), field="milestones"
        )
    return out


def consulting_engagement_create(
    *,
    work_order,
    service,
    sow_reference: str,
    title: str,
    milestones,
    price_credits: int | None = None,
    price_hours=None,
    by,
) -> ConsultingEngagement:
    """Record a consulting engagement and pay its fixed price: credits leave the balance
    (never below zero, R10) or hours leave the service's own hour block (R11, R26)."""
    require_editor(by, rule="R27", what=_("record a consulting engagement"))
    if service.category != Category.CONSULTING:
        raise RuleViolation(
            _("%(service)s is not a consulting service.") % {"service": service.name},
            field="service",
        )
    sow_reference = (sow_reference or "").strip()
    if not sow_reference:
        raise RuleViolation(
            _("A consulting engagement needs its statement of work's reference."),
            field="sow_reference",
        )
    if not (title or "").strip():
        raise RuleViolation(_("Give the engagement a title."), field="title")
    if (price_credits is None) == (price_hours is None):
        raise RuleViolation(
            _("Give the fixed price either in credits or in hours."), field="price_credits"
        )
    if price_credits is not None and (int(price_credits) != price_credits or price_credits <= 0):
        raise RuleViolation(
            _("The price is a positive whole number of credits."), field="price_credits"
        )
    if price_hours is not None:
        try:
            price_hours = Decimal(str(price_hours))
        except InvalidOperation as exc:
            raise RuleViolation(
                _("The price in hours must be a number."), field="price_hours"
            ) from exc
        if price_hours <= 0:
            raise RuleViolation(_("The price in hours must be positive."), field="price_hours")
    if work_order.terminated_at is not None or not (
        work_order.start_date <= work_order_today(work_order) <= work_order.end_date
    ):
        raise RuleViolation(_("R14: engagements are recorded during the term."), rule="R14")
    planned = _milestones(milestones, work_order)
    with transaction.atomic():
        engagement = ConsultingEngagement(
            work_order=work_order,
            service=service,
            sow_reference=sow_reference[:200],
            title=title.strip()[:200],
            price_credits=price_credits,
            price_hours=price_hours,
            created_by=author(by),
        )
        if price_credits is not None:
            account = ledger.lock_account(work_order)
            if account.balance < price_credits:
                raise Conflict(
                    _("R10: the engagement costs %(cost)s credits; the balance is %(balance)s.")
                    % {"cost": price_credits, "balance": account.balance},
                    rule="R10",
                    code="insufficient_credits",
                )
            engagement.credit_entry = ledger.post(
                account,
                kind=EntryKind.REDEMPTION,
                amount=-int(price_credits),
                by=by,
                reason=f"Consulting: {service.name}, SOW {sow_reference}",
                reference=f"sow:{sow_reference}"[:200],
            )
        else:
            line = work_order.lines.filter(service=service, expired_at__isnull=True).first()
            if line is None:
                raise Conflict(
                    _("The work order holds no %(service)s hours to pay this engagement with.")
                    % {"service": service.name},
                    code="no_hour_block",
                    field="price_hours",
                )
            engagement.time_entry = time_entry_record(
                line=line,
                hours=price_hours,
                worked_on=work_order_today(work_order),
                description=f"SOW {sow_reference}: {title}"[:300],
                reference=f"sow:{sow_reference}",
                by=by,
            )
        engagement.save()
        EngagementMilestone.objects.bulk_create(
            EngagementMilestone(engagement=engagement, name=n, due_on=d) for n, d in planned
        )
    return engagement


def milestone_complete(*, milestone, done_on: dt.date | None = None, by) -> EngagementMilestone:
    """Mark a milestone of a statement of work done (staff), once."""
    require_editor(by, rule="R27", what=_("complete a milestone"))
    today = work_order_today(milestone.engagement.work_order)
    done_on = done_on or today
    if done_on > today:
        raise RuleViolation(_("A milestone is done on a past or current day."), field="done_on")
    updated = EngagementMilestone.objects.filter(pk=milestone.pk, done_on__isnull=True).update(
        done_on=done_on
    )
    if not updated:
        raise Conflict(_("This milestone is done already."), code="milestone_done")
    milestone.refresh_from_db()
    return milestone
