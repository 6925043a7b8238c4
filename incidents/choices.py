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
    IncidentStatus.NEW: frozenset({IncidentStatus.RESPONDED, IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_CUSTOMER, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}),
    IncidentStatus.RESPONDED: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.AWAITING_CUSTOMER, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}),
    IncidentStatus.IN_PROGRESS: frozenset({IncidentStatus.AWAITING_CUSTOMER, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}),
    IncidentStatus.AWAITING_CUSTOMER: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.RESOLVED, IncidentStatus.CLOSED}),
    IncidentStatus.RESOLVED: frozenset({IncidentStatus.IN_PROGRESS, IncidentStatus.CLOSED}),
    IncidentStatus.CLOSED: frozenset(),
}

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
