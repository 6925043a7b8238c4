"""Seed the initial response targets of DOMAIN.md R4 (and R9's Rapid Response row)."""

from django.db import migrations

TARGETS = [
    # package, severity, rapid_response, minutes, clock, note
    ("core", "normal", False, 8 * 60, "business_hours", "R4: effort in business hours; 24x7 effort on request"),
    ("core", "critical", False, 60, "24x7", "R4: continuous 24x7 effort"),
    ("advanced", "normal", False, 4 * 60, "business_hours", "R4: 24x7 effort on request"),
    ("advanced", "critical", False, 60, "24x7", "R4/R7: critical situation resource assigned after 1 hour"),
    ("performance", "normal", False, 4 * 60, "business_hours", "R4: 24x7 effort on request"),
    ("performance", "critical", False, 30, "24x7", "R4/R7: critical situation resource assigned at once"),
    ("core", "critical", True, 15, "24x7", "R9: Rapid Response, cloud incidents"),
    ("advanced", "critical", True, 15, "24x7", "R9: Rapid Response, cloud incidents"),
    ("performance", "critical", True, 15, "24x7", "R9: Rapid Response, cloud incidents"),
]


def seed(apps, schema_editor):
    ResponseTarget = apps.get_model("incidents", "ResponseTarget")
    for package, severity, rapid, minutes, clock, note in TARGETS:
        ResponseTarget.objects.get_or_create(
            package=package, severity=severity, rapid_response=rapid,
            defaults={"minutes": minutes, "clock": clock, "note": note},
        )


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
