"""Webhook subscriptions (API.md): `url`, `events`, `secret`."""

import secrets

from rest_framework import serializers

from contracts.models import Customer
from core.api.limits import InputLimitsMixin
from notifications.choices import EMAIL_ONLY_EVENTS, DeliveryState, Event
from notifications.models import WebhookDelivery, WebhookSubscription
from notifications.targets import url_target_error


class CustomerCodeField(serializers.SlugRelatedField):
    """A customer code or null; an empty string is neither (DRF would read it as null)."""

    def get_value(self, dictionary):
        # A form's empty field stays "" (DRF would hand a nullable field None).
        value = super().get_value(dictionary)
        if value is None and hasattr(dictionary, "getlist"):
            return dictionary.get(self.field_name, value)
        return value

    def run_validation(self, data=serializers.empty):
        # DRF reads "" as null for every relation (JSON and forms alike).
        if data == "":
            raise serializers.ValidationError("A customer code, or null for every customer.")
        return super().run_validation(data)


class WebhookSubscriptionSerializer(InputLimitsMixin, serializers.ModelSerializer):
    """`secret` is write-only: shown once in the response that creates the subscription
    (generated when not sent), never again."""

    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Event.choices),
        min_length=1,
        max_length=len(Event.values),
    )
    secret = serializers.CharField(
        min_length=16,
        max_length=200,
        required=False,
        write_only=True,
        help_text="Shared secret for X-Portal-Signature; generated when omitted and returned once.",
    )
    customer = CustomerCodeField(
        slug_field="code",
        queryset=Customer.objects.all(),
        required=False,
        allow_null=True,
        help_text="Staff keys: a customer code, or null for every customer's events. Customer keys: always their own.",
    )

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "secret", "customer", "active", "created_at", "updated_at"]
        read_only_fields = ["id", "active", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and "customer" in self.fields:
            # Another customer's code reads as unknown: no hint that it exists.
            self.fields["customer"].queryset = Customer.objects.visible_to(request.user)

    def validate_url(self, value):
        if not value.lower().startswith(("http://", "https://")):
            raise serializers.ValidationError("Only http and https URLs.")
        error = url_target_error(value)
        if error:
            raise serializers.ValidationError(error)
        return value

    def validate_events(self, value):
        # E-mail-only events (a contact change, R25) are never sent to a webhook.
        email_only = sorted(set(value) & EMAIL_ONLY_EVENTS)
        if email_only:
            raise serializers.ValidationError(
                f"{', '.join(email_only)}: e-mail only, never sent to a webhook."
            )
        return list(dict.fromkeys(value))


class WebhookSubscriptionCreatedSerializer(WebhookSubscriptionSerializer):
    """The creation response: the only one that carries the secret."""

    secret = serializers.CharField(read_only=True)


class WebhookAttemptSerializer(serializers.Serializer):
    """One logged attempt: status code (null when no answer), time, error."""

    attempted_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_blank=True)
    duration_ms = serializers.IntegerField()


class WebhookDeliverySerializer(InputLimitsMixin, serializers.ModelSerializer):
    delivery_id = serializers.UUIDField(read_only=True)
    state = serializers.ChoiceField(choices=DeliveryState.choices, read_only=True)
    attempt_log = WebhookAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "delivery_id",
            "event",
            "state",
            "attempts",
            "next_attempt_at",
            "created_at",
            "delivered_at",
            "attempt_log",
        ]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)
