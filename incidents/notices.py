"""Every incident notice is built here: the webhook payloads of every `incident.*` event
and the e-mail texts of the incident services and of the deadline sweep (STYLE.md
"Notices").

One shape (API.md Revision 2, "Webhooks"): the outbox row's payload is
`{"data": <the incident exactly as GET /api/v1/incidents/{id}/ returns it>, "detail":
{<the event's own figures>, "url": <the incident's page>}}`, and
notifications.webhooks.envelope wraps it as `{"id", "event", "created_at", "data",
"detail"}` (schema: notifications/envelope.schema.json). The representation is the API
serializer's own, rendered in UTC whatever zone is active (the worker runs in the
portal's zone), so a receiver's copy equals what a GET would return at that moment.

Links use settings.PORTAL_PUBLIC_URL (env PORTAL_PUBLIC_URL), the portal's public base URL.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from core.times import utc_iso
from incidents.choices import STATUS_UPDATE_INTERVAL_MINUTES, DeadlineKind, Severity
from incidents.models import Incident
from notifications.localize import when


def incident_url(incident: Incident) -> str:
    """The incident's page in the portal, from the configured public base URL."""
    return f"{settings.PORTAL_PUBLIC_URL}/incidents/{incident.pk}/"


def incident_api_url(incident: Incident) -> str:
    return f"{settings.PORTAL_PUBLIC_URL}/api/v1/incidents/{incident.pk}/"


def incident_data(incident: Incident) -> dict:
    """The incident as `GET /api/v1/incidents/{id}/` returns it now (UTC, `Z`)."""
    # Imported here: the API layer sits above the services that call this module.
    from incidents.api.serializers import IncidentSerializer

    with timezone.override(dt.UTC):
        return IncidentSerializer().to_representation(incident)


def _plain(value):
    return utc_iso(value) if isinstance(value, dt.datetime) else value


def incident_payload(incident: Incident, **detail) -> dict:
    """The outbox payload of an incident event: the incident and the event's figures."""
    return {
        "data": incident_data(incident),
        "detail": {
            **{k: _plain(v) for k, v in detail.items()},
            "url": incident_url(incident),
            "api_url": incident_api_url(incident),
        },
    }


def refresh_payload(payload: dict, incident: Incident) -> dict:
    """The same event's payload with the incident as it is now (the deadline sweep plans
    its notices before it writes the breach flag, version and updated_at)."""
    return {**payload, "data": incident_data(incident)}


# --- e-mail texts of the incident services ---------------------------------------------


def email_body(incident: Incident, event: str, extra: dict) -> str:
    """An incident e-mail's text, in the active language and zone (localized_notify)."""
    facts = {
        "number": incident.number,
        "title": incident.title,
        "severity": str(incident.get_severity_display()).lower(),
        "status": str(incident.get_status_display()).lower(),
        "due": when(incident.response_due_at),
    }
    if event == "incident.created":
        text = (
            _(
                "Incident %(number)s (%(title)s) was opened with severity %(severity)s; "
                "the first response is due %(due)s."
            )
            % facts
        )
    elif event == "incident.severity_changed":
        text = _(
            "The severity of incident %(number)s (%(title)s) changed from %(old)s to "
            "%(severity)s. Reason: %(reason)s"
        ) % {
            **facts,
            "old": str(Severity(extra["previous_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "requested_severity" in extra:
        text = _(
            "The customer asks to change the severity of incident %(number)s (%(title)s) "
            "to %(requested)s. Reason: %(reason)s"
        ) % {
            **facts,
            "requested": str(Severity(extra["requested_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "deadlines_recomputed" in extra:
        if extra.get("recompute_cause") == "calendar":
            text = _(
                "The business hours or closed days of incident %(number)s (%(title)s) "
                "changed; its deadlines were recomputed."
            )
        else:
            text = _(
                "An edited response target was applied to incident %(number)s (%(title)s); "
                "its deadlines were recomputed."
            )
        text %= facts
        if incident.responded_at is None:
            text += " " + _("The first response is now due %(due)s.") % facts
    elif "declined_severity" in extra:
        text = _(
            "Support declined the request to change the severity of incident %(number)s "
            "(%(title)s) to %(requested)s. Reason: %(reason)s"
        ) % {
            **facts,
            "requested": str(Severity(extra["declined_severity"]).label).lower(),
            "reason": extra.get("reason", ""),
        }
    elif "assigned_to" in extra:
        text = _("Incident %(number)s (%(title)s) was assigned to you.") % facts
    elif "satisfaction_score" in extra:
        text = _(
            "The customer rated the support on incident %(number)s (%(title)s) %(score)s out of 5."
        ) % {**facts, "score": extra["satisfaction_score"]}
        if extra.get("satisfaction_comment"):
            text += "\n\n" + extra["satisfaction_comment"]
    elif "comment" in extra:
        text = _("New comment on incident %(number)s (%(title)s):") % facts
        text += "\n\n" + extra["comment"]
    elif "product_team" in extra:
        text = _(
            "Critical incident %(number)s (%(title)s) was escalated to the product team "
            "%(team)s (R7)."
        ) % {**facts, "team": extra["product_team"]}
        if extra.get("note"):
            text += "\n\n" + extra["note"]
    elif "rsm_reason" in extra:
        text = _(
            "The customer requests Reactive Support Management on incident %(number)s "
            "(%(title)s): pooled, in business hours (R8). Reason: %(reason)s"
        ) % {**facts, "reason": extra["rsm_reason"]}
    elif "advisory_minutes" in extra:
        text = _(
            "Advisory request %(number)s (%(title)s) has %(hours)s hours of effort, past the "
            "6-hour cap of Advisory Support (R23). Consider converting it to a proactive or "
            "consulting engagement."
        ) % {**facts, "hours": round(extra["advisory_minutes"] / 60, 1)}
    else:
        text = _("Incident %(number)s (%(title)s) is now %(status)s.") % facts
    return text + "\n\n" + _("Open it in the portal: %(url)s") % {"url": incident_url(incident)}


# --- e-mail texts of the deadline sweep (incidents.sweep_plan) --------------------------
# Each returns (subject, body) in the active language and zone: the sweep renders them
# per reader (notifications.localize).


def _facts(incident: Incident) -> dict:
    return {"number": incident.number, "title": incident.title}


def response_warning_email(incident: Incident) -> tuple[str, str]:
    """R4: 75% of the response target has run without a first response."""
    facts = {**_facts(incident), "due": when(incident.response_due_at)}
    return (
        _("[%(number)s] Response target 75%% used: due %(due)s") % facts,
        _("Incident %(number)s (%(title)s) has had no first response; it is due at %(due)s.")
        % facts,
    )


def response_breached_email(incident: Incident) -> tuple[str, str]:
    """R4: the response target passed without a first response."""
    facts = _facts(incident)
    return (
        _("[%(number)s] Response target breached") % facts,
        _("Incident %(number)s (%(title)s) had no first response by %(due)s.")
        % {**facts, "due": when(incident.response_due_at)},
    )


def breach_escalation_email(incident: Incident, at: dt.datetime) -> tuple[str, str]:
    """R8: a breach escalates to the account manager."""
    facts = _facts(incident)
    return (
        _("[%(number)s] Escalation: response target breached") % facts,
        _("Incident %(number)s breached its response target at %(at)s and is escalated to you.")
        % {**facts, "at": when(at)},
    )


def customer_overdue_email(
    incident: Incident, kind: str, at: dt.datetime, *, r6_proposal: bool
) -> tuple[str, str]:
    """The customer's side missed (an answer within 24 hours, change-control access);
    with `r6_proposal` (a 24x7 incident) staff are asked to consider R6."""
    facts = _facts(incident)
    subject = _("[%(number)s] Customer overdue: %(deadline)s") % {
        **facts,
        "deadline": DeadlineKind(kind).label,
    }
    if r6_proposal:
        subject += " " + _("(R6: consider lowering severity or dropping 24x7)")
    if kind == DeadlineKind.CUSTOMER_RESPONSE:
        body = _("On incident %(number)s the customer did not answer within 24 hours (due %(at)s).")
    else:
        body = _(
            "On incident %(number)s the customer did not grant change-control access "
            "within 4 business hours (due %(at)s)."
        )
    return subject, body % {**facts, "at": when(at)}


def critical_situation_email(incident: Incident, at: dt.datetime) -> tuple[str, str]:
    """R7: a critical situation resource is to be assigned."""
    facts = _facts(incident)
    return (
        _("[%(number)s] Assign a critical situation resource (R7)") % facts,
        _("Critical incident %(number)s needs a critical situation resource since %(at)s.")
        % {**facts, "at": when(at)},
    )


def status_update_due_email(incident: Incident, at: dt.datetime) -> tuple[str, str]:
    """R8: a status update to the customer is due."""
    facts = _facts(incident)
    return (
        _("[%(number)s] Status update due (R8)") % facts,
        _("Post a status update and action plan on critical incident %(number)s (due %(at)s).")
        % {**facts, "at": when(at)},
    )


def deadline_reached_email(incident: Incident, kind: str, threshold: str) -> tuple[str, str]:
    """A deadline kind added later: told to staff, never dropped."""
    return (
        _("[%(number)s] Deadline %(kind)s %(threshold)s")
        % {**_facts(incident), "kind": kind, "threshold": threshold},
        "",
    )


def escalation_started_email(incident: Incident) -> tuple[str, str]:
    """R8: a critical incident's escalation is announced, with its status-update cadence."""
    facts = _facts(incident)
    if incident.next_status_update_at:
        body = _(
            "Critical incident %(number)s (%(title)s) is escalated; status updates every "
            "%(minutes)s minutes, the first due %(due)s."
        ) % {
            **facts,
            "minutes": STATUS_UPDATE_INTERVAL_MINUTES,
            "due": when(incident.next_status_update_at),
        }
    else:
        body = (
            _("Critical incident %(number)s (%(title)s) is escalated; status updates follow.")
            % facts
        )
    return _("[%(number)s] Critical incident escalated (R8)") % facts, body


def render_created_at_delivery(payload: dict) -> tuple[str, str]:
    """Subject and body of an "incident.created" e-mail from its outbox payload, for the
    delivery worker (notifications.rendering, issue #20): the same text email_body writes
    in the request, without the database (an unsaved Incident carries the facts of the
    payload's `data`, the incident as GET returns it)."""
    from django.utils.dateparse import parse_datetime

    data = payload.get("data") or payload
    due = data.get("response_due_at")
    facts = Incident(
        pk=data.get("id"),
        number=data.get("number", ""),
        title=data.get("title", ""),
        severity=data.get("severity", ""),
        status=data.get("status", ""),
        response_due_at=parse_datetime(due) if due else None,
    )
    body = email_body(facts, "incident.created", payload.get("detail") or {})
    return f"{facts.number}: {facts.title}", body
