# Issue #20: the work order's customer stored on the incident (incidents_incident.customer_id),
# so that every customer-scoped list reads its page through an index that leads with it.
#
# Written to be fast on millions of incidents (non-atomic: each step commits on its own):
# 1. the column, nullable, with no constraint yet (a catalogue change, no table rewrite);
# 2. the triggers that keep it right from now on, whoever writes: every INSERT and every
#    UPDATE of work_order_id or customer_id takes the work order's customer; a work order
#    moved to another customer carries its incidents along. The updated_at trigger
#    (0008_i16) treats customer_id like next_deadline_at: bookkeeping that moves nothing;
# 3. the backfill, in batches of BATCH ids, each its own transaction (short row locks);
# 4. NOT NULL and the foreign key, each through a NOT VALID constraint validated
#    afterwards (a scan that does not block writers), then
# 5. the two indexes, built CONCURRENTLY (no write lock on the table).
import django.db.models.deletion
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models

import incidents.models
from incidents.choices import OPEN_STATUSES

BATCH = 50_000

SET_CUSTOMER = """
CREATE OR REPLACE FUNCTION incidents_set_customer() RETURNS trigger AS $$
BEGIN
    NEW.customer_id := (SELECT customer_id FROM contracts_workorder WHERE id = NEW.work_order_id);
    RETURN NEW;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER incidents_incident_set_customer
    BEFORE INSERT OR UPDATE OF work_order_id, customer_id ON incidents_incident
    FOR EACH ROW EXECUTE FUNCTION incidents_set_customer();

CREATE OR REPLACE FUNCTION incidents_follow_work_order_customer() RETURNS trigger AS $$
BEGIN
    UPDATE incidents_incident SET customer_id = NEW.customer_id
     WHERE work_order_id = NEW.id AND customer_id IS DISTINCT FROM NEW.customer_id;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER contracts_workorder_move_incidents
    AFTER UPDATE OF customer_id ON contracts_workorder
    FOR EACH ROW WHEN (OLD.customer_id IS DISTINCT FROM NEW.customer_id)
    EXECUTE FUNCTION incidents_follow_work_order_customer();
"""

UNSET_CUSTOMER = """
DROP TRIGGER IF EXISTS contracts_workorder_move_incidents ON contracts_workorder;
DROP FUNCTION IF EXISTS incidents_follow_work_order_customer();
DROP TRIGGER IF EXISTS incidents_incident_set_customer ON incidents_incident;
DROP FUNCTION IF EXISTS incidents_set_customer();
"""


def _touch(ignored: list[str]) -> str:
    lines = "\n".join(f"    probe.{c} := OLD.{c};" for c in ignored)
    return f"""CREATE OR REPLACE FUNCTION incidents_touch_updated_at() RETURNS trigger AS $$
DECLARE
    probe incidents_incident;
BEGIN
    IF NEW.updated_at IS DISTINCT FROM OLD.updated_at THEN
        RETURN NEW;
    END IF;
    probe := NEW;
{lines}
    IF probe IS DISTINCT FROM OLD THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;"""


def backfill(apps, schema_editor):
    """Each incident's customer from its work order, BATCH ids at a time (autocommit:
    each batch is its own short transaction)."""
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT min(id), max(id) FROM incidents_incident WHERE customer_id IS NULL")
        low, high = cur.fetchone()
        if low is None:
            return
        for start in range(low, high + 1, BATCH):
            cur.execute(
                """UPDATE incidents_incident i SET customer_id = w.customer_id
                     FROM contracts_workorder w
                    WHERE w.id = i.work_order_id AND i.customer_id IS NULL
                      AND i.id >= %s AND i.id < %s""",
                [start, start + BATCH],
            )
        cur.execute("ANALYZE incidents_incident")


CONSTRAIN = """
ALTER TABLE incidents_incident ADD CONSTRAINT incident_customer_present
    CHECK (customer_id IS NOT NULL) NOT VALID;
ALTER TABLE incidents_incident VALIDATE CONSTRAINT incident_customer_present;
ALTER TABLE incidents_incident ALTER COLUMN customer_id SET NOT NULL;
ALTER TABLE incidents_incident DROP CONSTRAINT incident_customer_present;
ALTER TABLE incidents_incident ADD CONSTRAINT incidents_incident_customer_id_fk_contracts_customer_id
    FOREIGN KEY (customer_id) REFERENCES contracts_customer (id)
    DEFERRABLE INITIALLY DEFERRED NOT VALID;
ALTER TABLE incidents_incident
    VALIDATE CONSTRAINT incidents_incident_customer_id_fk_contracts_customer_id;
"""


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("contracts", "0003_i18_contract_life"),
        ("incidents", "0010_merge_20261206_0319"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicalincident",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="contracts.customer",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="incident",
                    name="customer",
                    field=models.ForeignKey(
                        db_index=False,
                        default=None,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="contracts.customer",
                    ),
                    preserve_default=False,
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    "ALTER TABLE incidents_incident ADD COLUMN customer_id bigint NULL;",
                    reverse_sql="ALTER TABLE incidents_incident DROP COLUMN customer_id;",
                ),
                migrations.RunSQL(
                    _touch(["next_deadline_at", "customer_id"]),
                    reverse_sql=_touch(["next_deadline_at"]),
                ),
                migrations.RunSQL(SET_CUSTOMER, reverse_sql=UNSET_CUSTOMER),
                migrations.RunPython(backfill, migrations.RunPython.noop),
                migrations.RunSQL(CONSTRAIN, reverse_sql=migrations.RunSQL.noop),
            ],
        ),
        AddIndexConcurrently(
            model_name="incident",
            index=models.Index(
                models.F("customer"),
                incidents.models.ANSWERED,
                models.F("response_due_at"),
                models.OrderBy(models.F("opened_at"), descending=True),
                condition=models.Q(("status__in", tuple(OPEN_STATUSES))),
                name="incident_cust_web_queue_idx",
            ),
        ),
        AddIndexConcurrently(
            model_name="incident",
            index=models.Index(
                fields=["customer", "-opened_at", "-id"],
                name="incident_cust_api_list_idx",
                include=incidents.models.CUSTOMER_LIST_COVERS,
            ),
        ),
        # A work order has one customer: tell the planner, or it multiplies the two
        # filters' selectivities (`?work_order=` with a customer's key: 450 rows expected,
        # 32,000 found, and a sort of them all instead of the work order's index in order).
        migrations.RunSQL(
            "CREATE STATISTICS IF NOT EXISTS incident_work_order_customer_stats (dependencies)"
            " ON work_order_id, customer_id FROM incidents_incident;"
            " ANALYZE incidents_incident;",
            reverse_sql="DROP STATISTICS IF EXISTS incident_work_order_customer_stats;",
        ),
    ]
