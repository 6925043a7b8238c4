from django.db import models
from django.utils.translation import gettext_lazy as _


class Severity(models.TextChoices):
    """Probleemniveau: business impact as assigned by support (R3)."""

    NORMAL = "normal", _("Normal")
    CRITICAL = "critical", _("Critical")


class Clock(models.TextChoices):
    BUSINESS_HOURS = "business_hours", _("Business hours")
    AROUND_THE_CLOCK = "24x7", _("24x7")


class IncidentStatus(models.TextChoices):
    NEW = "new", _("New")
    RESPONDED = "responded", _("Responded")
    IN_PROGRESS = "in_progress", _("In progress")
    AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


#: Allowed status transitions. `responded` is reached by recording the first response.
TRANSITIONS: dict[str, frozenset[str]] = {
    IncidentStatus.NEW: frozenset(
        {
            IncidentStatus.RESPONDED,
            IncidentStatus.IN_PROGRESS,
            IncidentStatus.AWAITING_CUSTOMER,
            IncidentStatus.RESOLVED,
            IncidentStatus.CLOSED,
        }
    ),
    IncidentStatus.RESPONDED: frozenset(
        {
            IncidentStatus.IN_PROGRESS,
            IncidentStatus.AWAITING_CUSTOMER,
            IncidentStatus.RESOLVED,
            IncidentStatus.CLOSED,
        }
    ),
    IncidentStatus.IN_PROGRESS: frozenset(
        {IncidentStatus.AWAITING_CUSTOMER, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.AWAITING_CUSTOMER: frozenset(
        {IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}
    ),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

#: What a customer may set themselves: mark solved, or close.
CUSTOMER_STATUSES = (IncidentStatus.RESOLVED, IncidentStatus.CLOSED)

OPEN_STATUSES = (
    IncidentStatus.NEW,
    IncidentStatus.RESPONDED,
    IncidentStatus.IN_PROGRESS,
    IncidentStatus.AWAITING_CUSTOMER,
)


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    API = "api", _("API")
    PHONE = "phone", _("Phone")
    IMPORT = "import", _("Import")


class DeadlineKind(models.TextChoices):
    """The deadlines the worker watches on an incident."""

    RESPONSE = "response", _("First response")
    CUSTOMER_RESPONSE = "customer_response", _("Customer response (24 hours)")
    CHANGE_CONTROL = "change_control", _("Change-control access (4 business hours)")
    CRITICAL_SITUATION = "critical_situation", _("Critical situation resource (R7)")
    STATUS_UPDATE = "status_update", _("Status update (R8)")


class Threshold(models.TextChoices):
    WARNING = "warning", _("Warning (75%)")
    BREACH = "breach", _("Breach")
    DUE = "due", _("Due")


class EventKind(models.TextChoices):
    """Timeline entries of an incident."""

    CREATED = "created", _("Opened")
    COMMENT = "comment", _("Comment")
    STATUS = "status", _("Status changed")
    SEVERITY = "severity", _("Severity changed")
    SEVERITY_REQUEST = "severity_request", _("Severity change requested")
    RESPONSE = "response", _("First response")
    DEADLINE = "deadline", _("Deadline changed")
    WARNING = "warning", _("Deadline warning")
    BREACH = "breach", _("Deadline breached")
    ESCALATION = "escalation", _("Escalation")
    EFFORT = "effort", _("Effort logged")
    AROUND_THE_CLOCK = "around_the_clock", _("24x7 changed")
    CHANGE_CONTROL = "change_control", _("Change-control access granted")
    ONSITE_REQUEST = "onsite_request", _("Onsite resources requested")
    PRODUCT_ESCALATION = "product_escalation", _("Escalated to a product team")
    RSM_REQUEST = "rsm_request", _("Reactive Support Management requested")
    SEVERITY_DECISION = "severity_decision", _("Severity request decided")
    ASSIGNED = "assigned", _("Assigned")
    ATTACHMENT = "attachment", _("File attached")
    RATING = "rating", _("Rated")


class SeverityRequestState(models.TextChoices):
    """A customer's severity request (R3): open until support accepts or declines it."""

    OPEN = "open", _("Open")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")


#: R23: Advisory Support is at most 6 hours per request.
ADVISORY_CAP_MINUTES = 6 * 60
#: Warnings fire at this fraction of a target.
WARNING_FRACTION = 0.75

#: R9: Rapid Response does not cover these products.
RAPID_RESPONSE_EXCLUDED_PRODUCTS = (
    "Azure Media Services",
    "Azure Stack",
    "Azure StorSimple",
    "GitHub AE",
    "Azure Communication Services",
    "Billing & Subscription Management",
)

#: R22: support is conducted in English unless the incident is filed in another of
#: settings.LANGUAGES (the customer's language, where available).
DEFAULT_LANGUAGE = "en"
#: R9: Rapid Response is delivered in English only.
RAPID_RESPONSE_LANGUAGE = "en"

#: R8: on Advanced/Performance critical incidents the assigned manager posts a status
#: update at least this often (the source names no cadence; two hours is our default).
STATUS_UPDATE_INTERVAL_MINUTES = 120
#: The customer's side: 24 hours (real time) to answer when support waits on them.
CUSTOMER_RESPONSE_MINUTES = 24 * 60
#: The customer's side: change-control access within 4 business hours (Advanced critical).
CHANGE_CONTROL_BUSINESS_MINUTES = 4 * 60
#: R7: when the critical situation resource is due, after the incident turns critical.
CRITICAL_SITUATION_DELAY_MINUTES = {"advanced": 60, "performance": 0}
#: R8: packages whose critical incidents start the escalation process automatically.
AUTO_ESCALATION_PACKAGES = ("advanced", "performance")
#: R7: onsite resources on a Performance critical incident, at the earliest this long
#: after the opening (and only with the customer's agreement).
ONSITE_AFTER_MINUTES = 24 * 60
#: R8: the package whose customers request Reactive Support Management themselves.
RSM_ON_REQUEST_PACKAGES = ("core",)
#: Incidents recomputed per transaction when a calendar or a target changes.
RECOMPUTE_BATCH_SIZE = 500
#: Incident numbers: "INC-000123" (PostgreSQL sequence incidents_incident_number_seq).
NUMBER_PREFIX = "INC-"
NUMBER_DIGITS = 6

#: A comment's length limit (pages and API alike).
COMMENT_MAX_CHARS = 20000
