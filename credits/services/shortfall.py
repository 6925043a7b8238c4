"""R18: a Software Assurance shortfall invoiced within 30 days of the start or an anniversary.

The conversion itself adds credits (`credits_sa_conversion`); when the SA benefits fall
short of what the work order sets, the vendor may invoice the shortfall, but only within
a window after the start of the term or an anniversary (credits.shortfall has the
windows and the decisions: inclusive day 0 to day 30, clipped to the end of the term).
"""

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

import pycountry
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.models import WorkOrder
from contracts.times import work_order_today
from core import formatting
from core.actors import author
from core.errors import Conflict, RuleViolation
from credits.choices import SHORTFALL_DEFAULT_CURRENCY, SHORTFALL_WINDOW_DAYS
from credits.models import ShortfallInvoice
from credits.services.common import require_editor
from credits.shortfall import ShortfallWindow, work_order_shortfall_window

_CURRENCY = re.compile(r"^[A-Z]{3}$")
#: The longest void reason accepted (a sentence or two, shown beside the invoice).
VOID_REASON_MAX = 500


def _day(value: dt.date) -> str:
    return formatting.fmt_date(value, "day")


def _outside_window(window: ShortfallWindow | None) -> RuleViolation:
    if window is None:
        message = _(
            "R18: a shortfall may be invoiced only within %(days)s days of the start of the "
            "term or of an anniversary, and no window is left in this term."
        ) % {"days": SHORTFALL_WINDOW_DAYS}
    else:
        message = _(
            "R18: a shortfall may be invoiced only within %(days)s days of the start of the "
            "term or of an anniversary; the next window is %(opens)s to %(closes)s."
        ) % {
            "days": SHORTFALL_WINDOW_DAYS,
            "opens": _day(window.opens_on),
            "closes": _day(window.closes_on),
        }
    return RuleViolation(message, rule="R18", field="invoiced_on", code="outside_shortfall_window")


def _clean_amount(amount) -> Decimal:
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, TypeError, ValueError):
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise RuleViolation(
            _("R18: a shortfall invoice is a positive amount."), rule="R18", field="amount"
        )
    if value != value.quantize(Decimal("0.01")) or value >= Decimal("1e10"):
        raise RuleViolation(
            _("R18: the amount has at most 10 digits and 2 decimals."), rule="R18", field="amount"
        )
    return value


def shortfall_invoice_record(
    *,
    work_order,
    amount,
    reference: str,
    on: dt.date | None = None,
    note: str = "",
    currency: str = SHORTFALL_DEFAULT_CURRENCY,
    by,
) -> ShortfallInvoice:
    """R18: record that a shortfall was invoiced on `on` (default today), staff editors only.

    Allowed only while the work order is current and `on` lies in a shortfall window
    (day 0 to day 30 after the start of the term or an anniversary); one invoice per
    window (Conflict R18, backed by a unique constraint). `on` may be an earlier day
    (an invoice sent before it was recorded), never a later one.
    """
    require_editor(by, rule="R18", what=_("record a shortfall invoice"))
    today = work_order_today(work_order)
    on = on or today
    if on > today:
        raise RuleViolation(
            _("R18: a shortfall invoice cannot be dated in the future."),
            rule="R18",
            field="invoiced_on",
        )
    value = _clean_amount(amount)
    currency = (currency or "").strip().upper()
    if not _CURRENCY.match(currency) or pycountry.currencies.get(alpha_3=currency) is None:
        raise RuleViolation(
            _("R18: the currency is a three-letter ISO 4217 code such as EUR."),
            rule="R18",
            field="currency",
        )
    reference = (reference or "").strip()
    if not reference:
        raise RuleViolation(
            _("R18: name the invoice (its number in the billing system)."),
            rule="R18",
            field="reference",
        )
    note = (note or "").strip()
    if len(reference) > 200 or len(note) > 300:
        raise RuleViolation(
            _("R18: the reference has at most 200 characters and the note 300."),
            rule="R18",
            field="reference" if len(reference) > 200 else "note",
        )

    with transaction.atomic():
        # Lock the work order: a termination or a term change committed meanwhile is seen
        # here, and two staff recording the same window queue up (the second gets Conflict).
        work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
        if work_order.terminated_at is not None:
            raise RuleViolation(
                _("R18: work order %(number)s is terminated; no shortfall can be invoiced.")
                % {"number": work_order.number},
                rule="R18",
                code="work_order_terminated",
            )
        if not work_order.covers(on):
            raise RuleViolation(
                _(
                    "R18: %(day)s is outside the term of work order %(number)s "
                    "(%(start)s to %(end)s)."
                )
                % {
                    "day": _day(on),
                    "number": work_order.number,
                    "start": _day(work_order.start_date),
                    "end": _day(work_order.end_date),
                },
                rule="R18",
                field="invoiced_on",
                code="outside_term",
            )
        window = work_order_shortfall_window(work_order, on)
        if window is None or not window.contains(on):
            raise _outside_window(window)
        # Only a live invoice holds its window: a voided one freed it for a correction.
        existing = ShortfallInvoice.objects.filter(
            work_order=work_order, window_opens_on=window.opens_on, voided_at__isnull=True
        ).first()
        if existing is not None:
            raise _already_invoiced(window, existing.reference)
        try:
            # A savepoint: a twin committed between the check and here breaks only this.
            with transaction.atomic():
                return ShortfallInvoice.objects.create(
                    work_order=work_order,
                    term_year=window.year,
                    window_opens_on=window.opens_on,
                    window_closes_on=window.closes_on,
                    invoiced_on=on,
                    amount=value,
                    currency=currency,
                    reference=reference,
                    note=note,
                    created_by=author(by),
                )
        except IntegrityError as exc:
            twin = ShortfallInvoice.objects.filter(
                work_order=work_order, window_opens_on=window.opens_on, voided_at__isnull=True
            ).first()
            raise _already_invoiced(window, twin.reference if twin else "?") from exc


def _already_invoiced(window: ShortfallWindow, reference: str) -> Conflict:
    return Conflict(
        _(
            "R18: a shortfall was already invoiced for the window %(opens)s to %(closes)s "
            "(%(reference)s); one invoice per window."
        )
        % {
            "opens": _day(window.opens_on),
            "closes": _day(window.closes_on),
            "reference": reference,
        },
        rule="R18",
        code="shortfall_already_invoiced",
    )


def shortfall_invoice_void(*, invoice: ShortfallInvoice, reason: str, by) -> ShortfallInvoice:
    """R18: void a wrongly recorded shortfall invoice, staff editors only, with a reason.

    Voiding is not deleting: the row stays, only `voided_at`, `voided_by` and
    `void_reason` are set, once (a second void is a Conflict R18). The window it held
    is free again for a corrected invoice (the unique constraint covers live ones only).
    Returns the invoice as stored after the void.
    """
    require_editor(by, rule="R18", what=_("void a shortfall invoice"))
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(
            _("R18: say why the shortfall invoice is voided."),
            rule="R18",
            field="reason",
            code="void_reason_required",
        )
    if len(reason) > VOID_REASON_MAX:
        raise RuleViolation(
            _("R18: the reason has at most %(max)s characters.") % {"max": VOID_REASON_MAX},
            rule="R18",
            field="reason",
        )
    # Claim before you act: a conditional UPDATE on a live row. Of two clicks (or two
    # staff) only one matches `voided_at IS NULL`; the other updates nothing and is told.
    won = ShortfallInvoice.objects.filter(pk=invoice.pk, voided_at__isnull=True).update(
        voided_at=timezone.now(), voided_by=author(by), void_reason=reason
    )
    if not won:
        raise Conflict(
            _("R18: the shortfall invoice %(reference)s is already voided.")
            % {"reference": invoice.reference},
            rule="R18",
            code="shortfall_already_voided",
        )
    invoice.refresh_from_db(fields=["voided_at", "voided_by", "void_reason"])
    return invoice
