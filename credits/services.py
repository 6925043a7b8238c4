"""Writes of the credits app: the append-only ledger, redemptions and hour blocks.

Every function validates first and raises RuleViolation/Conflict naming the rule
before anything is written; writes happen inside one transaction that locks the
work order's CreditAccount (see credits.ledger), so nothing is ever half-written
and concurrent writers on one balance are serialised.
"""

import datetime as dt
import hashlib
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils import timezone

from contracts.choices import WorkOrderStatus
from credits import ledger
from credits.choices import (
    ASSESSMENT_ENGINEER_MAX_DAYS,
    CUTOFF_DAYS,
    EXCHANGE_TOLERANCE_PERCENT,
    FREE_CANCELLATION_DAYS,
    ONSITE_SERVICES,
    WORKSHOP_MODES,
    DeliveryMode,
    EntryKind,
    RedemptionStatus,
)
from credits.models import CreditEntry, Rate, Redemption, TimeEntry
from credits.selectors import rate_for
from portal.errors import Conflict, RuleViolation
from services.choices import DSE, ON_DEMAND_ASSESSMENT, PROACTIVE_CREDITS, WORKSHOPS, Package

round_credits = (
    ledger.round_credits
)  # re-exported: the R10 rounding is part of this module's contract


def _require_staff(by, *, rule: str, what: str) -> None:
    if not (
        by is not None and getattr(by, "is_authenticated", False) and getattr(by, "is_staff", False)
    ):
        raise RuleViolation(f"{rule}: only staff may {what}.", rule=rule, code="staff_only")


def _today() -> dt.date:
    """The business date, in the portal's time zone (settings.TIME_ZONE).

    Not the active time zone: the API activates UTC for its timestamps, and a term, a
    cut-off (R15) or the 14-day line (R16) must not move with the caller's zone.
    """
    return timezone.localdate(timezone=timezone.get_default_timezone())


# --- rate card (R10) -------------------------------------------------------------------


def rate_check(*, service, customer=None, credits_per_unit, valid_from: dt.date) -> None:
    """Raise what rate_create would refuse (shared with forms, so they can show it on a field)."""
    if Decimal(credits_per_unit) <= 0:
        raise RuleViolation(
            "R10: a rate is a positive number of credits per unit.",
            rule="R10",
            field="credits_per_unit",
        )
    if service.code == PROACTIVE_CREDITS:
        raise RuleViolation(
            "R10: proactive credits are not redeemed for themselves.", rule="R10", field="service"
        )
    if Rate.objects.filter(service=service, customer=customer, valid_from=valid_from).exists():
        raise Conflict(
            f"R10: {service.code} already has a {'customer' if customer else 'default'} rate from {valid_from}.",
            rule="R10",
            field="valid_from",
        )


def rate_create(*, service, customer=None, credits_per_unit, valid_from: dt.date, by=None) -> Rate:
    """Add a rate-card row (R10): the default (customer=None) or a customer's own rate from a date."""
    credits_per_unit = Decimal(credits_per_unit)
    rate_check(
        service=service, customer=customer, credits_per_unit=credits_per_unit, valid_from=valid_from
    )
    try:
        with transaction.atomic():
            return Rate.objects.create(
                service=service,
                customer=customer,
                credits_per_unit=credits_per_unit,
                valid_from=valid_from,
            )
    except IntegrityError as exc:  # a concurrent twin won the unique constraint
        raise Conflict(
            f"R10: {service.code} already has a rate from {valid_from}.",
            rule="R10",
            field="valid_from",
        ) from exc


def redemption_cost(*, rate: Rate, quantity: Decimal) -> int:
    """Credits for `quantity` units at `rate`: rate × quantity to the nearest whole credit, halves up (R10)."""
    return round_credits(rate.credits_per_unit * Decimal(quantity))


# --- grants, adjustments, SA conversion ------------------------------------------------------


def credits_grant(*, line, by=None) -> CreditEntry | None:
    """Grant the credits of a `proactive-credits` line (sent by contracts.signals.line_changed).

    Idempotent: under the account lock it compares the line's quantity with what was
    already granted for it, and grants only the difference as a new `grant` entry
    (a quantity increase). A decrease takes the difference back as an `adjustment`
    referencing the line, refused (Conflict R10) if those credits were already spent.
    Returns the new entry, or None when nothing changed.
    """
    if line.service.code != PROACTIVE_CREDITS:
        raise RuleViolation("R10: only a proactive-credits line grants credits.", rule="R10")
    if line.quantity != line.quantity.to_integral_value():
        raise RuleViolation(
            "R10: proactive credits come in whole credits.", rule="R10", field="quantity"
        )
    with transaction.atomic():
        account = ledger.lock_account(line.work_order)
        granted = (
            CreditEntry.objects.filter(
                line=line, kind__in=(EntryKind.GRANT, EntryKind.ADJUSTMENT)
            ).aggregate(s=Sum("amount"))["s"]
            or 0
        )
        delta = int(line.quantity) - granted
        if delta == 0:
            return None
        kind = EntryKind.GRANT if delta > 0 else EntryKind.ADJUSTMENT
        reason = (
            "Proactive credits bought"
            if granted == 0
            else f"Line quantity changed from {granted} to {int(line.quantity)}"
        )
        return ledger.post(
            account,
            kind=kind,
            amount=delta,
            by=by,
            reason=reason,
            reference=f"line:{line.pk}",
            line=line,
        )


def credits_adjust(*, work_order, amount: int, reason: str, by) -> CreditEntry:
    """A staff correction of the balance, with a reason; never below zero."""
    _require_staff(by, rule="R10", what="adjust a credit balance")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("An adjustment needs a reason.", field="reason", code="reason_required")
    if int(amount) != amount or amount == 0:
        raise RuleViolation("An adjustment is a non-zero whole number of credits.", field="amount")
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        return ledger.post(
            account, kind=EntryKind.ADJUSTMENT, amount=int(amount), by=by, reason=reason
        )


def credits_sa_conversion(*, work_order, amount: int, reference: str, by) -> CreditEntry:
    """R18: Software Assurance incidents converted into credits at the value the vendor sets (staff)."""
    _require_staff(by, rule="R18", what="record a Software Assurance conversion")
    if int(amount) != amount or amount <= 0:
        raise RuleViolation(
            "R18: a conversion adds a positive whole number of credits.", rule="R18", field="amount"
        )
    reference = (reference or "").strip()
    if not reference:
        raise RuleViolation(
            "R18: name the SA benefit converted (reference).", rule="R18", field="reference"
        )
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        return ledger.post(
            account,
            kind=EntryKind.SA_CONVERSION,
            amount=int(amount),
            by=by,
            reason="Software Assurance benefits converted",
            reference=reference,
        )


# --- redemptions (R10, R12, R15, R19, R20, R21) -------------------------------------------------


def _fingerprint(*, service, quantity, scheduled_for, delivery_mode) -> str:
    raw = f"{service.code}|{Decimal(quantity).normalize()}|{scheduled_for.isoformat()}|{delivery_mode}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _check_request(
    *, work_order, service, quantity: Decimal, scheduled_for: dt.date, delivery_mode: str, today
) -> None:
    """Every rule a redemption request must meet; raises the first one broken."""
    if quantity <= 0:
        raise RuleViolation("Quantity must be positive.", field="quantity")
    status = work_order.status_on(today)
    if status != WorkOrderStatus.ACTIVE:
        raise RuleViolation(
            f"R14: credits are redeemed during the term; work order {work_order.number} is {status}.",
            rule="R14",
        )
    if service.code == PROACTIVE_CREDITS:
        raise RuleViolation(
            "R10: proactive credits are not redeemed for themselves.", rule="R10", field="service"
        )
    # R21: On-demand Assessment is included, but its optional engineer is paid: redeemable.
    if service.code != ON_DEMAND_ASSESSMENT and not service.is_purchasable_in(work_order.package):
        raise RuleViolation(
            f"R10: {service.name} is not an add-on of the {Package(work_order.package).label} package "
            f"({service.availability_for(work_order.package)}); credits buy add-on services only.",
            rule="R10",
            field="service",
        )
    if (problem := service.quantity_bounds_error(quantity)) is not None:
        raise RuleViolation(str(problem), rule="R12", field="quantity")
    _check_delivery_mode(service=service, quantity=quantity, delivery_mode=delivery_mode)
    if scheduled_for < today:
        raise RuleViolation(
            "R10: the delivery date is in the past.", rule="R10", field="scheduled_for"
        )
    if not (work_order.start_date <= scheduled_for <= work_order.end_date):
        raise RuleViolation(
            f"R14: the delivery date must fall within the term ({work_order.start_date} to {work_order.end_date}).",
            rule="R14",
            field="scheduled_for",
        )
    if (
        work_order.package in (Package.ADVANCED, Package.PERFORMANCE)
        and service.subject_to_cutoff
        and (work_order.end_date - today).days < CUTOFF_DAYS
    ):
        raise RuleViolation(
            f"R15: with {Package(work_order.package).label}, requests for {service.name} must be submitted at least "
            f"{CUTOFF_DAYS} days before the work order ends ({work_order.end_date}).",
            rule="R15",
        )


def _check_delivery_mode(*, service, quantity: Decimal, delivery_mode: str) -> None:
    if delivery_mode not in DeliveryMode.values:
        raise RuleViolation(f"Unknown delivery mode {delivery_mode!r}.", field="delivery_mode")
    if service.code == WORKSHOPS:
        if delivery_mode not in WORKSHOP_MODES:
            raise RuleViolation(
                "R20: a workshop is bought per participant (quantity = participants) or as a dedicated delivery.",
                rule="R20",
                field="delivery_mode",
            )
    elif delivery_mode in WORKSHOP_MODES:
        raise RuleViolation(
            "R20: per-participant and dedicated delivery apply to workshops only.",
            rule="R20",
            field="delivery_mode",
        )
    if service.code == ON_DEMAND_ASSESSMENT:
        limit = ASSESSMENT_ENGINEER_MAX_DAYS.get(delivery_mode)
        if limit is None:
            raise RuleViolation(
                "R21: the On-demand Assessment engineer works onsite (at most 2 days) or remote (at most 1 day).",
                rule="R21",
                field="delivery_mode",
            )
        if quantity > limit:
            raise RuleViolation(
                f"R21: the On-demand Assessment engineer works at most {limit} day(s) {delivery_mode}.",
                rule="R21",
                field="quantity",
            )


def _replay(*, work_order, idempotency_key: str, fingerprint: str) -> Redemption | None:
    """The first redemption of a retried request, or None; the same key for another request is refused."""
    if not idempotency_key:
        return None
    first = Redemption.objects.filter(
        work_order=work_order, idempotency_key=idempotency_key
    ).first()
    if first is None:
        return None
    if first.request_fingerprint != fingerprint:
        raise Conflict(
            "This idempotency key was already used for a different redemption request.",
            field="idempotency_key",
            code="idempotency_key_reused",
        )
    return first


def credits_redeem(
    *,
    work_order,
    service,
    quantity,
    scheduled_for: dt.date,
    delivery_mode: str = DeliveryMode.STANDARD,
    idempotency_key: str = "",
    by=None,
) -> Redemption:
    """Redeem credits for an add-on service delivered on `scheduled_for` (R10, R12, R15, R19-R21).

    Costs the current rate (R10, `rate_for` on today's date) × quantity, rounded to
    the nearest whole credit with halves rounded up. A retry with the same
    `idempotency_key` and the same request returns the first Redemption and writes
    nothing; the same key with a different request is a Conflict.
    """
    quantity = Decimal(quantity)
    idempotency_key = (idempotency_key or "").strip()
    fingerprint = _fingerprint(
        service=service, quantity=quantity, scheduled_for=scheduled_for, delivery_mode=delivery_mode
    )
    # A retry answers with the first result even if the rules would refuse it today.
    if (
        first := _replay(
            work_order=work_order, idempotency_key=idempotency_key, fingerprint=fingerprint
        )
    ) is not None:
        return first
    today = _today()
    _check_request(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
        today=today,
    )
    rate = rate_for(service=service, customer=work_order.customer, on=today)
    if rate is None:
        raise RuleViolation(
            f"R10: there is no rate for {service.name} yet; ask your account manager.",
            rule="R10",
            field="service",
        )
    cost = redemption_cost(rate=rate, quantity=quantity)
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        # Re-check under the lock: a concurrent retry with this key may have committed meanwhile.
        if (
            first := _replay(
                work_order=work_order, idempotency_key=idempotency_key, fingerprint=fingerprint
            )
        ) is not None:
            return first
        if account.balance < cost:
            raise Conflict(
                f"R10: {service.name} costs {cost} credits; the balance is {account.balance}.",
                rule="R10",
                code="insufficient_credits",
            )
        redemption = Redemption.objects.create(
            work_order=work_order,
            service=service,
            quantity=quantity,
            scheduled_for=scheduled_for,
            delivery_mode=delivery_mode,
            rate=rate,
            credits_per_unit=rate.credits_per_unit,
            credits=cost,
            travel_expenses_billable=delivery_mode == DeliveryMode.ONSITE
            or service.code in ONSITE_SERVICES,  # R19
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            created_by=ledger.audit_user(by),
        )
        ledger.post(
            account,
            kind=EntryKind.REDEMPTION,
            amount=-cost,
            by=by,
            reason=f"{quantity.normalize()} {service.get_unit_display()} {service.name} on {scheduled_for}",
            reference=f"redemption:{redemption.pk}",
            redemption=redemption,
        )
    return redemption


def _lock_scheduled(redemption) -> tuple:
    """Lock the account, then re-read the redemption: only a scheduled one may change."""
    account = ledger.lock_account(redemption.work_order)
    current = Redemption.objects.select_for_update().select_related("service").get(pk=redemption.pk)
    if current.status != RedemptionStatus.SCHEDULED:
        raise Conflict(
            f"This redemption is already {current.get_status_display().lower()}.",
            code="redemption_not_scheduled",
        )
    return account, current


def redemption_cancel(
    *, redemption, by, reason: str = "", minimum_enrolment_not_reached: bool = False
) -> Redemption:
    """Cancel a scheduled redemption (R16, R20).

    At least 14 days before delivery everything is refunded. Later, the work order's
    cancellation-fee percentage of the credits (rounded half up) is kept: the ledger
    shows a `refund` of the full credits and then a `cancellation_fee` entry. Staff may
    cancel a workshop that missed its minimum enrolment with a full refund whenever (R20).
    """
    today = _today()
    if minimum_enrolment_not_reached:
        _require_staff(by, rule="R20", what="cancel a workshop for missing its minimum enrolment")
        if redemption.service.code != WORKSHOPS:
            raise RuleViolation(
                "R20: only workshops are cancelled for missing a minimum enrolment.", rule="R20"
            )
    with transaction.atomic():
        account, current = _lock_scheduled(redemption)
        if current.scheduled_for < today and not minimum_enrolment_not_reached:
            raise Conflict(
                "R16: the delivery date has passed; it can no longer be cancelled.", rule="R16"
            )
        days_before = (current.scheduled_for - today).days
        if minimum_enrolment_not_reached or days_before >= FREE_CANCELLATION_DAYS:
            fee = 0
        else:
            fee = round_credits(
                Decimal(current.credits) * redemption.work_order.cancellation_fee_percent / 100
            )
        why = reason.strip() or "Cancelled"
        if minimum_enrolment_not_reached:
            why = f"R20: minimum enrolment not reached. {reason}".strip()
        ref = f"redemption:{current.pk}"
        ledger.post(
            account,
            kind=EntryKind.REFUND,
            amount=current.credits,
            by=by,
            reason=why,
            reference=ref,
            redemption=current,
        )
        if fee:
            ledger.post(
                account,
                kind=EntryKind.CANCELLATION_FEE,
                amount=-fee,
                by=by,
                reason=f"R16: cancelled {days_before} day(s) before delivery: "
                f"{redemption.work_order.cancellation_fee_percent.normalize()}% kept",
                reference=ref,
                redemption=current,
            )
        current.status = RedemptionStatus.CANCELLED
        current.cancelled_at = timezone.now()
        current.cancelled_by = ledger.audit_user(by)
        current.cancellation_reason = why[:300]
        current.version = F("version") + 1
        current.save(
            update_fields=[
                "status",
                "cancelled_at",
                "cancelled_by",
                "cancellation_reason",
                "version",
            ]
        )
        current.refresh_from_db()
    return current


def redemption_exchange(
    *,
    redemption,
    service,
    quantity,
    approved_by,
    by,
    scheduled_for: dt.date | None = None,
    delivery_mode: str | None = None,
) -> Redemption:
    """Exchange a scheduled redemption for another add-on of equivalent value (R17).

    Equivalent: the new service's cost at today's rate is within EXCHANGE_TOLERANCE_PERCENT
    of the credits paid; the difference (either way) is one `exchange` entry, never taking
    the balance below zero. The approving account manager (staff) is recorded on the new
    redemption; the old one becomes `exchanged` and points at it.
    """
    if not (
        approved_by is not None
        and getattr(approved_by, "is_staff", False)
        and getattr(approved_by, "pk", None)
    ):
        raise RuleViolation(
            "R17: an exchange needs an account manager's approval.", rule="R17", field="approved_by"
        )
    work_order = redemption.work_order
    quantity = Decimal(quantity)
    scheduled_for = scheduled_for or redemption.scheduled_for
    if delivery_mode is None:
        delivery_mode = (
            DeliveryMode.DEDICATED if service.code == WORKSHOPS else DeliveryMode.STANDARD
        )
    today = _today()
    _check_request(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
        today=today,
    )
    rate = rate_for(service=service, customer=work_order.customer, on=today)
    if rate is None:
        raise RuleViolation(
            f"R10: there is no rate for {service.name} yet.", rule="R10", field="service"
        )
    cost = redemption_cost(rate=rate, quantity=quantity)
    with transaction.atomic():
        account, current = _lock_scheduled(redemption)
        difference = cost - current.credits
        if abs(difference) * 100 > current.credits * EXCHANGE_TOLERANCE_PERCENT:
            raise RuleViolation(
                f"R17: {service.name} costs {cost} credits, not equivalent to the {current.credits} paid "
                f"(within {EXCHANGE_TOLERANCE_PERCENT}%).",
                rule="R17",
            )
        new = Redemption.objects.create(
            work_order=work_order,
            service=service,
            quantity=quantity,
            scheduled_for=scheduled_for,
            delivery_mode=delivery_mode,
            rate=rate,
            credits_per_unit=rate.credits_per_unit,
            credits=cost,
            travel_expenses_billable=delivery_mode == DeliveryMode.ONSITE
            or service.code in ONSITE_SERVICES,  # R19
            approved_by=approved_by,
            created_by=ledger.audit_user(by),
        )
        ledger.post(
            account,
            kind=EntryKind.EXCHANGE,
            amount=-difference,
            by=by,
            reason=f"R17: {current.service.code} exchanged for {service.code}, approved by {approved_by.get_username()}",
            reference=f"redemption:{current.pk}->redemption:{new.pk}",
            redemption=new,
        )
        current.status = RedemptionStatus.EXCHANGED
        current.exchanged_for = new
        current.approved_by = approved_by
        current.version = F("version") + 1
        current.save(update_fields=["status", "exchanged_for", "approved_by", "version"])
    return new


# --- hour blocks (R11, R13) -------------------------------------------------------------------


def time_entry_record(
    *, line, hours, worked_on: dt.date, description: str = "", reference: str = "", by
) -> TimeEntry:
    """Deduct hours used from an hour-block line (R11), never beyond what remains.

    The deduction is one conditional UPDATE (used = used + h WHERE used + h <= quantity):
    PostgreSQL re-checks the condition on the latest row version after waiting for a
    concurrent writer, so two entries can never both take the last hours. Negative
    hours (a correction) are staff-only. DSE hours count only within the term (R13).
    """
    hours = Decimal(hours)
    service = line.service
    work_order = line.work_order
    if not service.is_hour_block:
        raise RuleViolation(
            f"R11: {service.name} is not an hour block; no time is recorded on it.", rule="R11"
        )
    if hours == 0:
        raise RuleViolation("R11: record a non-zero number of hours.", rule="R11", field="hours")
    if hours < 0:
        _require_staff(by, rule="R11", what="correct recorded hours")
    if worked_on > _today():
        raise RuleViolation(
            "R11: hours are recorded once worked, not in advance.", rule="R11", field="worked_on"
        )
    if service.code == DSE and not work_order.covers(worked_on):
        raise RuleViolation(
            f"R13: DSE hours count only within the term ({work_order.start_date} to {work_order.end_date}).",
            rule="R13",
            field="worked_on",
        )
    if line.ends_on is not None and worked_on > line.ends_on:
        raise RuleViolation(
            f"R14: this line ended on {line.ends_on}.", rule="R14", field="worked_on"
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
                    "R14: the unused hours of this line expired with the term.",
                    rule="R14",
                    code="expired",
                )
            raise Conflict(
                f"R11: only {line.remaining.normalize()} of {line.quantity.normalize()} hours remain on this line.",
                rule="R11",
                code="insufficient_hours",
            )
        entry = TimeEntry.objects.create(
            line=line,
            hours=hours,
            worked_on=worked_on,
            description=description[:300],
            reference=reference[:200],
            created_by=ledger.audit_user(by),
        )
    line.refresh_from_db(fields=["used"])
    return entry


# --- expiry (R14) -----------------------------------------------------------------------------


def credits_expire(*, work_order, by=None) -> dict:
    """Expire what is unused at the end of the term (R14); safe to run twice.

    One `expiry` entry takes the credit balance to zero (when above zero; the unique
    constraint credit_expiry_once backs the lock), and every unexpired hour-block or
    proactive-credits line gets `expired_at` (hours left are what lapsed). Refused
    before the term ended unless the work order was terminated. Returns a summary.
    """
    now = timezone.now()
    if work_order.terminated_at is None and _today() <= work_order.end_date:
        raise RuleViolation(
            f"R14: the term runs until {work_order.end_date}; nothing expires yet.", rule="R14"
        )
    with transaction.atomic():
        account = ledger.lock_account(work_order)
        already = CreditEntry.objects.filter(work_order=work_order, kind=EntryKind.EXPIRY).exists()
        credits_expired = 0
        if not already and account.balance > 0:
            credits_expired = account.balance
            ledger.post(
                account,
                kind=EntryKind.EXPIRY,
                amount=-account.balance,
                by=by,
                reason=f"R14: unused credits lapse at the end of the term ({work_order.end_date})",
                reference=f"work_order:{work_order.number}",
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
    return {
        "work_order": work_order.number,
        "credits_expired": credits_expired,
        "already_expired": already,
        "hour_lines_expired": lapsed,
        "hours_expired": sum((x["hours"] for x in lapsed), Decimal(0)),
    }
