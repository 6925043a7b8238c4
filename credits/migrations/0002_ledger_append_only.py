"""The ledger is append-only, in the database too (PostgreSQL).

A trigger refuses UPDATE and DELETE of credits_creditentry rows, whatever the code
does (corrections are new entries). One narrow exception: ON DELETE SET NULL of the
author (`created_by_id`) when a user account is deleted, changing nothing else.
TRUNCATE (test database flushes) does not fire row triggers.

Also drops "one grant per line": a quantity increase grants the difference as a new
entry referencing the line (credits.services.credits_grant).
"""

from django.db import migrations

CREATE = """
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

DROP TRIGGER IF EXISTS credits_creditentry_append_only ON credits_creditentry;
CREATE TRIGGER credits_creditentry_append_only
    BEFORE UPDATE OR DELETE ON credits_creditentry
    FOR EACH ROW EXECUTE FUNCTION credits_creditentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS credits_creditentry_append_only ON credits_creditentry;
DROP FUNCTION IF EXISTS credits_creditentry_append_only();
"""


def create_trigger(apps, schema_editor):
    schema_editor.execute(CREATE, params=None)


def drop_trigger(apps, schema_editor):
    schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("credits", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="creditentry",
            name="credit_grant_once_per_line",
        ),
        migrations.RunPython(create_trigger, drop_trigger),
    ]
