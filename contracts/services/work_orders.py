"""Writes for work orders, their lines and named contacts (R1, R12, R13, R25)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.db import transaction
from django.db.models import F, ProtectedError
from django.utils import timezone as djtz
from django.utils.translation import gettext as _

from contracts import signals
from contracts.choices import DEFAULT_CONTACT_LIMITS
from contracts.models import (
    Customer,
    NamedContact,
    SupportLocation,
    WorkOrder,
    WorkOrderLine,
)
from contracts.rules import (
    check_cancellation_fee,
    check_contact_email,
    check_contact_limit_value,
    check_fields,
    check_line,
    check_location,
    check_room_for_contact,
    check_term,
)
from contracts.rules import (
    stamp as _stamp,
)
from contracts.times import work_order_today
from core import formatting
from core.actors import author
from core.errors import Conflict, RuleViolation, StaleVersion
from core.scoping import actor_is_staff
from services.choices import DSE, Package, Unit
from services.models import Service

UNSET = object()


def _unit(value: str) -> str:
    """A line's unit in the reader's language ('hours', 'uren')."""
    return str(Unit(value).label) if value in Unit.values else value


def _check_not_terminated(work_order: WorkOrder) -> None:
    if work_order.terminated_at is not None:
        raise Conflict(
            _("Work order %(number)s is terminated; it can no longer change.")
            % {"number": work_order.number},
            field="work_order",
        )


# --- Work orders -------------------------------------------------------------------------

#: The fields work_order_update changes, in the order forms show them (the admin's too).
WORK_ORDER_FIELDS = (
    "number",
    "package",
    "start_date",
    "end_date",
    "named_contact_limit",
    "support_location",
    "account_manager",
    "cancellation_fee_percent",
    "low_credit_threshold",
    "deployment_docs_on_file",
    "cloud_subscription_active",
    "products",
    "notes",
)


@transaction.atomic
def work_order_create(
    *,
    customer: Customer,
    number: str,
    package: str,
    start_date: dt.date,
    end_date: dt.date,
    support_location: SupportLocation | None = None,
    account_manager=None,
    named_contact_limit=UNSET,
    cancellation_fee_percent=Decimal("100"),
    low_credit_threshold: int | None = None,
    lines: Iterable[dict] = (),
    by=None,
    **extra,
) -> WorkOrder:
    """Create a work order with its lines; `lines` are dicts of work_order_line_add's arguments."""
    unknown = set(extra) - {
        "deployment_docs_on_file",
        "cloud_subscription_active",
        "products",
        "notes",
    }
    if unknown:
        raise RuleViolation(
            _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    number = (number or "").strip()
    if not number:
        raise RuleViolation(_("A work order needs a number."), field="number")
    if package not in Package.values:
        raise RuleViolation(
            _("Package must be one of %(choices)s.") % {"choices": ", ".join(Package.values)},
            field="package",
        )
    check_term(start_date, end_date)
    if named_contact_limit is UNSET:
        named_contact_limit = DEFAULT_CONTACT_LIMITS[package]
    check_contact_limit_value(package=package, limit=named_contact_limit)
    check_cancellation_fee(cancellation_fee_percent)
    check_location(customer.pk, support_location)
    if WorkOrder.objects.filter(number=number).exists():
        raise RuleViolation(
            _("Work order number %(number)s is taken.") % {"number": number}, field="number"
        )
    work_order = WorkOrder(
        customer=customer,
        number=number,
        package=package,
        start_date=start_date,
        end_date=end_date,
        support_location=support_location,
        account_manager=account_manager,
        named_contact_limit=named_contact_limit,
        cancellation_fee_percent=cancellation_fee_percent,
        low_credit_threshold=low_credit_threshold,
        **extra,
    )
    check_fields(work_order)
    _stamp(work_order, by).save()
    for line in lines:
        work_order_line_add(work_order=work_order, by=by, **line)
    return work_order


def _as_version(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise RuleViolation(_("The version must be a whole number."), field="version") from exc


def claim_version(model, obj, expected_version) -> int:
    """Compare-and-swap the version; returns the new one. StaleVersion if it moved.

    The conditional UPDATE both checks and takes the row lock, so of two saves that
    read the same version only the first wins; the second sees 0 rows and is refused.
    """
    if expected_version is None:
        # No version given: still serialise on the row and bump it.
        current = model.objects.select_for_update().values_list("version", flat=True).get(pk=obj.pk)
        model.objects.filter(pk=obj.pk).update(version=current + 1)
        return current + 1
    expected = _as_version(expected_version)
    if not model.objects.filter(pk=obj.pk, version=expected).update(version=expected + 1):
        raise StaleVersion()
    return expected + 1


def _differs(work_order: WorkOrder, name: str, value) -> bool:
    """Whether setting `name` to `value` changes the work order ("2026-01-31" equals the date)."""
    field = WorkOrder._meta.get_field(name)
    if field.is_relation:
        current = getattr(work_order, field.attname)
        return current != (value.pk if hasattr(value, "pk") else value)
    try:
        value = field.to_python(value)
    except Exception:  # noqa: BLE001 - a bad value is "changed": the checks below refuse it
        return True
    return getattr(work_order, name) != value


@transaction.atomic
def work_order_update(
    *, work_order: WorkOrder, expected_version=None, by=None, **fields
) -> WorkOrder:
    """Change a work order's fields; re-checks the term, R1 and the lines (R12, R13).

    A later end date with unused credits or hours is refused (R14): work_order_extend
    asks what happens to them."""
    extension = fields.pop("_extension", False)
    unknown = set(fields) - set(WORK_ORDER_FIELDS)
    if unknown:
        raise RuleViolation(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    # Lock the row before comparing, so "nothing changed" is judged on the latest version.
    current = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=work_order.pk)
    )
    _check_not_terminated(current)
    changed = {k: v for k, v in fields.items() if _differs(current, k, v)}
    if not changed:
        # A no-op: no version bump and no history row; a stale version is still refused.
        if expected_version is not None and _as_version(expected_version) != current.version:
            raise StaleVersion()
        return current
    if "end_date" in changed and not extension:
        _check_extension(current, changed["end_date"])
    new_version = claim_version(WorkOrder, work_order, expected_version)
    work_order = WorkOrder.objects.select_related("customer").get(pk=work_order.pk)
    if "package" in changed and changed["package"] not in Package.values:
        raise RuleViolation(
            _("Package must be one of %(choices)s.") % {"choices": ", ".join(Package.values)},
            field="package",
        )
    if "package" in changed and "named_contact_limit" not in fields:
        # A new package brings its own default limit (R1), unless one is given.
        changed["named_contact_limit"] = DEFAULT_CONTACT_LIMITS[changed["package"]]
    if "named_contact_limit" in changed and by is not None and not actor_is_staff(by):
        raise RuleViolation(
            _("R1: only staff may change the named-contact limit."),
            rule="R1",
            field="named_contact_limit",
        )
    if (
        "number" in changed
        and WorkOrder.objects.filter(number=changed["number"]).exclude(pk=work_order.pk).exists()
    ):
        raise RuleViolation(
            _("Work order number %(number)s is taken.") % {"number": changed["number"]},
            field="number",
        )
    if "support_location" in changed:
        check_location(work_order.customer_id, changed["support_location"])
    if "cancellation_fee_percent" in changed:
        check_cancellation_fee(changed["cancellation_fee_percent"])
    for key, value in changed.items():
        setattr(work_order, key, value)
    check_term(work_order.start_date, work_order.end_date)
    if {"package", "named_contact_limit"} & set(changed):
        active = NamedContact.objects.filter(work_order=work_order, active=True).count()
        check_contact_limit_value(
            package=work_order.package, limit=work_order.named_contact_limit, active_count=active
        )
    lines = list(work_order.lines.select_related("service"))
    if "package" in changed:
        for line in lines:
            check_line(
                work_order=work_order,
                service=line.service,
                quantity=line.quantity,
                bounds_override=line.bounds_override,
                override_reason=line.override_reason or "recorded",
                by=line.override_by if line.bounds_override else by,
            )
    work_order.version = new_version
    check_fields(work_order)
    _stamp(work_order, by).save()
    if "end_date" in changed:
        # R13: DSE ends on the same date as the work order.
        for line in lines:
            if line.service.code == DSE and line.ends_on != work_order.end_date:
                line.ends_on = work_order.end_date
                _stamp(line, by, "R13: follows the work order's end date").save(
                    update_fields=["ends_on"]
                )
    return work_order


def _check_extension(work_order: WorkOrder, end_date) -> None:
    """R14: moving the end date later would silently carry unused credits and hours
    into the longer term; refuse and point at the extension, which asks."""
    try:
        end_date = WorkOrder._meta.get_field("end_date").to_python(end_date)
    except Exception:  # noqa: BLE001 - check_term refuses a bad date with its message
        return
    if end_date is None or end_date <= work_order.end_date:
        return
    from contracts.services.lifecycle import unused_entitlements

    unused = unused_entitlements(work_order)
    if unused["hours"] > 0 or unused["credit_lines"]:
        raise RuleViolation(
            _(
                "R14: extending the term to %(end)s would keep %(hours)s unused hours and "
                "the unused credits; extend it with a choice: expire them now or keep them."
            )
            # Localized: normalize() alone showed 10 hours as "1E+1" (issue #19).
            % {"end": formatting.fmt_date(end_date), "hours": formatting.number(unused["hours"])},
            rule="R14",
            field="end_date",
            code="extension_choice_required",
        )


@transaction.atomic
def work_order_terminate(*, work_order: WorkOrder, by=None) -> WorkOrder:
    """End the work order now; its DSE lines end on the same date (R13)."""
    new_version = claim_version(WorkOrder, work_order, None)
    work_order = WorkOrder.objects.get(pk=work_order.pk)
    _check_not_terminated(work_order)
    work_order.terminated_at = djtz.now()
    work_order.version = new_version
    _stamp(work_order, by, "terminated").save()
    # R13: "if the agreement expires or is terminated, DSE ends on the same date". The
    # day it was terminated in the work order's own zone (like every term date,
    # contracts.times), never after the term.
    last_day = min(work_order_today(work_order, now=work_order.terminated_at), work_order.end_date)
    for line in work_order.lines.filter(service__code=DSE).exclude(ends_on__lte=last_day):
        line.ends_on = last_day
        _stamp(line, by, "R13: ends with the terminated work order").save(update_fields=["ends_on"])
    return work_order


# --- Lines -------------------------------------------------------------------------------


def locked_work_order(work_order: WorkOrder) -> WorkOrder:
    # Lock the work order: lines and contacts are checked against it and its siblings.
    return WorkOrder.objects.select_for_update().get(pk=work_order.pk)


@transaction.atomic
def work_order_line_add(
    *,
    work_order: WorkOrder,
    service: Service | str,
    quantity,
    bounds_override: bool = False,
    override_reason: str = "",
    by=None,
) -> WorkOrderLine:
    work_order = locked_work_order(work_order)
    _check_not_terminated(work_order)
    if isinstance(service, str):
        service = Service.objects.filter(code=service).first()
        if service is None:
            raise RuleViolation(_("Unknown service code."), field="service")
    quantity = check_line(
        work_order=work_order,
        service=service,
        quantity=quantity,
        bounds_override=bounds_override,
        override_reason=override_reason,
        by=by,
    )
    override = bool(bounds_override and service.quantity_bounds_error(quantity))
    line = WorkOrderLine(
        work_order=work_order,
        service=service,
        quantity=quantity,
        unit=service.unit,
        bounds_override=override,
        override_reason=override_reason.strip() if override else "",
        override_by=author(by) if override else None,
        ends_on=work_order.end_date if service.code == DSE else None,
    )
    check_fields(line)
    _stamp(line, by, f"R12 override: {override_reason.strip()}" if override else "").save()
    WorkOrder.objects.filter(pk=work_order.pk).update(version=F("version") + 1)
    signals.line_changed.send(sender=WorkOrderLine, line=line, created=True, by=by)
    return line


@transaction.atomic
def work_order_line_update(
    *,
    line: WorkOrderLine,
    quantity,
    bounds_override=None,
    override_reason: str | None = None,
    by=None,
) -> WorkOrderLine:
    work_order = locked_work_order(line.work_order)
    _check_not_terminated(work_order)
    line = WorkOrderLine.objects.select_related("service").get(pk=line.pk)
    bounds_override = line.bounds_override if bounds_override is None else bounds_override
    override_reason = line.override_reason if override_reason is None else override_reason
    # An override already recorded stays valid for the staff member who made it.
    actor = (
        line.override_by
        if (line.bounds_override and bounds_override and not actor_is_staff(by))
        else by
    )
    quantity = check_line(
        work_order=work_order,
        service=line.service,
        quantity=quantity,
        bounds_override=bounds_override,
        override_reason=override_reason,
        by=actor,
    )
    if quantity < line.used:
        raise Conflict(
            _("R11: %(used)s are already used; the quantity cannot go below that.")
            % {"used": formatting.quantity(line.used, line.unit)},
            rule="R11",
            field="quantity",
        )
    previous = line.quantity
    override = bool(bounds_override and line.service.quantity_bounds_error(quantity))
    if quantity == previous and override == line.bounds_override:
        return line
    if override and not line.bounds_override:
        line.override_by = author(by)
    line.quantity = quantity
    line.bounds_override = override
    line.override_reason = override_reason.strip() if override else ""
    line.override_by = line.override_by if override else None
    check_fields(line)
    _stamp(line, by).save()
    WorkOrder.objects.filter(pk=work_order.pk).update(version=F("version") + 1)
    signals.line_changed.send(
        sender=WorkOrderLine, line=line, created=False, by=by, previous_quantity=previous
    )
    return line


@transaction.atomic
def work_order_line_remove(*, line: WorkOrderLine, by=None) -> None:
    work_order = locked_work_order(line.work_order)
    _check_not_terminated(work_order)
    line = WorkOrderLine.objects.get(pk=line.pk)
    if line.used > 0:
        raise Conflict(
            _("R11: %(used)s of this line are used; it cannot be removed.")
            % {"used": formatting.quantity(line.used, line.unit)},
            rule="R11",
            field="quantity",
        )
    # Before deleting, inside this transaction: credits takes a proactive-credits line's
    # grant back (or refuses with a Conflict if it was spent), so the ledger and the
    # lines never disagree; a refusal rolls the whole removal back.
    signals.line_changed.send(
        sender=WorkOrderLine,
        line=line,
        created=False,
        removed=True,
        by=by,
        previous_quantity=line.quantity,
    )
    try:
        # A savepoint: a refused delete must leave the outer transaction usable.
        with transaction.atomic():
            _stamp(line, by).delete()
    except ProtectedError as exc:
        # Rows of other apps (credit ledger, time entries) still point at the line.
        raise Conflict(
            _(
                "This line has ledger or time entries; it cannot be removed "
                "(lower its quantity instead)."
            ),
            field="service",
        ) from exc
    WorkOrder.objects.filter(pk=work_order.pk).update(version=F("version") + 1)


# --- Named contacts ------------------------------------------------------------------------


def _contact_user(work_order: WorkOrder, email: str, user):
    from django.contrib.auth import get_user_model

    if user is not None:
        if user.customer_id != work_order.customer_id:
            raise RuleViolation(_("That user belongs to another customer."), field="user")
        return user
    return (
        get_user_model()
        .objects.filter(email__iexact=email, customer_id=work_order.customer_id)
        .first()
    )


@transaction.atomic
def named_contact_add(
    *,
    work_order: WorkOrder,
    name: str,
    email: str,
    phone: str = "",
    active: bool = True,
    is_lead: bool = False,
    user=None,
    by=None,
) -> NamedContact:
    """Add a named contact (R1: Conflict past the package's limit; R25: history kept)."""
    # The row lock makes count-then-insert safe against a concurrent add.
    work_order = locked_work_order(work_order)
    if not (name or "").strip():
        raise RuleViolation(_("A named contact needs a name."), field="name")
    email = check_contact_email(work_order=work_order, email=email)
    if active:
        check_room_for_contact(work_order=work_order)
    contact = NamedContact(
        work_order=work_order,
        name=name.strip(),
        email=email,
        phone=(phone or "").strip(),
        active=active,
        is_lead=is_lead,
        user=_contact_user(work_order, email, user),
    )
    check_fields(contact)
    _stamp(contact, by).save()
    return contact


CONTACT_FIELDS = {"name", "email", "phone", "active", "is_lead", "user"}


@transaction.atomic
def named_contact_update(
    *, contact: NamedContact, expected_version=None, by=None, **fields
) -> NamedContact:
    unknown = set(fields) - CONTACT_FIELDS
    if unknown:
        raise RuleViolation(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    work_order = locked_work_order(contact.work_order)
    new_version = claim_version(NamedContact, contact, expected_version)
    contact = NamedContact.objects.get(pk=contact.pk)
    if "email" in fields:
        fields["email"] = check_contact_email(
            work_order=work_order, email=fields["email"], exclude_pk=contact.pk
        )
    if "name" in fields and not (fields["name"] or "").strip():
        raise RuleViolation(_("A named contact needs a name."), field="name")
    if fields.get("active") and not contact.active:
        # R1 counts active contacts: reactivating one takes a place too.
        check_room_for_contact(work_order=work_order, exclude_pk=contact.pk)
    if "user" in fields:
        fields["user"] = _contact_user(
            work_order, fields.get("email", contact.email), fields["user"]
        )
    elif "email" in fields and fields["email"] != contact.email and contact.user_id is None:
        fields["user"] = _contact_user(work_order, fields["email"], None)
    for key, value in fields.items():
        setattr(contact, key, value)
    contact.version = new_version
    check_fields(contact)
    _stamp(contact, by).save()
    return contact
