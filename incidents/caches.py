"""Per-process caches of the rows incident_open reads on every call but that rarely
change: the response target table (R4) and a support location's business calendar
with its closed days (R5). Issue #6: re-reading them cost two queries and a good
part of the time of opening an incident.

Freshness, from the strongest guarantee to the backstop:
- The target table is keyed by its audit history: every save or delete of a
  ResponseTarget adds a history row (simple_history) in the same transaction, so the
  highest history id changes with every edit and becomes visible exactly when the
  edit does. incident_open reads it within the statement it runs anyway
  (incidents.services.rows.opening_reads): an edit committed by any process is
  seen by the next incident opened in every process. A rolled-back edit's id is never
  used again (a sequence), so its rows are never served under a valid version.
- A calendar is keyed by its location's `calendar_version`, which contracts' services
  bump in the same transaction as every change of hours or closed days; the caller
  read the location row just now, so an edit committed by any process is seen by the
  next incident opened in every process.
- Writes that bypass both (a queryset .update(), bulk_create, fixtures, factories)
  are seen at once in this process through the model signals below, and elsewhere
  after at most CACHE_SECONDS.
- A transaction that changed a location's closed days or hours neither reads nor
  fills that location's cached calendar until it ends: uncommitted closed days must
  not outlive a rollback under a calendar_version that stays valid. (A new location
  is exempt: a rolled-back one's id is never used again.)

Only incident_open reads through here, and explanations given a `table_version` (a service
review explains hundreds of breaches, issue #21); other explanations, previews and
recomputations read the tables directly (incidents.targets).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

from django.db import connection, transaction
from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from contracts.models import ClosureDay, SupportLocation
from incidents.models import ResponseTarget

#: Upper bound on how long a row changed behind the signals' back stays cached.
CACHE_SECONDS = 60
#: Calendars of this many locations are kept per process (oldest dropped first).
MAX_CALENDARS = 512

# Module state is per process; gunicorn's sync workers serve one request at a time.
_targets: dict = {}  # {"version": int, "expires": monotonic, "rows": {(package, severity, rapid): row}}
_calendars: dict = {}  # (location id, calendar_version, hours...) -> (expires, value)
# Locations whose calendar the current transaction changed -> its outermost atomic
# block, which identifies the transaction while it lasts.
_dirty: dict = {}


def _outermost_block():
    return connection.atomic_blocks[0] if connection.in_atomic_block else None


def _usable(location_id) -> bool:
    """False inside a transaction that changed this location's calendar."""
    block = _dirty.get(location_id)
    if block is None:
        return True
    if block is _outermost_block():
        return False
    del _dirty[location_id]  # that transaction ended
    return True


def _mark_dirty(location_id) -> None:
    block = _outermost_block()
    if block is None:  # autocommit: the change is committed already
        return
    for key in [k for k, b in _dirty.items() if b is not block]:
        del _dirty[key]  # left by transactions that ended
    _dirty[location_id] = block


@functools.cache
def targets_version_sql() -> str:
    """A scalar subquery: the target table's version (its highest history id, 0 if none)."""
    # Computed once: simple_history builds a new manager class on every `.history`.
    table = ResponseTarget.history.model._meta.db_table
    return f"(SELECT COALESCE(MAX(history_id), 0) FROM {table})"


def response_targets(load: Callable[[], dict], version: int) -> dict:
    """The target table as `load()` returns it, from this process's copy of `version`."""
    now = time.monotonic()
    if _targets.get("version") == version and _targets["expires"] > now:
        return _targets["rows"]
    rows = load()
    _targets.update(version=version, expires=now + CACHE_SECONDS, rows=rows)
    return rows


def location_calendar(location, build: Callable[[], tuple]) -> tuple:
    """`build()` (the location's calendar and closed-day names), cached per calendar_version.

    The key carries the hours and zone as well, so only the closed days rely on the
    version being bumped.
    """
    if not _usable(location.pk):
        return build()
    key = (
        location.pk,
        location.calendar_version,
        location.timezone,
        location.opens_at,
        location.closes_at,
        location.weekdays,
        repr(location.weekday_hours),
    )
    now = time.monotonic()
    hit = _calendars.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = build()
    if len(_calendars) >= MAX_CALENDARS:
        _calendars.pop(next(iter(_calendars)))
    _calendars[key] = (now + CACHE_SECONDS, value)
    return value


def clear() -> None:
    """Forget everything cached in this process."""
    _targets.clear()
    _calendars.clear()


@receiver(post_save, sender=ResponseTarget, dispatch_uid="incidents.caches.target_saved")
@receiver(post_delete, sender=ResponseTarget, dispatch_uid="incidents.caches.target_deleted")
def _target_changed(sender, **kwargs) -> None:
    # The version moves with the history row anyway; this also covers a save that
    # skips history, in this process.
    _targets.clear()


@receiver(post_save, sender=ClosureDay, dispatch_uid="incidents.caches.closure_day_saved")
@receiver(post_delete, sender=ClosureDay, dispatch_uid="incidents.caches.closure_day_deleted")
@receiver(post_save, sender=SupportLocation, dispatch_uid="incidents.caches.location_saved")
@receiver(post_delete, sender=SupportLocation, dispatch_uid="incidents.caches.location_deleted")
def _calendar_changed(sender, instance, created=False, **kwargs) -> None:
    # Other processes rely on calendar_version (bumped by contracts' services).
    if sender is SupportLocation and created:
        return  # nothing is cached for it yet
    location_id = instance.pk if sender is SupportLocation else instance.location_id
    _forget_location(location_id)
    _mark_dirty(location_id)
    transaction.on_commit(lambda: _forget_location(location_id))


def _forget_location(location_id) -> None:
    for key in [k for k in _calendars if k[0] == location_id]:
        del _calendars[key]


@receiver(post_migrate, dispatch_uid="incidents.caches.migrated")
def _migrated(sender, **kwargs) -> None:
    # Migrations and test-database flushes rewrite the tables without model signals.
    clear()
