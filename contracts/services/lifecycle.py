"""The contract's life after it is set up: customers edited, contacts invited, imported,
deactivated and proposed by the customer (R25), terms renewed and extended (R14)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone as djtz
from django.utils.translation import gettext as _

from contracts import signals
from contracts.models import (
    ContactChangeRequest,
    ContactInvitation,
    Customer,
    NamedContact,
    WorkOrder,
)
from contracts.rules import (
    check_contact_email,
    check_country,
    check_fields,
    check_timezone,
)
from contracts.rules import stamp as _stamp
from contracts.services.work_orders import (
    claim_version,
    locked_work_order,
    named_contact_add,
    named_contact_update,
    work_order_create,
)
from core.actors import author
from core.errors import Conflict, RuleViolation, StaleVersion
from core.scoping import actor_is_staff
from services.choices import PROACTIVE_CREDITS

# --- customers ---------------------------------------------------------------------------

CUSTOMER_FIELDS = {"name", "country", "timezone", "language"}


@transaction.atomic
def customer_update(*, customer: Customer, expected_version=None, by=None, **fields) -> Customer:
    """Edit a customer: country an ISO 3166 code, time zone an IANA zone, never free text."""
    unknown = set(fields) - CUSTOMER_FIELDS
    if unknown:
        raise RuleViolation(
            _("These fields cannot be changed: %(fields)s.")
            % {"fields": ", ".join(sorted(unknown))},
            field=min(unknown),
        )
    current = Customer.objects.select_for_update().get(pk=customer.pk)
    changed = {k: v for k, v in fields.items() if getattr(current, k) != v}
    if not changed:
        if expected_version is not None and int(expected_version) != current.version:
            raise StaleVersion()
        return current
    if "name" in changed and not (changed["name"] or "").strip():
        raise RuleViolation(_("A customer needs a name."), field="name")
    if "country" in changed:
        check_country(changed["country"])
    if "timezone" in changed:
        check_timezone(changed["timezone"])
    if "language" in changed and changed["language"] not in dict(settings.LANGUAGES):
        raise RuleViolation(
            _("Language must be one of %(choices)s.")
            % {"choices": ", ".join(dict(settings.LANGUAGES))},
            field="language",
        )
    new_version = claim_version(Customer, current, expected_version)
    current.refresh_from_db()
    for key, value in changed.items():
        setattr(current, key, value.strip() if key == "name" else value)
    current.version = new_version
    check_fields(current)
    _stamp(current, by).save()
    return current


# --- contacts: invitations (one-time sign-in links) ---------------------------------------

INVITATION_DAYS = 7


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def named_contact_invite(*, contact: NamedContact, by, base_url: str = "") -> tuple:
    """E-mail the contact a one-time link to set a password and sign in, linked to it.

    A new invitation (a resend) revokes the earlier ones: only the newest link works.
    Returns (invitation, link). Refused for an inactive contact (R2: it may not file).
    """
    contact = (
        NamedContact.objects.select_for_update().select_related("work_order").get(pk=contact.pk)
    )
    if not contact.active:
        raise Conflict(
            _("%(name)s is deactivated; reactivate the contact before inviting.")
            % {"name": contact.name},
            field="active",
            code="contact_inactive",
        )
    if contact.user_id is not None and contact.user.has_usable_password():
        raise Conflict(
            _("%(name)s already signs in to the portal.") % {"name": contact.name},
            code="already_signed_in",
        )
    now = djtz.now()
    ContactInvitation.objects.filter(
        contact=contact, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = ContactInvitation.objects.create(
        contact=contact,
        token_hash=_hash(token),
        email=contact.email,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
        created_by=author(by),
    )
    base = (base_url or getattr(settings, "PORTAL_BASE_URL", "") or "").rstrip("/")
    link = f"{base}/invitations/{token}/"
    subject = _("Your sign-in to the support portal")
    body = _(
        "Hello %(name)s,\n\nYou are a named contact of work order %(number)s. Set your "
        "password and sign in here (the link works once, for %(days)s days):\n\n%(link)s\n"
    ) % {
        "name": contact.name,
        "number": contact.work_order.number,
        "days": INVITATION_DAYS,
        "link": link,
    }
    # After commit: a rolled-back invitation sends nothing.
    transaction.on_commit(
        lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [contact.email])
    )
    return invitation, link


def invitation_for_token(token: str) -> ContactInvitation | None:
    """The usable invitation a link's token names, or None (used, revoked, expired, unknown)."""
    return (
        ContactInvitation.objects.select_related("contact__work_order")
        .filter(
            token_hash=_hash(token or ""),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=djtz.now(),
        )
        .first()
    )


@transaction.atomic
def contact_invitation_accept(*, token: str, password: str):
    """Set the password from a one-time link: the login is made (or found) and linked to
    the contact and to the customer's other contacts with the same e-mail. Returns the user."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise RuleViolation(
            _("This link was used already, replaced by a newer one or has expired."),
            code="invitation_invalid",
        )
    invitation = ContactInvitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise RuleViolation(_("This link was used already."), code="invitation_invalid")
    contact = invitation.contact
    customer = contact.work_order.customer
    User = get_user_model()
    user = (
        contact.user or User.objects.filter(email__iexact=contact.email, customer=customer).first()
    )
    if user is None:
        username = contact.email.lower()
        if User.objects.filter(username=username).exists():
            username = f"{username}-{secrets.token_hex(3)}"
        user = User(username=username, email=contact.email, customer=customer)
        user.first_name = contact.name[:150]
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise RuleViolation(" ".join(exc.messages), field="password") from exc
    user.set_password(password)
    user.is_active = True
    user.save()
    NamedContact.objects.filter(
        work_order__customer=customer, email__iexact=contact.email, user__isnull=True
    ).update(user=user)
    invitation.accepted_at = djtz.now()
    invitation.save(update_fields=["accepted_at"])
    return user


# --- contacts: deactivation, CSV import, the customer's proposals (R25) -------------------


@transaction.atomic
def named_contact_deactivate(*, contact: NamedContact, by=None) -> NamedContact:
    """R25: the contact loses the right to file (R2); its row and history stay."""
    current = NamedContact.objects.select_for_update().get(pk=contact.pk)
    if not current.active:
        raise Conflict(
            _("%(name)s is already deactivated.") % {"name": current.name},
            field="active",
            code="already_deactivated",
        )
    return named_contact_update(contact=current, active=False, by=by)


CSV_COLUMNS = ("name", "email", "phone")


def contacts_csv_parse(*, work_order: WorkOrder, text: str) -> list[dict]:
    """Preview of a contacts CSV (columns name, email, phone): one dict per row with
    `line`, the values and `errors` (empty when the row would be imported)."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if "name" not in header or "email" not in header:
        raise RuleViolation(
            _("The first line must name the columns: name, email (and optionally phone)."),
            field="file",
        )
    reader.fieldnames = header
    existing = {
        e.lower()
        for e in NamedContact.objects.filter(work_order=work_order).values_list("email", flat=True)
    }
    seen: set[str] = set()
    rows = []
    for number, raw in enumerate(reader, start=2):
        row = {k: (raw.get(k) or "").strip() for k in CSV_COLUMNS}
        errors = []
        if not row["name"]:
            errors.append(_("no name"))
        try:
            email = check_contact_email(work_order=work_order, email=row["email"], exclude_pk=-1)
        except RuleViolation as exc:
            errors.append(exc.message)
            email = row["email"].lower()
        if email in existing:
            errors.append(_("already a contact of this work order"))
        elif email in seen:
            errors.append(_("repeated in this file"))
        seen.add(email)
        row["email"] = email
        if len(row["phone"]) > 40:
            errors.append(_("phone longer than 40 characters"))
        rows.append({"line": number, **row, "errors": [str(e) for e in errors]})
    if not rows:
        raise RuleViolation(_("The file holds no contacts."), field="file")
    return rows


@transaction.atomic
def named_contacts_import(*, work_order: WorkOrder, text: str, by=None) -> list[NamedContact]:
    """Import the valid rows of a contacts CSV (rows with errors are skipped, as previewed);
    R1 applies to the whole set: past the limit nothing is imported."""
    rows = [r for r in contacts_csv_parse(work_order=work_order, text=text) if not r["errors"]]
    if not rows:
        raise RuleViolation(_("No row of the file can be imported."), field="file")
    work_order = locked_work_order(work_order)
    from contracts.rules import check_room_for_contact

    check_room_for_contact(work_order=work_order, adding=len(rows))
    return [
        named_contact_add(
            work_order=work_order, name=r["name"], email=r["email"], phone=r["phone"], by=by
        )
        for r in rows
    ]


PROPOSAL_FIELDS = {"name", "email", "phone", "active"}


@transaction.atomic
def contact_change_propose(
    *,
    work_order: WorkOrder,
    proposed: dict,
    contact: NamedContact | None = None,
    note: str = "",
    by,
) -> ContactChangeRequest:
    """R25: the customer's lead contact proposes a new contact or a change; staff decide."""
    lead = NamedContact.objects.filter(
        work_order=work_order, user=author(by), is_lead=True, active=True
    ).exists()
    if not lead:
        raise RuleViolation(
            _("R25: only the customer's lead contact proposes changes to named contacts."),
            rule="R25",
            code="not_lead",
        )
    proposed = {k: v for k, v in proposed.items() if k in PROPOSAL_FIELDS and v not in (None, "")}
    if contact is None and not {"name", "email"} <= set(proposed):
        raise RuleViolation(
            _("A new contact needs a name and an e-mail."), rule="R25", field="email"
        )
    if contact is not None and contact.work_order_id != work_order.pk:
        raise RuleViolation(_("That contact belongs to another work order."), field="contact")
    if not proposed:
        raise RuleViolation(_("Propose at least one change."), rule="R25")
    request = ContactChangeRequest.objects.create(
        work_order=work_order,
        contact=contact,
        proposed=proposed,
        note=(note or "")[:300],
        proposed_by=author(by),
    )
    # notifications e-mails the account manager, in this transaction (the outbox).
    signals.contact_change_proposed.send(sender=ContactChangeRequest, request=request, by=by)
    return request


@transaction.atomic
def contact_change_decide(
    *, request: ContactChangeRequest, accept: bool, by
) -> ContactChangeRequest:
    """Staff accept (the change is made, R1 and every contact rule apply) or decline."""
    if not actor_is_staff(by):
        raise RuleViolation(_("R25: staff decide on proposed contact changes."), rule="R25")
    request = ContactChangeRequest.objects.select_for_update().get(pk=request.pk)
    if request.state != ContactChangeRequest.State.OPEN:
        raise Conflict(_("This proposal was decided already."), code="decided")
    if accept:
        data = dict(request.proposed)
        if request.contact is None:
            named_contact_add(work_order=request.work_order, by=by, **data)
        else:
            named_contact_update(contact=request.contact, by=by, **data)
    request.state = (
        ContactChangeRequest.State.ACCEPTED if accept else ContactChangeRequest.State.DECLINED
    )
    request.decided_by = author(by)
    request.decided_at = djtz.now()
    request.save(update_fields=["state", "decided_by", "decided_at"])
    # notifications e-mails the lead contact who proposed it, in this transaction.
    signals.contact_change_decided.send(sender=ContactChangeRequest, request=request, by=by)
    return request


# --- renewal and extension (R14) ----------------------------------------------------------


def _next_number(number: str) -> str:
    base = number
    n = 2
    candidate = f"{base}-R{n}"
    while WorkOrder.objects.filter(number=candidate).exists():
        n += 1
        candidate = f"{base}-R{n}"
    return candidate


@transaction.atomic
def work_order_renew(
    *,
    work_order: WorkOrder,
    number: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    quantities: dict | None = None,
    by=None,
) -> WorkOrder:
    """The next term: same customer, package, location, products, contacts and lines
    (quantities may change per service code; 0 drops a line). The old term's unused
    entitlements are not carried over: they lapse at its end (R14). The terms are linked."""
    old = WorkOrder.objects.select_for_update().select_related("customer").get(pk=work_order.pk)
    if WorkOrder.objects.filter(renewed_from=old).exists():
        raise Conflict(
            _("Work order %(number)s was renewed already.") % {"number": old.number},
            code="already_renewed",
        )
    if old.terminated_at is not None:
        raise Conflict(_("A terminated work order is not renewed."), code="terminated")
    start_date = start_date or (old.end_date + dt.timedelta(days=1))
    if end_date is None:
        length = old.end_date - old.start_date
        end_date = start_date + length
    if start_date <= old.end_date:
        raise RuleViolation(
            _("R14: the new term starts after the old one ends (%(end)s).") % {"end": old.end_date},
            rule="R14",
            field="start_date",
        )
    quantities = {k: v for k, v in (quantities or {}).items()}
    lines = []
    codes = set()
    for line in old.lines.select_related("service"):
        codes.add(line.service.code)
        quantity = Decimal(str(quantities.pop(line.service.code, line.quantity)))
        if quantity == 0:
            continue
        lines.append(
            {
                "service": line.service,
                "quantity": quantity,
                "bounds_override": line.bounds_override,
                "override_reason": line.override_reason,
            }
        )
    for code, quantity in quantities.items():
        # New services in the new term.
        if Decimal(str(quantity)) > 0:
            lines.append({"service": code, "quantity": Decimal(str(quantity))})
    new = work_order_create(
        customer=old.customer,
        number=(number or "").strip() or _next_number(old.number),
        package=old.package,
        start_date=start_date,
        end_date=end_date,
        support_location=old.support_location,
        account_manager=old.account_manager,
        named_contact_limit=old.named_contact_limit,
        cancellation_fee_percent=old.cancellation_fee_percent,
        low_credit_threshold=old.low_credit_threshold,
        deployment_docs_on_file=old.deployment_docs_on_file,
        cloud_subscription_active=old.cloud_subscription_active,
        products=old.products,
        lines=lines,
        by=by,
    )
    WorkOrder.objects.filter(pk=new.pk).update(
        renewed_from=old, yearly_entitlements=old.yearly_entitlements
    )
    contacts = [
        NamedContact(
            work_order=new,
            user=c.user,
            name=c.name,
            email=c.email,
            phone=c.phone,
            active=True,
            is_lead=c.is_lead,
        )
        for c in old.contacts.filter(active=True)
    ]
    for c in contacts:
        _stamp(c, by, "renewed")
    # One insert for 50+ contacts; the limit was met on the old term with the same package.
    NamedContact.objects.bulk_create(contacts)
    new.refresh_from_db()
    return new


#: What happens to unused credits and hours when a term is extended (R14).
EXTEND_KEEP = "keep"
EXTEND_EXPIRE = "expire"


def unused_entitlements(work_order: WorkOrder) -> dict:
    """Unexpired hour blocks with hours left, and proactive-credit lines, of a work order."""
    hours = Decimal(0)
    credit_lines = 0
    for line in work_order.lines.filter(expired_at__isnull=True).select_related("service"):
        if line.service.is_hour_block:
            hours += line.remaining
        elif line.service.code == PROACTIVE_CREDITS:
            credit_lines += 1
    return {"hours": hours, "credit_lines": credit_lines}


@transaction.atomic
def work_order_extend(
    *, work_order: WorkOrder, end_date: dt.date, unused: str, reason: str = "", by=None
) -> WorkOrder:
    """Move the end date later, saying what happens to unused entitlements (R14):
    `expire` lapses them now (the old term's credits and hours are gone; buy new lines for
    the extension); `keep` carries them into the longer term, with a recorded reason."""
    from contracts.services.work_orders import work_order_update

    # The stored term, not a form's instance that may already carry the new date.
    work_order = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    if end_date <= work_order.end_date:
        raise RuleViolation(
            _("An extension moves the end date later than %(end)s.") % {"end": work_order.end_date},
            field="end_date",
        )
    if unused not in (EXTEND_KEEP, EXTEND_EXPIRE):
        raise RuleViolation(
            _("R14: say whether unused credits and hours expire now or are kept."),
            rule="R14",
            field="unused",
            code="extension_choice_required",
        )
    if unused == EXTEND_KEEP and not (reason or "").strip():
        raise RuleViolation(
            _("R14: keeping unused entitlements past the term needs a reason."),
            rule="R14",
            field="reason",
        )
    if unused == EXTEND_EXPIRE:
        # credits expires the balance and the hour blocks under its own lock.
        signals.term_extended.send(sender=WorkOrder, work_order=work_order, by=by)
    updated = work_order_update(work_order=work_order, end_date=end_date, by=by, _extension=True)
    _stamp(updated, by, f"R14 extension: unused {unused}. {reason}".strip())
    return updated
