from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"
    verbose_name = "Incidents and response targets"

    def ready(self):
        # receivers: contracts.signals.calendar_changed (R5 recomputation); caches: the
        # model signals that keep incident_open's caches fresh.
        from incidents import caches, receivers  # noqa: F401

        # Issue #20: a new incident's e-mails are rendered by the delivery worker.
        from incidents.notices import render_created_at_delivery
        from notifications import rendering

        rendering.register("incident.created", render_created_at_delivery)
