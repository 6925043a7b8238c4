"""The incident timeline's text, rendered when it is shown (issue #7).

Services and the deadline sweep store what happened as `kind` + `data` on each
IncidentEvent; `describe` turns that into a sentence in the active language and time
zone (a Dutch page reads Dutch, whoever or whatever wrote the row). `body` stays the
free text of comments and reasons, and the fallback for rows whose data says too
little (rows written before this module, kinds added later).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from incidents.choices import (
    Channel,
    DeadlineKind,
    EventKind,
    IncidentStatus,
    Severity,
)
from notifications.localize import when


def _label(choices, value) -> str:
    try:
        return str(choices(value).label).lower()
    except ValueError:
        return str(value)


def _moment(value) -> str:
    """An ISO string (as stored in data) or a datetime, in the active zone and language."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return when(value) if isinstance(value, dt.datetime) else ""


def _due_sentence(snapshot) -> str:
    due = (snapshot or {}).get("response_due_at") if isinstance(snapshot, dict) else None
    return " " + _("The first response is now due %(due)s.") % {"due": _moment(due)} if due else ""


def _created(data: dict) -> str | None:
    if "response_due_at" not in data:
        return None
    text = _("Incident opened via %(channel)s.") % {
        "channel": _label(Channel, data.get("channel", Channel.WEB))
    }
    if data.get("response_due_at"):
        text += " " + _("The first response is due %(due)s.") % {
            "due": _moment(data["response_due_at"])
        }
    return text


def _severity(data: dict) -> str | None:
    if not (data.get("from") and data.get("to")):
        return None
    text = _("Severity changed from %(from)s to %(to)s.") % {
        "from": _label(Severity, data["from"]),
        "to": _label(Severity, data["to"]),
    }
    if data.get("recomputed"):
        text += _due_sentence(data.get("after"))
    return text


def _severity_request(data: dict) -> str | None:
    if not (data.get("from") and data.get("to")):
        return None
    return _("Asked to change the severity from %(from)s to %(to)s.") % {
        "from": _label(Severity, data["from"]),
        "to": _label(Severity, data["to"]),
    }


def _status(data: dict) -> str | None:
    if not (data.get("from") and data.get("to")):
        return None
    return _("Status changed from %(from)s to %(to)s.") % {
        "from": _label(IncidentStatus, data["from"]),
        "to": _label(IncidentStatus, data["to"]),
    }


def _response(data: dict) -> str | None:
    if data.get("breached"):
        return _("First response recorded, after the response target was breached.")
    return _("First response recorded.")


def _deadline(data: dict) -> str | None:
    if "after" not in data:
        return None
    if data.get("location"):
        text = _(
            "Deadlines recomputed: the business hours or closed days of %(location)s changed (R5)."
        ) % {"location": data["location"]}
    elif data.get("target"):
        text = _("Deadlines recomputed: staff applied an edited response target (R4).")
    else:
        text = _("Deadlines recomputed.")
    return text + _due_sentence(data.get("after"))


def _warning(data: dict) -> str | None:
    if data.get("deadline") != DeadlineKind.RESPONSE:
        return None
    return _("%(percent)s%% of the response target has run without a response.") % {"percent": 75}


def _breach(data: dict) -> str | None:
    kind = data.get("deadline")
    if kind == DeadlineKind.RESPONSE:
        return _("The response target was breached (R4).")
    if kind == DeadlineKind.CUSTOMER_RESPONSE:
        return _("The customer did not answer within 24 hours.")
    if kind == DeadlineKind.CHANGE_CONTROL:
        return _("The customer did not grant change-control access within 4 business hours.")
    if kind:
        return _("Deadline reached: %(deadline)s.") % {"deadline": _label(DeadlineKind, kind)}
    return None


def _escalation(data: dict) -> str | None:
    action = data.get("action")
    if action == "breach_escalation":
        return _("Response target breached: escalated to the account manager.")
    if action == "r6_proposal":
        return _(
            "24x7 incident without customer staff: support may lower the severity or drop "
            "24x7 (R6). Nothing was changed."
        )
    if action == "critical_situation_requested":
        return _("Critical situation resource requested (R7).")
    if action == "status_update_due":
        return _("A status update to the customer is due (R8).")
    if action == "escalation_started":
        text = _("Critical incident: escalation started (R8).")
        if data.get("next_status_update_at"):
            text += " " + _("The first status update is due %(due)s.") % {
                "due": _moment(data["next_status_update_at"])
            }
        return text
    if data.get("critical_situation_assigned_at"):
        return _("Critical situation resource assigned (R7).")
    return None


def _effort(data: dict) -> str | None:
    if "minutes" not in data:
        return None
    text = _("%(minutes)s minutes of effort logged; %(hours)s hours in total.") % {
        "minutes": data["minutes"],
        "hours": f"{data.get('total_minutes', 0) / 60:g}",
    }
    if data.get("over_cap"):
        text += " " + _(
            "Advisory support is capped at %(cap)s hours per request (R23); consider a "
            "proactive service or a consulting engagement for the rest."
        ) % {"cap": f"{data.get('cap_minutes', 360) / 60:g}"}
    return text


def _around_the_clock(data: dict) -> str | None:
    if "to" not in data:
        return None
    if data["to"]:
        text = _("24x7 effort switched on (R6).")
    else:
        text = _("24x7 effort switched off (R6).")
    if data.get("recomputed"):
        text += _due_sentence(data.get("after"))
    return text


def _change_control(data: dict) -> str | None:
    return _("Change-control access granted.")


def _onsite_request(data: dict) -> str | None:
    if not data.get("agreed_by"):
        return None
    text = _("Onsite resources requested, agreed by %(agreed_by)s (R7).") % {
        "agreed_by": data["agreed_by"]
    }
    return text + (" " + data["note"] if data.get("note") else "")


def _product_escalation(data: dict) -> str | None:
    if not data.get("team"):
        return None
    text = _("Escalated to the product team %(team)s (R7).") % {"team": data["team"]}
    return text + (" " + data["note"] if data.get("note") else "")


def _rsm_request(data: dict) -> str | None:
    # The reason shows under it (the timeline template shows data.reason).
    return _("Reactive Support Management requested: pooled, in business hours (R8).")


def _severity_decision(data: dict) -> str | None:
    if "to" not in data:
        return None
    return _("The request for severity %(severity)s was declined. Reason: %(reason)s") % {
        "severity": _label(Severity, data["to"]),
        "reason": data.get("reason", ""),
    }


def _assigned(data: dict) -> str | None:
    if data.get("to"):
        return _("Assigned to %(name)s.") % {"name": data["to"]}
    return _("Unassigned.")


def _attachment(data: dict) -> str | None:
    if "name" not in data:
        return None
    return _("%(name)s was attached.") % {"name": data["name"]}


def _rating(data: dict) -> str | None:
    if "score" not in data:
        return None
    return _("The customer rated the support %(score)s out of 5.") % {"score": data["score"]}


_DESCRIBERS = {
    EventKind.SEVERITY_DECISION: _severity_decision,
    EventKind.ASSIGNED: _assigned,
    EventKind.ATTACHMENT: _attachment,
    EventKind.RATING: _rating,
    EventKind.CREATED: _created,
    EventKind.STATUS: _status,
    EventKind.SEVERITY: _severity,
    EventKind.SEVERITY_REQUEST: _severity_request,
    EventKind.RESPONSE: _response,
    EventKind.DEADLINE: _deadline,
    EventKind.WARNING: _warning,
    EventKind.BREACH: _breach,
    EventKind.ESCALATION: _escalation,
    EventKind.EFFORT: _effort,
    EventKind.AROUND_THE_CLOCK: _around_the_clock,
    EventKind.CHANGE_CONTROL: _change_control,
    EventKind.ONSITE_REQUEST: _onsite_request,
    EventKind.PRODUCT_ESCALATION: _product_escalation,
    EventKind.RSM_REQUEST: _rsm_request,
}


def describe(event) -> str:
    """The timeline entry's text in the active language and zone.

    Comments are their own (free) text; a recorded change is described from its kind
    and data, falling back to the stored body when the data says too little."""
    if event.kind == EventKind.COMMENT:
        return event.body
    describer = _DESCRIBERS.get(event.kind)
    data = event.data if isinstance(event.data, dict) else {}
    text = describer(data) if describer is not None else None
    return text or event.body
