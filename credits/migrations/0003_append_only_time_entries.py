"""Time entries are append-only in the database too (PostgreSQL), like the ledger (0002).

- A trigger refuses UPDATE and DELETE of credits_timeentry rows (corrections are new,
  negative entries: credits.services.time_entry_record). The one exception, as for
  credit entries: ON DELETE SET NULL of the author when a user account is deleted.
- CreditEntry.line becomes `set_null_once_settled`: removing a proactive-credits line
  whose grant was taken back (entries netting zero) unlinks its entries (they keep
  their `reference` text). The ledger trigger now also allows exactly that: line_id
  set to NULL, nothing else changed.
TRUNCATE (test database flushes) does not fire row triggers.
"""

from django.db import migrations, models

import credits.models

CREATE = """
CREATE OR REPLACE FUNCTION credits_creditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND (NEW.created_by_id IS NULL OR NEW.created_by_id = OLD.created_by_id)
       AND (NEW.line_id IS NULL OR NEW.line_id = OLD.line_id)
       AND (to_jsonb(NEW) - 'created_by_id' - 'line_id') = (to_jsonb(OLD) - 'created_by_id' - 'line_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'credits_creditentry is append-only: % of entry % refused (corrections are new entries)',
        TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION credits_timeentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.created_by_id IS NULL
       AND (to_jsonb(NEW) - 'created_by_id') = (to_jsonb(OLD) - 'created_by_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'credits_timeentry is append-only: % of time entry % refused (corrections are new entries)',
        TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS credits_timeentry_append_only ON credits_timeentry;
CREATE TRIGGER credits_timeentry_append_only
    BEFORE UPDATE OR DELETE ON credits_timeentry
    FOR EACH ROW EXECUTE FUNCTION credits_timeentry_append_only();
"""

# Back to 0002's ledger function (created_by_id only) and no time-entry trigger.
DROP = """
DROP TRIGGER IF EXISTS credits_timeentry_append_only ON credits_timeentry;
DROP FUNCTION IF EXISTS credits_timeentry_append_only();
CREATE OR REPLACE FUNCTION credits_creditentry_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.created_by_id IS NULL
       AND (to_jsonb(NEW) - 'created_by_id') = (to_jsonb(OLD) - 'created_by_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'credits_creditentry is append-only: % of entry % refused (corrections are new entries)',
        TG_OP, OLD.id
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def create_triggers(apps, schema_editor):
    schema_editor.execute(CREATE, params=None)


def drop_triggers(apps, schema_editor):
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("credits", "0002_ledger_append_only"),
    ]

    operations = [
        migrations.AlterField(
            model_name="creditentry",
            name="line",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=credits.models.set_null_once_settled,
                related_name="credit_entries",
                to="contracts.workorderline",
            ),
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
