from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first response to a creating POST sent with an Idempotency-Key (API.md).

    Keyed by who asked (API key id or user id) and the key; the request fingerprint
    tells a true retry (same body: the stored response again) from a misuse (another
    body: 409). Kept at least 24 hours (IDEMPOTENCY_KEY_TTL_HOURS).
    """

    principal = models.CharField(max_length=64)
    key = models.CharField(max_length=200)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # Moved from the top app `portal` (issue #15); its table was renamed with it
        # (core migration 0001).
        constraints = [
            models.UniqueConstraint(
                fields=["principal", "key"], name="idempotency_key_once_per_principal"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"{self.principal}:{self.key}"
