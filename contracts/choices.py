from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkOrderStatus(models.TextChoices):
    """Derived from the term and termination, never stored."""

    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    EXPIRED = "expired", _("Expired")
    TERMINATED = "terminated", _("Terminated")


class ClosureSource(models.TextChoices):
    PUBLIC_HOLIDAY = "public_holiday", _("Public holiday")
    LOCATION = "location", _("Location closure")


#: Named-contact limits per base package (R1). None: as many as needed.
DEFAULT_CONTACT_LIMITS = {"core": 10, "advanced": 50, "performance": None}
#: Core's limit is fixed at 10; Advanced's default of 50 may be raised (R1).
MAX_CORE_CONTACTS = 10
