from django.apps import AppConfig


class ApiFloorConfig(AppConfig):
    """Bench-only app (bench/api.py): the framework's floor, never in production."""

    name = "bench.apifloor"
    label = "apifloor"
    default_auto_field = "django.db.models.BigAutoField"
