from django.apps import AppConfig


class PortalConfig(AppConfig):
    """The top app: settings, root URLs, the Celery app, the overview, operations pages and
    demo data. It may import every app; no app imports it (docs/ARCHITECTURE.md)."""

    name = "portal"
    verbose_name = "Portal"
