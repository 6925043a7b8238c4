"""Incident writes: opening, severity, status, response, comments, effort, deadlines.

Every function validates before it writes and runs in one transaction.atomic(), so
a RuleViolation or Conflict leaves nothing behind. Functions that change a row lock
it first (SELECT ... FOR UPDATE), so the deadline sweep and a person never interleave
their writes on one incident; every change of a deadline ends with
refresh_next_deadline() in the same transaction.

Decisions (documented here, tested in tests/incidents/):
- R3 after the first response: the severity changes, R7/R8/customer-side fields follow
  it, but the response target, due time, responded_at and response_breached stay as
  they were for that first response (they are history). Before the first response the
  target is recomputed from opened_at under the new severity.
- A recomputed response threshold that now lies in the future is re-armed: its
  recorded DeadlineEvent is removed so the sweep can fire it again, and a breach that
  no longer holds under the target in force is cleared. The timeline event keeps the
  old and new deadlines and the breach state before the change.
- R8 status updates: any staff comment on an escalated open incident is the status
  update; it moves next_status_update_at by STATUS_UPDATE_INTERVAL_MINUTES.
- A customer comment while support awaits the customer answers it: the incident goes
  back to in_progress and customer_due_at is cleared.
- R23: advisory effort past the 6-hour cap is recorded, flagged over_cap, and the
  account manager is told once (suggesting a proactive/consulting engagement).
- opened_at given by staff on the web or API channel is recorded as channel "import"
  (a backdated incident was entered afterwards, not filed live).
"""

from incidents.services.attainment import attainment_refresh
from incidents.services.conversation import (
    incident_assign,
    incident_attach,
    incident_rate,
    incidents_bulk_update,
    saved_queue_view_delete,
    saved_queue_view_save,
    severity_request_accept,
    severity_request_decline,
)
from incidents.services.escalation import (
    incident_escalate_to_product_team,
    incident_request_onsite,
    incident_request_rsm,
)
from incidents.services.events import payload
from incidents.services.opening import (
    incident_change_severity,
    incident_open,
    incident_request_severity_change,
)
from incidents.services.recompute import incidents_recompute_deadlines
from incidents.services.workflow import (
    incident_assign_critical_situation,
    incident_comment,
    incident_grant_change_control,
    incident_log_advisory_effort,
    incident_respond,
    incident_set_status,
    incident_update,
)

__all__ = [
    "attainment_refresh",
    "incident_assign",
    "incident_attach",
    "incident_rate",
    "incidents_bulk_update",
    "saved_queue_view_delete",
    "saved_queue_view_save",
    "severity_request_accept",
    "severity_request_decline",
    "incident_assign_critical_situation",
    "incident_change_severity",
    "incident_comment",
    "incident_escalate_to_product_team",
    "incident_grant_change_control",
    "incident_log_advisory_effort",
    "incident_open",
    "incident_request_onsite",
    "incident_request_rsm",
    "incident_request_severity_change",
    "incident_respond",
    "incident_set_status",
    "incident_update",
    "incidents_recompute_deadlines",
    "payload",
]
