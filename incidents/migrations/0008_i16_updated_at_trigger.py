# The incident's updated_at moves for every writer (issue #16): auto_now on save, this
# trigger for queryset UPDATEs and raw SQL that do not set it (core.api.sync).
# next_deadline_at alone is the worker's bookkeeping, not part of the incident as the
# API shows it: changing only it moves nothing.
from django.db import migrations

FUNC = """CREATE OR REPLACE FUNCTION incidents_touch_updated_at() RETURNS trigger AS $$
DECLARE
    probe incidents_incident;
BEGIN
    IF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
        RETURN NEW;
    END IF;
    probe := NEW;
    probe.next_deadline_at := OLD.next_deadline_at;
    IF probe IS DISTINCT FROM OLD THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;"""


class Migration(migrations.Migration):
    dependencies = [("incidents", "0007_i17_incident_desk")]

    operations = [
        migrations.RunSQL(
            sql=FUNC
            + "\nCREATE TRIGGER incidents_incident_touch_updated_at BEFORE UPDATE ON incidents_incident "
            "FOR EACH ROW EXECUTE FUNCTION incidents_touch_updated_at();"
            # Sync pages read (updated_at, id) in order: the keyset's index.
            "\nCREATE INDEX IF NOT EXISTS incident_updated_idx ON incidents_incident (updated_at, id);",
            reverse_sql="DROP INDEX IF EXISTS incident_updated_idx;"
            "\nDROP TRIGGER IF EXISTS incidents_incident_touch_updated_at ON incidents_incident;"
            "\nDROP FUNCTION IF EXISTS incidents_touch_updated_at();",
        ),
    ]
