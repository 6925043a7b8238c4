"""The incident row: locked, saved with its history, copied back, its external
reference checked, and what opening one reads before it writes."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, connection
from django.db.models import F
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from contracts.models import NamedContact
from core.actors import author
from core.errors import Conflict, StaleVersion
from core.history import actor_reason
from core.prepared import PreparedQueries
from core.scoping import actor_customer_id, actor_is_staff
from incidents import caches
from incidents.choices import NUMBER_DIGITS, NUMBER_PREFIX
from incidents.models import Incident

NUMBER_SEQUENCE = "incidents_incident_number_seq"
EDITABLE_FIELDS = {"title", "description", "product", "external_reference", "around_the_clock"}


def lock_incident(
    incident: Incident, *, expected_version: int | None = None, bump: bool = True
) -> Incident:
    """The incident locked for this transaction, its version bumped.

    With expected_version, the bump is a conditional UPDATE ... WHERE version = N: if
    someone saved in between, nothing matches and the caller gets StaleVersion.
    """
    if expected_version is not None:
        won = Incident.objects.filter(pk=incident.pk, version=expected_version).update(
            version=F("version") + 1
        )
        if not won:
            raise StaleVersion()
    locked = (
        Incident.objects.select_for_update(of=("self",))
        .select_related(
            "work_order__customer",
            "work_order__support_location",
            "work_order__account_manager",
            "assignee",
            "contact__user",  # the contact's language for e-mails (notifications.localize)
        )
        .get(pk=incident.pk)
    )
    if expected_version is None and bump:
        locked.version += 1
    return locked


def save_incident(incident: Incident, by, reason: str) -> None:
    incident._history_user = author(by)
    incident._change_reason = actor_reason(by, reason)
    incident.save()


def check_external_reference(
    *, customer_id: int, external_reference: str, exclude_id: int | None = None
) -> None:
    """API.md Revision 2: `external_reference` is unique per customer; a second incident
    with the same one is a Conflict naming the existing incident.

    For an edit of an incident's reference: a transaction-scoped advisory lock per
    (customer, reference) makes two concurrent edits queue here, and the second one
    finds the first. (A create needs none of this: it inserts, and the unique index
    refuses; see refuse_taken_external_reference.)"""
    reference = (external_reference or "").strip()
    if not reference:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"incident-external-reference:{customer_id}:{reference}"],
        )
    refuse_taken_external_reference(
        customer_id=customer_id, external_reference=reference, exclude_id=exclude_id
    )


def refuse_taken_external_reference(
    *, customer_id: int, external_reference: str, exclude_id: int | None = None
) -> None:
    """The Conflict naming the incident of this customer that has the reference, if any."""
    existing = (
        Incident.objects.filter(customer_id=customer_id, external_reference=external_reference)
        .exclude(pk=exclude_id)
        .values_list("pk", "number")
        .first()
    )
    if existing is not None:
        raise Conflict(
            _(
                "External reference %(reference)s is already used by incident %(number)s "
                "(id %(id)s)."
            )
            % {"reference": external_reference, "number": existing[1], "id": existing[0]},
            rule="",
            field="external_reference",
            code="external_reference_taken",
        )


def violates(error: IntegrityError, constraint: str) -> bool:
    """Whether PostgreSQL refused the statement for this unique index or constraint."""
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == constraint


def sync_instance(target: Incident, source: Incident) -> None:
    """Copy the saved state back onto the caller's instance, so it is not stale."""
    if target is source:
        return
    for f in Incident._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))


@dataclass(slots=True)
class OpeningReads:
    """What incident_open reads before it writes (see opening_reads)."""

    contact: NamedContact | None  # with work_order, its customer, location and manager
    number: str
    incident_id: int | None  # drawn on PostgreSQL, so the rows written with it need no RETURNING
    targets_version: int | None  # None: read the target table uncached


def opening_reads(by, work_order, contact) -> OpeningReads:
    """incident_open's reads, inside its transaction: the named contact (an instance, or
    an e-mail in any case) of the work order (an instance or an id) as `by` may see it
    (the one door; None is the system), with the rows the opening needs, so a
    deactivation a moment ago counts; the next incident number and id; the version of
    the target table for incidents.caches.

    One statement (issue #6), compiled once per process and shape (core.prepared; issue
    #20: compiling it was 2.8 ms of the create's 11 ms of CPU). A number drawn for a
    refused contact is a gap, as after any rollback. Contact e-mails are unique per work
    order in any case (contracts), so at most one row matches.
    """
    work_order_id = work_order if isinstance(work_order, int) else work_order.pk
    by_email = isinstance(contact, str)
    kind = _actor_kind(by)
    examples = {"work_order": 0, "contact": "" if by_email else 0}
    if kind == "customer":
        examples["customer"] = 0
    query = OPENING_READ.get(
        (kind, by_email), lambda s: _opening_queryset(by, kind, by_email, s), **examples
    )
    values = {"work_order": work_order_id, "contact": contact if by_email else contact.pk}
    if kind == "customer":
        values["customer"] = actor_customer_id(by)
    found = query.first(**values)
    if found is None:
        return OpeningReads(None, "", None, None)
    return OpeningReads(
        found, _format_number(found.opening_number), found.opening_id, found.targets_version
    )


#: The opening read per actor kind and contact form (core.prepared).
OPENING_READ = PreparedQueries()


@dataclass(frozen=True, slots=True)
class _CustomerShape:
    """A customer's actor as `visible_to` reads one, with a prepared query's sentinel."""

    customer_id: int
    is_authenticated: bool = True
    is_staff: bool = False


def _actor_kind(by) -> str:
    if by is None:
        return "system"
    if actor_is_staff(by):
        return "staff"
    return "customer" if actor_customer_id(by) is not None else "nobody"


def _opening_queryset(by, kind: str, by_email: bool, s):
    if kind == "system":
        contacts = NamedContact.objects.all()
    else:
        actor = _CustomerShape(customer_id=s.customer) if kind == "customer" else by
        contacts = NamedContact.objects.visible_to(actor)
    match = {"email__iexact": s.contact} if by_email else {"pk": s.contact}
    return (
        contacts.select_related(
            "work_order__customer", "work_order__support_location", "work_order__account_manager"
        )
        .filter(work_order_id=s.work_order, **match)
        .order_by()
        .annotate(
            opening_number=RawSQL("nextval(%s)", [NUMBER_SEQUENCE]),
            opening_id=RawSQL(
                "nextval(pg_get_serial_sequence(%s, 'id'))", [Incident._meta.db_table]
            ),
            targets_version=RawSQL(caches.targets_version_sql(), []),
        )[:1]
    )


def _format_number(value: int) -> str:
    return f"{NUMBER_PREFIX}{value:0{NUMBER_DIGITS}d}"
