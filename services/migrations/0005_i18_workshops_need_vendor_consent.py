"""Seed §4.2.1: workshops are scheduled only with the vendor's written consent."""

from django.db import migrations

CODES = ["workshops"]  # services.seed_catalogue.NEEDS_VENDOR_CONSENT when this was written


def switch(value):
    def run(apps, schema_editor):
        Service = apps.get_model("services", "Service")
        Service.objects.filter(code__in=CODES).update(needs_vendor_consent=value)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("services", "0004_merge_0003_i16_updated_at_0003_i18_countries_consent"),
    ]

    operations = [migrations.RunPython(switch(True), switch(False))]
