"""Hour blocks (R11, R13) and expiry at the end of the term (R14)."""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.times import local_today_expression, work_order_today
from core import formatting
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import EntryKind
from credits.models import CreditEntry, EntitlementAnniversary, HourBlockLapse, TimeEntry
from credits.services.common import require_editor
from credits.services.delivery import redemptions_lapse
from services.choices import DSE, PROACTIVE_CREDITS

# --- hour blocks (R11, R13) -------------------------------------------------------------------


def time_entry_record(
    *, line, hours, worked_on: dt.date, description: str = "", reference: str = "", by
) -> TimeEntry:
    """Deduct hours used from an hour-block line (R11), never beyond what remains.

    The deduction is one conditional UPDATE (used = used + h WHERE used + h <= quantity):
    PostgreSQL re-checks the condition on the latest row version after waiting for a
    concurrent writer, so two entries can never both take the last hours. Negative
    hours (a correction: entries are never edited, migration 0003) are staff-only, need
    the reason in `description` and take back at most what was used. DSE hours count
    only within the term (R13).
    """
    hours = Decimal(hours)
    service = line.service
    work_order = line.work_order
    if not service.is_hour_block:
        raise RuleViolation(
            _("R11: %(service)s is not an hour block; no time is recorded on it.")
            % {"service": service.name},
            rule="R11",
        )
    if hours == 0:
        raise RuleViolation(_("R11: record a non-zero number of hours."), rule="R11", field="hours")
    if hours < 0:
        require_editor(by, rule="R11", what=_("correct recorded hours"))
        if not description.strip():
            raise RuleViolation(
                _("R11: a correction of recorded hours needs a reason."),
                rule="R11",
                field="description",
                code="reason_required",
            )
    if worked_on > work_order_today(work_order):
        raise RuleViolation(
            _("R11: hours are recorded once worked, not in advance."),
            rule="R11",
            field="worked_on",
        )
    if service.code == DSE:
        last_day = _dse_last_day(line)
        if not work_order.start_date <= worked_on <= last_day:
            raise RuleViolation(
                _("R13: DSE hours count only within the term (%(start)s to %(end)s).")
                % {"start": work_order.start_date, "end": last_day},
                rule="R13",
                field="worked_on",
            )
    if line.ends_on is not None and worked_on > line.ends_on:
        raise RuleViolation(
            _("R14: this line ended on %(date)s.") % {"date": line.ends_on},
            rule="R14",
            field="worked_on",
        )
    with transaction.atomic():
        won = (
            type(line)
            .objects.filter(
                pk=line.pk,
                expired_at__isnull=True,
                used__lte=F("quantity") - hours,
                used__gte=-hours,
            )
            .update(used=F("used") + hours)
        )
        if not won:
            line.refresh_from_db(fields=["used", "quantity", "expired_at"])
            if line.expired_at is not None:
                raise Conflict(
                    _("R14: the unused hours of this line expired with the term."),
                    rule="R14",
                    code="expired",
                )
            if hours < 0:
                raise Conflict(
                    _(
                        "R11: %(used)s hours are used on this line; a correction cannot "
                        "take back more than that."
                    )
                    % {"used": formatting.number(line.used)},
                    rule="R11",
                    code="correction_exceeds_used",
                )
            raise Conflict(
                _("R11: only %(remaining)s of %(quantity)s hours remain on this line.")
                % {
                    "remaining": formatting.number(line.remaining),
                    "quantity": formatting.number(line.quantity),
                },
                rule="R11",
                code="insufficient_hours",
            )
        entry = TimeEntry.objects.create(
            line=line,
            hours=hours,
            worked_on=worked_on,
            description=description[:300],
            reference=reference[:200],
            created_by=author(by),
        )
    line.refresh_from_db(fields=["used"])
    return entry


def _dse_last_day(line) -> dt.date:
    """R13: DSE ends with the work order: its end date, or the day it was terminated.

    Hours worked up to that day still count when recorded afterwards (until the
    expiry lapses the line, R14)."""
    work_order = line.work_order
    days = [work_order.end_date]
    if line.ends_on is not None:
        days.append(line.ends_on)
    if work_order.terminated_at is not None:
        # The day it was terminated, in the work order's own zone (contracts.times).
        days.append(work_order_today(work_order, now=work_order.terminated_at))
    return min(days)


# --- expiry (R14) -----------------------------------------------------------------------------


def credits_expire(*, work_order, by=None) -> dict:
    """Expire what is unused at the end of the term (R14); safe to run twice.

    One `expiry` entry takes the credit balance to zero (when above zero; the unique
    constraint credit_expiry_once backs the lock), and every unexpired hour-block or
    proactive-credits line gets `expired_at` (hours left are what lapsed), and every
    redemption still scheduled lapses without a refund (redemptions_lapse). Refused
    before the term ended unless the work order was terminated. Returns a summary.
    """
    if work_order.terminated_at is None and work_order_today(work_order) <= work_order.end_date:
        raise RuleViolation(
            _("R14: the term runs until %(date)s; nothing expires yet.")
            % {"date": work_order.end_date},
            rule="R14",
        )
    return _expire(
        work_order=work_order,
        by=by,
        reason=f"R14: unused credits lapse at the end of the term ({work_order.end_date})",
        reference=f"work_order:{work_order.number}",
    )


def credits_expire_on_extension(*, work_order, by=None) -> dict:
    """R14: the term is extended and its unused credits and hours lapse now, before the
    longer term starts counting (sent by contracts.signals.term_extended)."""
    return _expire(
        work_order=work_order,
        by=by,
        reason=f"R14: the term ending {work_order.end_date} was extended; unused credits lapse",
        reference=f"work_order:{work_order.number}:extended:{work_order.end_date}",
        # Services already booked within the term stay booked.
        redemptions=False,
    )


def anniversaries(work_order) -> list[dt.date]:
    """The anniversaries of a multi-year term's start date that fall inside the term."""
    days = []
    year = 1
    while True:
        try:
            day = work_order.start_date.replace(year=work_order.start_date.year + year)
        except ValueError:  # 29 February: the anniversary is 1 March
            day = dt.date(work_order.start_date.year + year, 3, 1)
        if day > work_order.end_date:
            return days
        days.append(day)
        year += 1


def entitlements_anniversary_lapse(*, work_order, anniversary: dt.date, by=None) -> dict:
    """Seed §4.4 (R14 per year): on each anniversary of a multi-year term with yearly
    entitlements, the year's unused credits and hours lapse and the next year's are
    granted again: credits as a `grant` of the lines' yearly quantity, hour blocks back
    to their full quantity, their unused hours recorded as an HourBlockLapse (shown on
    the block's burn-down and the work order's page). Once per
    anniversary (the expiry's reference); refused before the day."""
    if not work_order.yearly_entitlements:
        raise RuleViolation(
            _("R14: this work order's entitlements are for the whole term, not per year."),
            rule="R14",
        )
    if anniversary not in anniversaries(work_order):
        raise RuleViolation(
            _("R14: %(day)s is no anniversary of this term.") % {"day": anniversary}, rule="R14"
        )
    if work_order_today(work_order) < anniversary:
        raise RuleViolation(
            _("R14: the anniversary %(day)s has not come yet.") % {"day": anniversary}, rule="R14"
        )
    reference = f"work_order:{work_order.number}:anniversary:{anniversary}"
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        # Once per anniversary, under the account's lock: the marker row, or (for runs from
        # before it) the credit entries. Without the marker a work order with hours but no
        # credits would reset its blocks again on every sweep after the anniversary.
        if (
            EntitlementAnniversary.objects.filter(
                work_order=work_order, anniversary=anniversary
            ).exists()
            or CreditEntry.objects.filter(
                work_order=work_order,
                kind__in=(EntryKind.EXPIRY, EntryKind.GRANT),
                reference=reference,
            ).exists()
        ):
            return {"already": True, "credits_expired": 0, "hours_expired": Decimal(0)}
        credits_expired = max(account.balance, 0)
        if credits_expired:
            ledger.post(
                account,
                kind=EntryKind.EXPIRY,
                amount=-credits_expired,
                by=by,
                reason=f"R14: unused credits of the year lapse at the anniversary {anniversary}",
                reference=reference,
            )
        hours_expired = Decimal(0)
        yearly_credits = 0
        from contracts.rules import stamp

        for line in (
            work_order.lines.select_for_update(of=("self",))
            .filter(expired_at__isnull=True)
            .select_related("service")
        ):
            if line.service.code == PROACTIVE_CREDITS:
                yearly_credits += int(line.quantity)
            elif line.service.is_hour_block:
                lapsed = line.remaining
                if lapsed > 0:
                    # A visible entry on the block's burn-down (like the credits' expiry).
                    HourBlockLapse.objects.create(
                        line=line,
                        hours=lapsed,
                        anniversary=anniversary,
                        created_by=author(by),
                    )
                    hours_expired += lapsed
                if line.used:
                    line.used = Decimal(0)
                    stamp(line, by, f"R14: year to {anniversary}: {lapsed} h lapsed").save(
                        update_fields=["used"]
                    )
        if yearly_credits:
            ledger.post(
                account,
                kind=EntryKind.GRANT,
                amount=yearly_credits,
                by=by,
                reason=f"Proactive credits of the year from {anniversary}",
                reference=reference,
            )
        EntitlementAnniversary.objects.create(
            work_order=work_order,
            anniversary=anniversary,
            credits_expired=credits_expired,
            hours_expired=hours_expired,
            created_by=author(by),
        )
    return {"already": False, "credits_expired": credits_expired, "hours_expired": hours_expired}


def anniversaries_due(*, today: dt.date | None = None, by=None) -> int:
    """Run every anniversary lapse that is due (the entitlement sweep calls it daily)."""
    from contracts.models import WorkOrder

    given = today
    # Each work order's own today (its location's zone) unless a date is given.
    rows = WorkOrder.objects.filter(yearly_entitlements=True, terminated_at__isnull=True)
    if given is not None:
        rows = rows.filter(start_date__lt=given, end_date__gte=given)
    else:
        rows = rows.annotate(local_today=local_today_expression()).filter(
            start_date__lt=F("local_today"), end_date__gte=F("local_today")
        )
    done = 0
    for work_order in rows.select_related("support_location"):
        today = given or work_order_today(work_order)
        for day in anniversaries(work_order):
            if (
                day <= today
                and not entitlements_anniversary_lapse(
                    work_order=work_order, anniversary=day, by=by
                )["already"]
            ):
                done += 1
    return done


def _expire(*, work_order, by, reason, reference, redemptions=True) -> dict:
    now = timezone.now()
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        already = CreditEntry.objects.filter(
            work_order=work_order, kind=EntryKind.EXPIRY, reference=reference
        ).exists()
        credits_expired = 0
        if not already and account.balance > 0:
            credits_expired = account.balance
            ledger.post(
                account,
                kind=EntryKind.EXPIRY,
                amount=-account.balance,
                by=by,
                reason=reason,
                reference=reference,
            )
        # Lock the lines (not the joined services) so a concurrent time entry waits for us.
        lines = list(
            work_order.lines.select_for_update(of=("self",))
            .filter(expired_at__isnull=True)
            .select_related("service")
        )
        lapsed = []
        for line in lines:
            if not (line.service.is_hour_block or line.service.code == PROACTIVE_CREDITS):
                continue
            type(line).objects.filter(pk=line.pk, expired_at__isnull=True).update(expired_at=now)
            if line.service.is_hour_block:
                lapsed.append(
                    {"line_id": line.pk, "service": line.service.code, "hours": line.remaining}
                )
        # R14: services bought with credits but never delivered lapse too, under the same lock.
        redemptions_lapsed = redemptions_lapse(work_order=work_order) if redemptions else []
    return {
        "work_order": work_order.number,
        "credits_expired": credits_expired,
        "already_expired": already,
        "hour_lines_expired": lapsed,
        "hours_expired": sum((x["hours"] for x in lapsed), Decimal(0)),
        "redemptions_lapsed": redemptions_lapsed,
    }
