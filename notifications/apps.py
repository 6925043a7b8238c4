from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications, outbox and webhooks"

    def ready(self):
        # Connect the contracts.signals receivers (contact change e-mails, R25).
        from notifications import receivers  # noqa: F401
