from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and response targets"

    def ready(self):
        # Connects contracts.signals.calendar_changed (R5 recomputation).
        from incidents import receivers  # noqa: F401
