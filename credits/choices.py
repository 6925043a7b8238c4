from django.db import models
from django.utils.translation import gettext_lazy as _


class EntryKind(models.TextChoices):
    """Kinds of ledger entries. Positive amounts add to the balance, negative spend it."""

    GRANT = "grant", _("Grant")
    REDEMPTION = "redemption", _("Redemption")
    REFUND = "refund", _("Refund")
    CANCELLATION_FEE = "cancellation_fee", _("Cancellation fee")
    EXCHANGE = "exchange", _("Exchange")
    SA_CONVERSION = "sa_conversion", _("Software Assurance conversion")
    EXPIRY = "expiry", _("Expiry")
    ADJUSTMENT = "adjustment", _("Staff adjustment")


class RedemptionStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    EXCHANGED = "exchanged", _("Exchanged")


class DeliveryMode(models.TextChoices):
    STANDARD = "standard", _("Standard")
    PER_PARTICIPANT = "per_participant", _("Per participant")  # R20 workshops
    DEDICATED = "dedicated", _("Dedicated delivery")  # R20 workshops
    ONSITE = "onsite", _("Onsite")  # R19, R21
    REMOTE = "remote", _("Remote")  # R21


#: R16: cancelling at least this many days before delivery is free.
FREE_CANCELLATION_DAYS = 14
#: R15: with Advanced or Performance, requests at least this many days before the end.
CUTOFF_DAYS = 60
