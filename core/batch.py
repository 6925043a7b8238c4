"""INSERTs written together: one round trip to PostgreSQL for several rows of several
tables (issue #6).

A service that writes a handful of rows in one transaction (an incident, its history
row, its timeline entry and its outbox rows) pays a network round trip, Django's save
machinery and psycopg2's overhead per row. `InsertBatch` compiles each INSERT with
Django's own compiler (so field preparation, `auto_now_add` and JSON encoding are the
ORM's), queues it, and `flush()` sends the queue as one multi-statement string:
psycopg2 binds parameters on the client, and PostgreSQL runs the statements in order
inside the caller's transaction.

What it does not do, on purpose: no `pre_save`/`post_save` signals (the caller writes
the rows a receiver would, e.g. `core.history.history_row`), and no RETURNING, so
rows whose primary key the caller needs get it before the INSERT (a
sequence drawn in an earlier read); rows added there without a key get none back.
"""

from __future__ import annotations

from django.db import connections, transaction
from django.db.models import Model
from django.db.models.sql import InsertQuery

#: (model label, with key) -> (the INSERT's text, its fields); text None where a field
#: has its own placeholder. The text of a one-row INSERT depends on these alone, so it
#: is written once per process (issue #20: compiling it was 0.15 ms a row).
_PLANS: dict[tuple[str, bool], tuple[str | None, list]] = {}


def _plan(meta, with_key: bool, connection) -> tuple[str | None, list]:
    fields = meta.local_concrete_fields
    if not with_key:
        fields = [f for f in fields if f is not meta.auto_field]
    if any(hasattr(f, "get_placeholder") for f in fields):
        return None, fields
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join(["%s"] * len(fields))
    return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values})", fields


class InsertBatch:
    """Queue INSERTs, then `flush()` them inside the caller's `transaction.atomic()`."""

    def __init__(self, using: str = "default"):
        self.using = using
        self._statements: list[tuple[str, list]] = []
        self._objects: list[Model] = []

    def __len__(self) -> int:
        return len(self._statements)

    def add(self, obj: Model) -> Model:
        """Queue `obj`'s INSERT (every concrete field; the key too when it is set)."""
        meta = obj._meta
        with_key = obj.pk is not None
        connection = connections[self.using]
        plan = _PLANS.get((meta.label, with_key))
        if plan is None:
            plan = _PLANS[(meta.label, with_key)] = _plan(meta, with_key, connection)
        sql, fields = plan
        params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        if sql is None or any(hasattr(p, "resolve_expression") for p in params):
            # A field with its own placeholder, or an expression for a value: Django's
            # compiler (pre_save runs again there; it is idempotent for these rows).
            query = InsertQuery(meta.model)
            query.insert_values(fields, [obj], raw=False)
            for compiled, values in query.get_compiler(connection=connection).as_sql():
                self._statements.append((compiled, list(values)))
        else:
            self._statements.append((sql, params))
        self._objects.append(obj)
        return obj

    @staticmethod
    def _require_transaction(connection) -> None:
        if not connection.in_atomic_block:
            raise transaction.TransactionManagementError(
                "InsertBatch writes inside transaction.atomic()."
            )

    def add_sql(self, sql: str, params: list | tuple = ()) -> None:
        """Queue a statement written by hand (with %s placeholders)."""
        self._statements.append((sql, list(params)))

    def flush(self) -> None:
        """Send what is queued; afterwards the added objects are saved instances."""
        connection = connections[self.using]
        self._require_transaction(connection)
        if self._statements:
            sql = ";\n".join(statement for statement, _ in self._statements)
            params = [p for _, values in self._statements for p in values]
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
        # Mark the rows saved, as Django's own bulk_create does with these two flags: an
        # instance still "adding" fails validate_unique() against its own row and is refused
        # by a related manager's add(). Django has no public call for it without a query;
        # the public way, refresh_from_db() per row, measured 1.3 ms median (7 ms p90) a row
        # at load 7.5 on the 2-core machine (issue #15), a round trip per row on incident_open's
        # budget of two; setting the flags costs 0.001 ms for four rows.
        for obj in self._objects:
            obj._state.adding = False
            obj._state.db = self.using
        self._statements.clear()
        self._objects.clear()
