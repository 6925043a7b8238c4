# Issue #20: the external reference's uniqueness per customer (API.md Revision 2) moves
# from an advisory lock and a read before every create to a unique partial index, which
# also serves the `external_reference` filter, so the plain index on the reference goes.
# Built CONCURRENTLY: no write lock on millions of incidents. The create path kept the
# pairs unique until now, so the build finds no duplicates.
from django.contrib.postgres.operations import RemoveIndexConcurrently
from django.db import migrations, models
from django.db.models import Q


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0014_i20_breaches_today_index")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS incident_customer_ext_ref_uniq"
                    " ON incidents_incident (external_reference, customer_id)"
                    " WHERE NOT (external_reference = '');",
                    reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS incident_customer_ext_ref_uniq;",
                ),
            ],
            state_operations=[
                migrations.AddConstraint(
                    model_name="incident",
                    constraint=models.UniqueConstraint(
                        condition=~Q(external_reference=""),
                        fields=("external_reference", "customer"),
                        name="incident_customer_ext_ref_uniq",
                    ),
                ),
            ],
        ),
        RemoveIndexConcurrently(model_name="incident", name="incident_external_ref_idx"),
    ]
