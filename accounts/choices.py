from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    ACCOUNT_MANAGER = "account_manager", _("Account manager")
    READ_ONLY = "read_only", _("Read-only staff")
    CUSTOMER_CONTACT = "customer_contact", _("Customer contact")
