from django.db import models
from django.utils.translation import gettext_lazy as _


class Event(models.TextChoices):
    """Event names of API.md (webhooks) and of e-mail notifications."""

    INCIDENT_CREATED = "incident.created", "incident.created"
    INCIDENT_UPDATED = "incident.updated", "incident.updated"
    INCIDENT_RESPONSE_WARNING = "incident.response_warning", "incident.response_warning"
    INCIDENT_RESPONSE_BREACHED = "incident.response_breached", "incident.response_breached"
    INCIDENT_SEVERITY_CHANGED = "incident.severity_changed", "incident.severity_changed"
    INCIDENT_ESCALATED = "incident.escalated", "incident.escalated"
    INCIDENT_CUSTOMER_OVERDUE = "incident.customer_overdue", "incident.customer_overdue"
    CREDITS_LOW = "credits.low", "credits.low"
    CREDITS_REDEEMED = "credits.redeemed", "credits.redeemed"
    WORK_ORDER_EXPIRING = "work_order.expiring", "work_order.expiring"
    WORK_ORDER_CUTOFF = "work_order.cutoff", "work_order.cutoff"
    ENTITLEMENT_EXPIRED = "entitlement.expired", "entitlement.expired"
    # Issue #21: a finished month's service review is stored and ready to read.
    REVIEW_READY = "review.ready", "review.ready"
    # Issue #18, e-mail only: a lead contact's proposed contact change (R25) and its decision.
    CONTACT_CHANGE_PROPOSED = "contact_change.proposed", "contact_change.proposed"
    CONTACT_CHANGE_DECIDED = "contact_change.decided", "contact_change.decided"


#: Events that are e-mails only: no webhook subscription takes them.
EMAIL_ONLY_EVENTS = frozenset({Event.CONTACT_CHANGE_PROPOSED, Event.CONTACT_CHANGE_DECIDED})


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")


class Urgency(models.TextChoices):
    """Immediate: breaches and critical incidents. Business hours: reminders wait for the
    recipient's business hours so nobody is woken for what can wait."""

    IMMEDIATE = "immediate", _("At once")
    BUSINESS_HOURS = "business_hours", _("In business hours")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Retrying")
    GAVE_UP = "gave_up", _("Gave up")


class NoticeKind(models.TextChoices):
    """Notices of the entitlement sweep (credits.entitlements)."""

    CUTOFF_90 = "cutoff_90", _("R15 reminder: 90 days before the end")
    CUTOFF_75 = "cutoff_75", _("R15 reminder: 75 days before the end")
    CUTOFF_60 = "cutoff_60", _("R15 cut-off: 60 days before the end")
    EXPIRING_30 = "expiring_30", _("Expiry notice: 30 days before the end")
    EXPIRING_7 = "expiring_7", _("Expiry notice: 7 days before the end")
    EXPIRED = "expired", _("Entitlements expired at the end of the term (R14)")
    CREDITS_LOW = "credits_low", _("Credit balance under the threshold")
