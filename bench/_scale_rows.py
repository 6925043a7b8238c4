"""What every part of the vendor-scale build shares (bench/_scale_build.py): the sizes
at a factor, the COPY writer and the load's state (cursor, seeded random, clock, ids)."""

from __future__ import annotations

import datetime as dt
import io
import random
import time
from dataclasses import dataclass, field

FULL = {
    "customers": 5_000,
    "work_orders": 15_000,
    "contacts": 150_000,
    "incidents": 3_000_000,
    "open_incidents": 50_000,
    "ledger_entries": 1_000_000,
    "redemptions": 300_000,
    "webhook_deliveries": 200_000,
    "account_managers": 40,
}
BIG_TABLES = [
    "incidents_incident",
    "incidents_historicalincident",
    "incidents_incidentevent",
    "credits_creditentry",
    "credits_redemption",
    "notifications_webhookdelivery",
    "contracts_namedcontact",
]
DAY = dt.timedelta(days=1)
SEED = 20


def sizes_for(factor: float) -> dict[str, int]:
    s = {k: max(1, round(v * factor)) for k, v in FULL.items()}
    s["customers"] = max(s["customers"], 5)
    s["work_orders"] = max(s["work_orders"], 3 * s["customers"])
    s["account_managers"] = max(2, s["account_managers"])
    s["contacts"] = max(s["contacts"], 2 * s["work_orders"])
    s["open_incidents"] = min(s["open_incidents"], s["incidents"] // 2)
    return s


def ts(value: dt.datetime) -> str:
    return value.isoformat()


#: A placeholder per type for NOT NULL columns a Copier does not name (columns added by
#: later issues: updated_at, version, ...), so the build keeps up with the schema.
PLACEHOLDER = {
    "timestamp with time zone": "now()",
    "integer": "1",
    "bigint": "1",
    "smallint": "1",
    "boolean": "false",
    "character varying": "''",
    "text": "''",
    "jsonb": "'{}'::jsonb",
    "date": "current_date",
}
_placeheld: list[tuple[str, str]] = []


def hold_missing(cursor, table: str, columns: list[str]) -> None:
    """Give the NOT NULL columns of `table` that `columns` leave out, and that have no
    default, a placeholder default for the load (dropped again by release_missing)."""
    cursor.execute(
        """SELECT column_name, data_type FROM information_schema.columns
            WHERE table_name = %s AND is_nullable = 'NO' AND column_default IS NULL
              AND is_identity = 'NO' AND NOT (column_name = ANY(%s))""",
        [table, columns],
    )
    for column, data_type in cursor.fetchall():
        if column == "id" or data_type not in PLACEHOLDER:
            continue
        cursor.execute(
            f'ALTER TABLE {table} ALTER COLUMN "{column}" SET DEFAULT {PLACEHOLDER[data_type]}'
        )
        _placeheld.append((table, column))


def release_missing(cursor) -> None:
    while _placeheld:
        table, column = _placeheld.pop()
        cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{column}" DROP DEFAULT')


def has_column(cursor, table: str, column: str) -> bool:
    cursor.execute(
        "SELECT 1 FROM information_schema.columns WHERE table_name = %s AND column_name = %s",
        [table, column],
    )
    return cursor.fetchone() is not None


class Copier:
    def __init__(self, cursor, table: str, columns: list[str]):
        self.cursor, self.table, self.columns = cursor, table, columns
        hold_missing(cursor, table, columns)
        self.buf = io.StringIO()
        self.rows = 0

    def add(self, *values) -> None:
        self.buf.write("\t".join("\\N" if v is None else str(v) for v in values))
        self.buf.write("\n")
        self.rows += 1
        if self.rows % 50_000 == 0:
            self.flush()

    def flush(self) -> None:
        self.buf.seek(0)
        self.cursor.copy_expert(
            f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN", self.buf
        )
        self.buf = io.StringIO()


@dataclass
class Load:
    """The state one build shares: the psycopg2 cursor of its transaction, the seeded
    random generator (every part draws from it in a fixed order: deterministic), the
    clock, the sizes and the progress log."""

    cur: object
    sizes: dict[str, int]
    log: object = print
    rng: random.Random = field(default_factory=lambda: random.Random(SEED))
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
    started: float = field(default_factory=time.perf_counter)

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def step(self, msg: str) -> None:
        self.log(f"  [{time.perf_counter() - self.started:7.1f} s] {msg}", flush=True)

    def next_id(self, table: str) -> int:
        self.cur.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
        return self.cur.fetchone()[0] + 1
