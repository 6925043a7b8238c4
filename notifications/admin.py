"""Admin of notifications. Webhook admin (deliveries, attempts, redeliver) lives in
admin_webhooks.py, owned by the API."""

from notifications import admin_webhooks  # noqa: F401  (registers the webhook admin)
