import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from core.scoping import scoped_queryset

API_KEY_PREFIX = "sp_"


class User(AbstractUser):
    """A person who signs in: vendor staff, or a customer's named contact."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.CUSTOMER_CONTACT)
    # Set for customer contacts: the one customer whose data they may see.
    customer = models.ForeignKey(
        "contracts.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    language = models.CharField(max_length=8, choices=settings.LANGUAGES, blank=True, default="")
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        # The admin asks model permissions: a staff user's group follows its role.
        # Skipped for saves that cannot change it (a login touches last_login only)
        # and for new customer contacts, who belong to no group.
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"role", "is_staff"} & set(update_fields):
            return
        if adding and not self.is_staff:
            return
        from accounts.roles import user_sync_role_group

        user_sync_role_group(self)

    @property
    def is_account_manager(self) -> bool:
        return self.is_staff and self.role in (Role.ADMINISTRATOR, Role.ACCOUNT_MANAGER)

    @property
    def can_edit(self) -> bool:
        """Staff who may change contracts, balances and incidents (not read-only staff)."""
        return self.is_superuser or self.is_account_manager


class ApiKey(models.Model):
    """A bearer key for a ticketing tool: staff-wide, or confined to one customer."""

    name = models.CharField(_("name"), max_length=100)
    customer = models.ForeignKey(
        "contracts.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text=_("Empty: the key acts as staff."),
    )
    # SHA-256 of the key: keys are 256-bit random, so a fast hash is safe and costs
    # microseconds per request (a password hash such as PBKDF2 would cost ~0.5 s).
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        _("prefix"),
        max_length=12,
        editable=False,
        help_text=_("First characters, to recognise a key."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        verbose_name = _("API key")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        scope = self.customer.code if self.customer_id else "staff"
        return f"{self.name} ({self.prefix}…, {scope})"

    @staticmethod
    def hash_key(raw: str) -> str:
        return hashlib.sha256(raw.encode()).hexdigest()

    @staticmethod
    def generate_raw_key() -> str:
        return API_KEY_PREFIX + secrets.token_urlsafe(32)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
