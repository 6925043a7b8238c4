from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The kernel: errors, tenant scoping, API base classes, idempotency, history, time helpers.

    It imports no domain app; every app may import it (docs/ARCHITECTURE.md)."""

    name = "core"
    verbose_name = "Core"

    def ready(self):
        # One simple-history manager class per pair instead of one per save (issue #6).
        from core import history

        history.install()
