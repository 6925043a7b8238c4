# Issue #20: the queue's and the API's `?q=` search through a pg_trgm GIN index of
# incidents.models.SEARCH_SQL (the filter, incidents.filtersets, uses the same
# expression), built CONCURRENTLY: no write lock on millions of rows.
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from incidents.models import SEARCH_SQL


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("incidents", "0011_i20_customer_on_incident")]

    operations = [
        TrigramExtension(),
        migrations.RunSQL(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS incident_queue_search_idx"
            f" ON incidents_incident USING gin (({SEARCH_SQL.format(t='')}) gin_trgm_ops);",
            reverse_sql="DROP INDEX CONCURRENTLY IF EXISTS incident_queue_search_idx;",
        ),
    ]
