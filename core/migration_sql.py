"""SQL that several apps' migrations run alike, written once.

The migrations that import these run them as history: a database migrated today must get
the very SQL that earlier databases got. So never change what a function here returns;
new SQL is a new function (and a new migration).
"""

# Issue #16: updated_at moves for every writer that does not set it itself (a queryset
# UPDATE, raw SQL, the deadline sweep, an admin bulk action); auto_now covers saves.
# CREATE OR REPLACE: each app's migration defines the one shared function again, so no
# app's migrations depend on another app's for it.
TOUCH_UPDATED_AT_FUNCTION = """CREATE OR REPLACE FUNCTION portal_touch_updated_at() RETURNS trigger AS $$
BEGIN
    -- A writer that did not move updated_at itself (a queryset UPDATE, raw SQL, the
    -- deadline sweep, an admin bulk action): the row changed now. auto_now saves set it.
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at AND NEW IS DISTINCT FROM OLD THEN
        NEW.updated_at := clock_timestamp();
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;"""


def touch_updated_at(*tables: str) -> str:
    """portal_touch_updated_at() and a BEFORE UPDATE trigger on each table that runs it."""
    return "\n".join(
        [TOUCH_UPDATED_AT_FUNCTION]
        + [
            f"CREATE TRIGGER {table}_touch_updated_at BEFORE UPDATE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION portal_touch_updated_at();"
            for table in tables
        ]
    )


def untouch_updated_at(*tables: str) -> str:
    """The reverse of touch_updated_at: the triggers go; the shared function stays (other
    apps' triggers run it)."""
    return "\n".join(
        f"DROP TRIGGER IF EXISTS {table}_touch_updated_at ON {table};" for table in tables
    )
