from django.db import models
from django.utils.translation import gettext_lazy as _


class Package(models.TextChoices):
    """Base package (Basispakket) of a work order."""

    CORE = "core", _("Core")
    ADVANCED = "advanced", _("Advanced")
    PERFORMANCE = "performance", _("Performance")


class Availability(models.TextChoices):
    """How a service stands in a base package."""

    INCLUDED = "included", _("Included")
    ADD_ON = "add_on", _("Add-on")
    LIMITED = "limited", _("Limited add-on")
    UNAVAILABLE = "unavailable", _("Not available")


#: Availabilities that may be bought as work-order lines or redeemed with credits (R10, R12).
PURCHASABLE = (Availability.ADD_ON, Availability.LIMITED)


class Category(models.TextChoices):
    PLANNING = "planning", _("Planning")
    IMPLEMENTATION = "implementation", _("Implementation")
    MAINTENANCE = "maintenance", _("Maintenance")
    OPTIMIZATION = "optimization", _("Optimization")
    EDUCATION = "education", _("Education")
    ADDITIONAL_PROACTIVE = "additional_proactive", _("Additional proactive")
    OTHER_PROACTIVE = "other_proactive", _("Other proactive")
    REACTIVE = "reactive", _("Reactive")
    SERVICE_DELIVERY = "service_delivery", _("Service delivery")
    ENHANCED = "enhanced", _("Enhanced solutions")
    CONSULTING = "consulting", _("Consulting")


#: Categories whose requests fall under the 60-day cut-off (R15: proactive services
#: and enhanced solutions).
CUTOFF_CATEGORIES = frozenset(
    {
        Category.PLANNING,
        Category.IMPLEMENTATION,
        Category.MAINTENANCE,
        Category.OPTIMIZATION,
        Category.EDUCATION,
        Category.ADDITIONAL_PROACTIVE,
        Category.OTHER_PROACTIVE,
        Category.ENHANCED,
    }
)


class Unit(models.TextChoices):
    UNITS = "units", _("units")
    HOURS = "hours", _("hours")
    DAYS = "days", _("days")
    CREDITS = "credits", _("credits")
    PARTICIPANTS = "participants", _("participants")
    VISITS = "visits", _("visits")


# Service codes the code refers to by name (API.md: codes never change).
PROACTIVE_CREDITS = "proactive-credits"
DSE = "dse"
RAPID_RESPONSE = "rapid-response"
DEVELOPER_ADVANCED = "developer-advanced"
DEVELOPER_PERFORMANCE = "developer-performance"
ADVISORY_SUPPORT = "advisory-support"
WORKSHOPS = "workshops"
ON_DEMAND_ASSESSMENT = "on-demand-assessment"
ONSITE_SDM = "onsite-sdm"
ONSITE_SUPPORT = "onsite-support"

DIGITAL_ADVISORY = "digital-advisory"
#: R26: Digital Advisory is sold in packs of about 200, 400, 800 or 1600 hours.
DIGITAL_ADVISORY_PACKS = (200, 400, 800, 1600)
MISSION_CRITICAL = "mission-critical"
