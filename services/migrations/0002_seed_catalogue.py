"""Seed the service catalogue of DOMAIN.md. Creates missing rows only: staff edits stay."""

from django.db import migrations


def seed(apps, schema_editor):
    from services.seed_catalogue import catalogue_rows

    Service = apps.get_model("services", "Service")
    # Only the fields this migration's model has: later columns (the vendor's consent)
    # are set by their own migrations (services 0005).
    known = {f.name for f in Service._meta.get_fields()}
    for row in catalogue_rows():
        code = row.pop("code")
        Service.objects.get_or_create(
            code=code, defaults={k: v for k, v in row.items() if k in known}
        )


class Migration(migrations.Migration):
    dependencies = [("services", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
