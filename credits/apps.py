from django.apps import AppConfig


class CreditsConfig(AppConfig):
    name = "credits"
    verbose_name = "Proactive credits and hour blocks"

    def ready(self):
        # Connect the contracts.signals receivers (grants from proactive-credits lines).
        from credits import receivers  # noqa: F401
