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
    """Where a redemption is: scheduled until delivered, cancelled, exchanged or lapsed (R14)."""

    SCHEDULED = "scheduled", _("Scheduled")
    DELIVERED = "delivered", _("Delivered")
    CANCELLED = "cancelled", _("Cancelled")
    EXCHANGED = "exchanged", _("Exchanged")
    # R14: still scheduled when the term ended; its credits stay spent.
    LAPSED = "lapsed", _("Lapsed")


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
#: R17: an exchange is "of equivalent value" when the new service's cost at the current
#: rate is within this percentage of the credits paid for the original (the difference,
#: either way, is settled as an `exchange` entry; never taking the balance below zero).
EXCHANGE_TOLERANCE_PERCENT = 10
#: R21: the optional paid On-demand Assessment engineer: at most this many days per mode.
ASSESSMENT_ENGINEER_MAX_DAYS = {DeliveryMode.ONSITE: 2, DeliveryMode.REMOTE: 1}
#: R20: the delivery modes a workshop is bought in (quantity = participants or deliveries).
WORKSHOP_MODES = (DeliveryMode.PER_PARTICIPANT, DeliveryMode.DEDICATED)
#: R19: services that are onsite by nature. Credits pay the rate-card price of the service,
#: which holds no travel component, so an onsite delivery (these services, or any service
#: redeemed with delivery_mode=onsite) is "not prepaid" as far as travel and expenses go:
#: the redemption records `travel_expenses_billable=True` for invoicing.
ONSITE_SERVICES = frozenset({"onsite-support", "onsite-sdm"})
#: R18: a Software Assurance shortfall may be invoiced within this many days of the start
#: of the term or of one of its anniversaries. Counted inclusively from that day: the
#: start date (or anniversary) is day 0 and day 30 is the last day an invoice is allowed;
#: day 31 is refused. ("Binnen 30 dagen na de aanvangsdatum ... en/of de jaarlijkse
#: verjaardag": within 30 days *after* the date, so the date itself counts too.)
SHORTFALL_WINDOW_DAYS = 30
#: R18: the currency a shortfall invoice is recorded in unless staff name another. The
#: rate card prices in credits, not money; the vendor invoices the shortfall in money.
SHORTFALL_DEFAULT_CURRENCY = "EUR"
