"""The incident desk (issue #17): attachments, assignment, severity requests decided by
support (R3), the customer's rating, and staff's saved queue views.

Attachments go through Django's storage API (settings.STORAGES["attachments"]: local
files or an S3-compatible store) and are never served from a public path: only
incidents.views.attachment_download and the API's download action read them, through
the one door. An attachment of an internal note is internal too.
"""

from __future__ import annotations

import mimetypes
import threading

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.actors import actor_label, person
from core.errors import Conflict, NotAllowed, RuleViolation, TooLarge
from core.scoping import actor_is_staff
from incidents.choices import (
    OPEN_STATUSES,
    EventKind,
    IncidentStatus,
    SeverityRequestState,
)
from incidents.models import (
    Incident,
    IncidentAttachment,
    IncidentEvent,
    SatisfactionRating,
    SavedQueueView,
    SeverityRequest,
)
from incidents.services.access import require_party, require_staff
from incidents.services.events import manager_email, notify_incident, record_event
from incidents.services.rows import lock_incident, save_incident, sync_instance

# --- attachments -------------------------------------------------------------------


def check_upload(upload) -> None:
    size = getattr(upload, "size", None)
    if size is None:
        raise RuleViolation(_("Choose a file to attach."), field="file")
    if size == 0:
        raise RuleViolation(_("The file is empty (0 bytes)."), field="file")
    limit = settings.ATTACHMENT_MAX_BYTES
    if size > limit:
        raise TooLarge(
            _("The file is %(size)s bytes; at most %(limit)s bytes may be attached.")
            % {"size": size, "limit": limit},
            field="file",
            code="too_large",
        )


def attach_upload(
    locked: Incident, upload, by, *, comment: IncidentEvent | None = None, internal: bool = False
) -> IncidentAttachment:
    """Store one upload on the locked incident (inside the caller's transaction). The
    stored file is removed again if the transaction rolls back."""
    check_upload(upload)
    name = (getattr(upload, "name", "") or "file").replace("\\", "/").rsplit("/", 1)[-1][:255]
    content_type = (
        getattr(upload, "content_type", "")
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    attachment = IncidentAttachment(
        incident=locked,
        comment=comment,
        name=name or "file",
        size=upload.size,
        content_type=content_type[:120],
        internal=internal,
        from_customer=not actor_is_staff(by),
        uploaded_by=person(by),
        author_label=actor_label(by),
    )
    attachment.file.save(name or "file", upload, save=False)
    # A rolled-back transaction must not leave the stored file behind (no orphans).
    _stored().append((attachment.file.storage, attachment.file.name))
    attachment.save(force_insert=True)
    return attachment


# Files stored by the write in progress on this thread (a request or a task).
_LOCAL = threading.local()


def _stored() -> list:
    if not hasattr(_LOCAL, "files"):
        _LOCAL.files = []
    return _LOCAL.files


def forget_stored_files() -> None:
    _stored().clear()


def delete_stored_files() -> None:
    """Remove the files stored by a write that then failed (best effort)."""
    files = _stored()
    while files:
        storage, name = files.pop()
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001 - an orphan file is harmless; the row is gone
            pass


def incident_attach(*, incident: Incident, file, by, internal: bool = False) -> IncidentAttachment:
    """Attach a file to the incident (staff or the incident's customer). Zero bytes and
    files above settings.ATTACHMENT_MAX_BYTES are refused; `internal` is staff only."""
    require_party(by, incident.work_order)
    if internal:
        require_staff(by, _("attach internal files"))
    check_upload(file)
    forget_stored_files()
    try:
        with transaction.atomic():
            locked = lock_incident(incident)
            if locked.status == IncidentStatus.CLOSED:
                raise Conflict(_("%(number)s is closed.") % {"number": locked.number}, field="file")
            attachment = attach_upload(locked, file, by, internal=internal)
            save_incident(locked, by, "attachment")
            record_event(
                locked,
                EventKind.ATTACHMENT,
                by,
                body=attachment.name,
                data={"attachment": attachment.pk, "name": attachment.name, "size": attachment.size}
                | ({"internal": True} if internal else {}),
                internal=internal,
            )
    except Exception:
        delete_stored_files()
        raise
    forget_stored_files()
    sync_instance(incident, locked)
    return attachment


# --- assignment --------------------------------------------------------------------


def _staff_user(assignee) -> User | None:
    if assignee in (None, ""):
        return None
    if isinstance(assignee, str):
        found = User.objects.filter(username=assignee, is_staff=True, is_active=True).first()
        if found is None:
            raise RuleViolation(
                _("%(name)s is not a staff member.") % {"name": assignee}, field="assignee"
            )
        return found
    if not (assignee.is_staff and assignee.is_active):
        raise RuleViolation(_("Incidents are assigned to staff."), field="assignee")
    return assignee


def incident_assign(*, incident: Incident, assignee, by, expected_version: int | None = None):
    """Triage: assign the incident to a staff member (a User or a username), or None to
    unassign. The assignee is told by e-mail (in the digest)."""
    require_staff(by, _("assign incidents"))
    user = _staff_user(assignee)
    with transaction.atomic():
        locked = lock_incident(incident, expected_version=expected_version)
        if locked.assignee_id == (user.pk if user else None):
            return locked
        before = locked.assignee.username if locked.assignee_id else None
        locked.assignee = user
        save_incident(locked, by, "assigned")
        # Internal: who works the incident is the desk's business, not the customer's.
        record_event(
            locked,
            EventKind.ASSIGNED,
            by,
            body=user.get_full_name() or user.username if user else "",
            data={"from": before, "to": user.username if user else None, "internal": True},
            internal=True,
        )
        # A webhook `incident.updated` whoever assigns (API.md Revision 2: `data` is the
        # incident as GET returns it, `assignee` included), sent on commit like every
        # notice; the new assignee, if someone else assigned them, is told by e-mail.
        tell = user is not None and user.email and user != person(by)
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:assigned:v{locked.version}",
            emails=[user.email] if tell else [],
            subject=lambda: _("%(number)s was assigned to you") % {"number": locked.number},
            assigned_to=user.username if user else None,
            previous_assignee=before,
        )
    sync_instance(incident, locked)
    return locked


def incidents_bulk_update(
    *, incidents, by, assignee=None, unassign: bool = False, status: str | None = None
) -> tuple[list[Incident], list[tuple[Incident, str]]]:
    """The queue's bulk action: assign and/or move the status of each incident, each in
    its own transaction (one refusal does not undo the others). Returns (done, refused
    with the reason)."""
    from incidents.services.workflow import incident_set_status

    require_staff(by, _("change incidents"))
    done, refused = [], []
    for incident in incidents:
        try:
            # Both changes of one incident, or neither (a refused status undoes its assignment).
            with transaction.atomic():
                if assignee is not None or unassign:
                    incident = incident_assign(
                        incident=incident, assignee=None if unassign else assignee, by=by
                    )
                if status and status != incident.status:
                    incident = incident_set_status(incident=incident, status=status, by=by)
        except (RuleViolation, Conflict) as exc:
            incident.refresh_from_db()
            refused.append((incident, exc.message))
        else:
            done.append(incident)
    return done, refused


# --- severity requests (R3) -------------------------------------------------------


def _lock_request(request: SeverityRequest) -> SeverityRequest:
    return SeverityRequest.objects.select_for_update().select_related("incident").get(pk=request.pk)


def severity_request_accept(*, request: SeverityRequest, reason: str, by) -> SeverityRequest:
    """R3: support accepts a customer's severity request: the severity changes (target
    recomputed, recorded) and the request is closed as accepted with the reason."""
    from incidents.services.opening import incident_change_severity

    require_staff(by, _("decide severity requests"))
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Say why the request is accepted."), rule="R3", field="reason")
    with transaction.atomic():
        locked = _lock_request(request)
        if locked.state != SeverityRequestState.OPEN:
            raise Conflict(
                _("This request was already %(state)s.")
                % {"state": str(SeverityRequestState(locked.state).label).lower()},
                rule="R3",
                code="decided",
            )
        # incident_change_severity closes every open request for this severity as accepted.
        incident_change_severity(
            incident=locked.incident, severity=locked.severity, reason=reason, by=by
        )
        locked.refresh_from_db()
    return locked


def severity_request_decline(*, request: SeverityRequest, reason: str, by) -> SeverityRequest:
    """R3: support declines a customer's severity request, with a reason the customer reads."""
    require_staff(by, _("decide severity requests"))
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(_("Say why the request is declined."), rule="R3", field="reason")
    now = timezone.now()
    with transaction.atomic():
        locked = _lock_request(request)
        if locked.state != SeverityRequestState.OPEN:
            raise Conflict(
                _("This request was already %(state)s.")
                % {"state": str(SeverityRequestState(locked.state).label).lower()},
                rule="R3",
                code="decided",
            )
        incident = lock_incident(locked.incident)
        locked.state = SeverityRequestState.DECLINED
        locked.decided_at, locked.decided_by = now, person(by)
        locked.decided_by_label, locked.decision_reason = actor_label(by), reason
        locked.save()
        save_incident(incident, by, "severity request declined")
        event = record_event(
            incident,
            EventKind.SEVERITY_DECISION,
            by,
            body=reason,
            data={
                "request": locked.pk,
                "to": locked.severity,
                "state": "declined",
                "reason": reason,
            },
        )
        notify_incident(
            incident,
            "incident.updated",
            f"incident:{incident.pk}:severity_decision:{event.pk}",
            emails=[incident.contact.email],
            declined_severity=locked.severity,
            reason=reason,
        )
    return locked


def close_severity_requests(locked: Incident, severity: str, reason: str, by) -> None:
    """Called by incident_change_severity: open requests for the severity now in force
    are accepted (by whoever changed it, with that reason)."""
    SeverityRequest.objects.filter(
        incident=locked, severity=severity, state=SeverityRequestState.OPEN
    ).update(
        state=SeverityRequestState.ACCEPTED,
        decided_at=timezone.now(),
        decided_by=person(by),
        decided_by_label=actor_label(by),
        decision_reason=reason,
        updated_at=timezone.now(),
    )


def severity_request_record(locked: Incident, severity: str, reason: str, by) -> SeverityRequest:
    """Called by incident_request_severity_change: the request row; an identical open
    request is a Conflict (R3: taken once, not silently twice)."""
    if SeverityRequest.objects.filter(
        incident=locked, severity=severity, state=SeverityRequestState.OPEN
    ).exists():
        raise Conflict(
            _("You already asked for this severity; support has not decided yet."),
            rule="R3",
            field="severity",
            code="already_requested",
        )
    try:
        with transaction.atomic():
            return SeverityRequest.objects.create(
                incident=locked,
                severity=severity,
                reason=reason,
                requested_by=person(by),
                requested_by_label=actor_label(by),
            )
    except IntegrityError as exc:  # a concurrent identical request won the race
        raise Conflict(
            _("You already asked for this severity; support has not decided yet."),
            rule="R3",
            field="severity",
            code="already_requested",
        ) from exc


# --- satisfaction (seed 4.5) -------------------------------------------------------


def incident_rate(*, incident: Incident, score, comment: str = "", by) -> SatisfactionRating:
    """The customer rates the support on their solved (resolved or closed) incident,
    once: a score of 1 to 5 and an optional comment."""
    if actor_is_staff(by):
        raise NotAllowed(_("Only the customer rates the support it got."))
    require_party(by, incident.work_order)
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        raise RuleViolation(_("Give a score from 1 to 5."), field="score")
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise RuleViolation(_("At most %(limit)s characters.") % {"limit": 2000}, field="comment")
    with transaction.atomic():
        locked = lock_incident(incident)
        if locked.status in OPEN_STATUSES:
            raise Conflict(
                _("Mark the incident solved before rating it."), field="score", code="open"
            )
        if SatisfactionRating.objects.filter(incident=locked).exists():
            raise Conflict(
                _("%(number)s was already rated.") % {"number": locked.number},
                field="score",
                code="already_rated",
            )
        rating = SatisfactionRating.objects.create(
            incident=locked, score=score, comment=comment, rated_by=person(by)
        )
        save_incident(locked, by, "rated")
        record_event(locked, EventKind.RATING, by, body=comment, data={"score": score})
        notify_incident(
            locked,
            "incident.updated",
            f"incident:{locked.pk}:rating",
            emails=[manager_email(locked)],
            webhook=False,
            satisfaction_score=score,
            satisfaction_comment=comment,
        )
    sync_instance(incident, locked)
    return rating


# --- saved queue views -------------------------------------------------------------


def saved_queue_view_save(*, user, name: str, query: str) -> SavedQueueView:
    """Save (or overwrite) a named filter set of the queue for this staff member."""
    if not actor_is_staff(user):
        raise NotAllowed(_("Only support staff save queue views."))
    name = (name or "").strip()
    if not name:
        raise RuleViolation(_("Name the view."), field="name")
    if len(name) > 80:
        raise RuleViolation(_("At most %(limit)s characters.") % {"limit": 80}, field="name")
    query = (query or "").lstrip("?")[:1000]
    view, _created = SavedQueueView.objects.update_or_create(
        user=user, name=name, defaults={"query": query}
    )
    return view


def saved_queue_view_delete(*, view: SavedQueueView, user) -> None:
    if view.user_id != getattr(user, "pk", None):
        raise NotAllowed(_("This view belongs to someone else."))
    view.delete()
