from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self):
        # One simple-history manager class per pair instead of one per save (issue #6).
        from portal import history

        history.install()
