"""IdempotencyRecord moves from the top app `portal` to the kernel `core` (issue #15).

The table exists (portal 0001): take the model over in Django's state only, then rename the
table to core's name. Index and constraint names are explicit, so they stay as they are."""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [("portal", "0001_initial")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="IdempotencyRecord",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("principal", models.CharField(max_length=64)),
                        ("key", models.CharField(max_length=200)),
                        ("method", models.CharField(max_length=8)),
                        ("path", models.CharField(max_length=300)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("status_code", models.PositiveIntegerField(blank=True, null=True)),
                        ("response_body", models.JSONField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                    ],
                    options={
                        "db_table": "portal_idempotencyrecord",
                        "indexes": [models.Index(fields=["created_at"], name="idempotency_created_idx")],
                        "constraints": [
                            models.UniqueConstraint(fields=("principal", "key"), name="idempotency_key_once_per_principal")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="idempotencyrecord", table=None),
    ]
