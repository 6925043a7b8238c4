"""Redeeming credits and exchanging a redemption (R10, R12, R14, R15, R17, R19-R21);
cancelling is credits.services.cancellation."""

import datetime as dt
import hashlib
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.permissions import can_edit
from contracts.choices import WorkOrderStatus
from contracts.times import work_order_today
from core import formatting
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits import ledger
from credits.choices import (
    ASSESSMENT_ENGINEER_MAX_DAYS,
    CUTOFF_DAYS,
    EXCHANGE_TOLERANCE_PERCENT,
    ONSITE_SERVICES,
    WORKSHOP_MODES,
    DeliveryMode,
    EntryKind,
    RedemptionStatus,
)
from credits.models import Redemption
from credits.selectors import balance as ledger_balance
from credits.selectors import rate_for
from credits.services.common import lock_scheduled, require_editor
from credits.services.consent import consent_refusal, vendor_consent_for, vendor_consent_record
from credits.services.rates import redemption_cost
from services.choices import (
    MISSION_CRITICAL,
    ON_DEMAND_ASSESSMENT,
    PROACTIVE_CREDITS,
    WORKSHOPS,
    Availability,
    Category,
    Package,
    Unit,
)

#: Units counted whole (R20 participants, visits); hours, days and units may be fractions.
WHOLE_UNITS = frozenset({Unit.PARTICIPANTS, Unit.VISITS})


def _availability(value: str) -> str:
    """'included', 'not available': an availability in the reader's language, for messages."""
    return str(Availability(value).label).lower() if value in Availability.values else value


# --- redemptions (R10, R12, R15, R19, R20, R21) -------------------------------------------------


def _fingerprint(*, service, quantity, scheduled_for, delivery_mode) -> str:
    raw = f"{service.code}|{Decimal(quantity).normalize()}|{scheduled_for.isoformat()}|{delivery_mode}"
    return hashlib.sha256(raw.encode()).hexdigest()


def check_redemption_request(
    *, work_order, service, quantity: Decimal, scheduled_for: dt.date, delivery_mode: str, today
) -> None:
    """Every rule a redemption request must meet; raises the first one broken."""
    if quantity <= 0:
        raise RuleViolation(_("Quantity must be positive."), field="quantity")
    if service.unit in WHOLE_UNITS and quantity != quantity.to_integral_value():
        # Participants and visits are counted whole: 0.01 of a workshop is no booking.
        raise RuleViolation(
            _("The quantity is a whole number of %(unit)s.") % {"unit": service.get_unit_display()},
            field="quantity",
        )
    status = work_order.status_on(today)
    if status != WorkOrderStatus.ACTIVE:
        raise RuleViolation(
            _("R14: credits are redeemed during the term; work order %(number)s is %(status)s.")
            % {"number": work_order.number, "status": str(WorkOrderStatus(status).label).lower()},
            rule="R14",
        )
    if service.code == PROACTIVE_CREDITS:
        raise RuleViolation(
            _("R10: proactive credits are not redeemed for themselves."),
            rule="R10",
            field="service",
        )
    # R21: On-demand Assessment is included, but its optional engineer is paid: redeemable.
    if service.code != ON_DEMAND_ASSESSMENT and not service.is_purchasable_in(work_order.package):
        raise RuleViolation(
            _(
                "R10: %(service)s is not an add-on of the %(package)s package "
                "(%(availability)s); credits buy add-on services only."
            )
            % {
                "service": service.name,
                "package": Package(work_order.package).label,
                "availability": _availability(service.availability_for(work_order.package)),
            },
            rule="R10",
            field="service",
        )
    if (problem := service.quantity_bounds_error(quantity)) is not None:
        raise RuleViolation(
            str(problem), rule="R26" if str(problem).startswith("R26") else "R12", field="quantity"
        )
    country = (
        work_order.support_location.country
        if work_order.support_location_id
        else work_order.customer.country
    )
    if not service.offered_in(country):
        # Seed §1 and §4.4: not every service is offered in every country.
        raise RuleViolation(
            _("%(service)s is not offered in %(country)s.")
            % {"service": service.name, "country": country},
            field="service",
            code="not_offered_in_country",
        )
    _check_delivery_mode(service=service, quantity=quantity, delivery_mode=delivery_mode)
    if service.code == ON_DEMAND_ASSESSMENT and not work_order.cloud_subscription_active:
        raise RuleViolation(
            _(
                "R21: On-demand Assessment needs an active cloud subscription; work order "
                "%(number)s has none on file (ask your account manager)."
            )
            % {"number": work_order.number},
            rule="R21",
            field="service",
        )
    if scheduled_for < today:
        raise RuleViolation(
            _("R10: the delivery date is in the past."), rule="R10", field="scheduled_for"
        )
    if not (work_order.start_date <= scheduled_for <= work_order.end_date):
        raise RuleViolation(
            _("R14: the delivery date must fall within the term (%(start)s to %(end)s).")
            % {"start": work_order.start_date, "end": work_order.end_date},
            rule="R14",
            field="scheduled_for",
        )
    if (
        work_order.package in (Package.ADVANCED, Package.PERFORMANCE)
        and service.subject_to_cutoff
        and (work_order.end_date - today).days < CUTOFF_DAYS
    ):
        raise RuleViolation(
            _(
                "R15: with %(package)s, requests for %(service)s must be submitted at least "
                "%(days)s days before the work order ends (%(end)s)."
            )
            % {
                "package": Package(work_order.package).label,
                "service": service.name,
                "days": CUTOFF_DAYS,
                "end": work_order.end_date,
            },
            rule="R15",
        )


def default_delivery_mode(service) -> str:
    """The delivery mode of a redemption that names none (API.md Revision 2): a workshop
    per participant (R20, quantity = participants), the On-demand Assessment remote
    (R21), anything else standard."""
    if service.code == WORKSHOPS:
        return DeliveryMode.PER_PARTICIPANT
    if service.code == ON_DEMAND_ASSESSMENT:
        return DeliveryMode.REMOTE
    return DeliveryMode.STANDARD


def _check_delivery_mode(*, service, quantity: Decimal, delivery_mode: str) -> None:
    if delivery_mode not in DeliveryMode.values:
        raise RuleViolation(
            _("Unknown delivery mode %(mode)r.") % {"mode": delivery_mode}, field="delivery_mode"
        )
    if service.code == WORKSHOPS:
        if delivery_mode not in WORKSHOP_MODES:
            raise RuleViolation(
                _(
                    "R20: a workshop is bought per participant (quantity = participants) "
                    "or as a dedicated delivery."
                ),
                rule="R20",
                field="delivery_mode",
            )
    elif delivery_mode in WORKSHOP_MODES:
        raise RuleViolation(
            _("R20: per-participant and dedicated delivery apply to workshops only."),
            rule="R20",
            field="delivery_mode",
        )
    if service.code == ON_DEMAND_ASSESSMENT:
        limit = ASSESSMENT_ENGINEER_MAX_DAYS.get(delivery_mode)
        if limit is None:
            raise RuleViolation(
                _(
                    "R21: the On-demand Assessment engineer works onsite (at most 2 days) "
                    "or remote (at most 1 day)."
                ),
                rule="R21",
                field="delivery_mode",
            )
        if quantity > limit:
            raise RuleViolation(
                _("R21: the On-demand Assessment engineer works at most %(limit)s day(s) %(mode)s.")
                % {"limit": limit, "mode": str(DeliveryMode(delivery_mode).label).lower()},
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
            _("This idempotency key was already used for a different redemption request."),
            field="idempotency_key",
            code="idempotency_key_reused",
        )
    return first


def _checked_cost(
    *, work_order, service, quantity: Decimal, scheduled_for: dt.date, delivery_mode: str, no_rate
) -> tuple:
    """(rate, cost) of a request that meets every rule, at today's rate (R10); `no_rate` names the service."""
    today = work_order_today(work_order)
    check_redemption_request(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
        today=today,
    )
    rate = rate_for(service=service, customer=work_order.customer, on=today)
    if rate is None:
        raise RuleViolation(no_rate % {"service": service.name}, rule="R10", field="service")
    cost = redemption_cost(rate=rate, quantity=quantity)
    if cost <= 0:
        # A booking that costs nothing after rounding would be free service (R10).
        raise RuleViolation(
            _("This quantity costs less than one credit; book at least one credit's worth."),
            rule="R10",
            field="quantity",
        )
    return rate, cost


def _new_redemption(
    *, work_order, service, quantity, scheduled_for, delivery_mode, rate, cost, by, **extra
) -> Redemption:
    """Write a Redemption priced at `rate`; `extra` are the fields only redeem or exchange set."""
    return Redemption.objects.create(
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
        created_by=author(by),
        **extra,
    )


def delivery_modes_for(service) -> list[str]:
    """The delivery modes a service may be redeemed in (R19-R21): what the form offers."""
    if service.code == WORKSHOPS:
        return list(WORKSHOP_MODES)
    if service.code == ON_DEMAND_ASSESSMENT:
        return list(ASSESSMENT_ENGINEER_MAX_DAYS)
    return [m for m in DeliveryMode.values if m not in WORKSHOP_MODES]


def credits_redeem_check(
    *,
    work_order,
    service,
    quantity,
    scheduled_for: dt.date,
    delivery_mode: str | None,
    vendor_consent: str = "",
) -> RuleViolation | Conflict | None:
    """The refusal `credits_redeem` would give this request now, or None: the quote runs the
    confirmation's own checks (the same `_checked_cost` and balance test), writing nothing."""
    if refusal := consent_refusal(work_order=work_order, service=service, reference=vendor_consent):
        return refusal
    delivery_mode = delivery_mode or default_delivery_mode(service)
    try:
        quantity = Decimal(quantity)
        _rate, cost = _checked_cost(
            work_order=work_order,
            service=service,
            quantity=quantity,
            scheduled_for=scheduled_for,
            delivery_mode=delivery_mode,
            no_rate=_("R10: there is no rate for %(service)s yet; ask your account manager."),
        )
    except (RuleViolation, Conflict) as refusal:
        return refusal
    balance = ledger_balance(work_order=work_order)
    if balance < cost:
        return Conflict(
            _("R10: %(service)s costs %(cost)s credits; the balance is %(balance)s.")
            % {"service": service.name, "cost": cost, "balance": balance},
            rule="R10",
            code="insufficient_credits",
        )
    return None


def credits_redeem(
    *,
    work_order,
    service,
    quantity,
    scheduled_for: dt.date,
    delivery_mode: str | None = None,
    idempotency_key: str = "",
    vendor_consent: str = "",
    by=None,
) -> Redemption:
    """Redeem credits for an add-on service delivered on `scheduled_for` (R10, R12, R15, R19-R21).

    A service the catalogue marks as needing the vendor's written consent (workshops,
    seed §4.2.1) is scheduled only with that consent: one staff recorded for the work
    order before (then the customer may book too), or a reference staff give with this
    booking (`vendor_consent`, recorded who/when/where). An enhanced solution
    (Rapid Response, DSE, Developer Support) bought with credits becomes a line of the
    work order, so it takes effect (R9: the next critical cloud incident gets its
    target); the line's own rules (R12, R13) are checked first and refuse with reason.

    Costs the current rate (R10, `rate_for` on today's date) × quantity, rounded to
    the nearest whole credit with halves rounded up. A retry with the same
    `idempotency_key` and the same request returns the first Redemption and writes
    nothing; the same key with a different request is a Conflict.
    """
    quantity = Decimal(quantity)
    delivery_mode = delivery_mode or default_delivery_mode(service)
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
    request = dict(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
    )
    # Seed §4.2.1: a consent typed with the booking (staff) or one recorded before.
    reference = (vendor_consent or "").strip() if service.needs_vendor_consent else ""
    if refusal := consent_refusal(work_order=work_order, service=service, reference=reference):
        raise refusal
    if reference:
        require_editor(by, rule="R10", what=_("record the vendor's consent"))
    rate, cost = _checked_cost(
        **request, no_rate=_("R10: there is no rate for %(service)s yet; ask your account manager.")
    )
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
                _("R10: %(service)s costs %(cost)s credits; the balance is %(balance)s.")
                % {"service": service.name, "cost": cost, "balance": account.balance},
                rule="R10",
                code="insufficient_credits",
            )
        redemption = _new_redemption(
            **request,
            rate=rate,
            cost=cost,
            by=by,
            idempotency_key=idempotency_key,
            request_fingerprint=fingerprint,
            consent=(
                vendor_consent_record(
                    work_order=work_order, service=service, reference=reference, by=by
                )
                if reference
                else vendor_consent_for(work_order=work_order, service=service)
            ),
        )
        if service.category == Category.ENHANCED:
            _activate_enhanced(work_order=work_order, service=service, quantity=quantity, by=by)
        ledger.post(
            account,
            kind=EntryKind.REDEMPTION,
            amount=-cost,
            by=by,
            reason=f"{formatting.plain_decimal(quantity)} {service.unit} {service.name} on {scheduled_for}",
            reference=f"redemption:{redemption.pk}",
            redemption=redemption,
        )
    return redemption


def _activate_enhanced(*, work_order, service, quantity, by) -> None:
    """An enhanced solution bought with credits becomes (or adds to) a line of the work
    order, through contracts' line services so R12/R13 apply; a refusal rolls the
    redemption back with the rule's reason."""
    from contracts import services as contract_services

    if service.code == MISSION_CRITICAL:
        raise RuleViolation(
            _(
                "Support for Mission Critical is a custom programme described in an annex "
                "to the work order; it is not bought with credits."
            ),
            field="service",
            code="needs_annex",
        )
    line = work_order.lines.filter(service=service).first()
    # Staff may record what a customer cannot (an R12 override): the redemption is
    # checked as the customer's request, the line as the contract it becomes.
    if line is None:
        contract_services.work_order_line_add(
            work_order=work_order, service=service, quantity=quantity, by=by
        )
    else:
        contract_services.work_order_line_update(
            line=line, quantity=line.quantity + quantity, by=by
        )


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
    # R17: "with the account manager's approval": a staff member who may change contracts
    # and balances (an administrator or account manager), never read-only staff.
    if not (approved_by is not None and getattr(approved_by, "pk", None) and can_edit(approved_by)):
        raise RuleViolation(
            _("R17: an exchange needs an account manager's approval."),
            rule="R17",
            field="approved_by",
        )
    work_order = redemption.work_order
    quantity = Decimal(quantity)
    scheduled_for = scheduled_for or redemption.scheduled_for
    if delivery_mode is None:
        delivery_mode = (
            DeliveryMode.DEDICATED if service.code == WORKSHOPS else DeliveryMode.STANDARD
        )
    request = dict(
        work_order=work_order,
        service=service,
        quantity=quantity,
        scheduled_for=scheduled_for,
        delivery_mode=delivery_mode,
    )
    # Seed §4.2.1: exchanging into a workshop needs the vendor's consent recorded first.
    if refusal := consent_refusal(work_order=work_order, service=service):
        raise refusal
    rate, cost = _checked_cost(**request, no_rate=_("R10: there is no rate for %(service)s yet."))
    with transaction.atomic():
        account, current = lock_scheduled(redemption)
        difference = cost - current.credits
        if abs(difference) * 100 > current.credits * EXCHANGE_TOLERANCE_PERCENT:
            raise RuleViolation(
                _(
                    "R17: %(service)s costs %(cost)s credits, not equivalent to the %(paid)s paid "
                    "(within %(tolerance)s%%)."
                )
                % {
                    "service": service.name,
                    "cost": cost,
                    "paid": current.credits,
                    "tolerance": EXCHANGE_TOLERANCE_PERCENT,
                },
                rule="R17",
            )
        new = _new_redemption(
            **request,
            rate=rate,
            cost=cost,
            by=by,
            approved_by=approved_by,
            consent=vendor_consent_for(work_order=work_order, service=service),
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
