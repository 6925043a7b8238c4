"""IdempotencyRecord now belongs to the kernel app `core` (issue #15): drop it from portal's
state only; core 0001 took the table over."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("portal", "0001_initial"), ("core", "0001_i15_idempotency_from_portal")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyRecord")],
            database_operations=[],
        ),
    ]
