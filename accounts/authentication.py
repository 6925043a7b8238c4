"""`Authorization: Bearer <key>` authentication for API keys."""

from django.utils import timezone
from rest_framework import authentication, exceptions

from accounts.models import ApiKey


class ApiKeyActor:
    """The actor an API key acts as: staff-wide or confined to its customer.

    It quacks like a user for scoping (`is_authenticated`, `is_staff`, `customer_id`)
    so the one door (`visible_to`) serves keys and people alike.
    """

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False

    def __init__(self, key: ApiKey):
        self.api_key = key
        self.customer_id = key.customer_id
        self.is_staff = key.customer_id is None
        self.pk = None
        self.id = None
        self.username = f"api-key:{key.prefix}"
        # History and audit rows record the staff member who made the key.
        self.audit_user = key.created_by

    @property
    def can_edit(self) -> bool:
        return self.is_staff

    def __str__(self) -> str:
        return f"API key {self.api_key.name}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Authorization header must be 'Bearer <key>'.")
        try:
            raw = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid API key.") from exc
        key = (
            ApiKey.objects.select_related("customer", "created_by")
            .filter(key_hash=ApiKey.hash_key(raw))
            .first()
        )
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked API key.")
        now = timezone.now()
        # Touch last_used_at at most once a minute: no write on every request.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        return ApiKeyActor(key), key

    def authenticate_header(self, request):
        return self.keyword
