"""django-simple-history, cached: one manager class per (manager, queryset) pair.

simple-history's HistoryDescriptor.__get__ calls `Manager.from_queryset(QuerySet)` on
every access of `instance.history` / `Model.history`, and create_historical_record reads
it on every tracked save: a new class (type() plus copying the queryset's methods, about
0.1-0.15 ms) per write in the whole project (issue #6). The class depends only on the
two classes, so it is built once per pair; the manager *instance* stays per access,
bound to its model and instance exactly as before. Installed by PortalConfig.ready().
"""

from __future__ import annotations

from functools import cache

from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.manager import HistoryDescriptor


@cache
def _manager_class(manager_class: type, queryset_class: type) -> type:
    return manager_class.from_queryset(queryset_class)


def _get(self, instance, owner):
    return _manager_class(self.manager_class, self.queryset_class)(self.model, instance)


def install() -> None:
    """Swap HistoryDescriptor.__get__ for the cached one (idempotent)."""
    HistoryDescriptor.__get__ = _get


#: How a history row's reason starts when an API key made the change (actor_reason).
API_KEY_LABEL = "API key "
API_KEY_SEPARATOR = ": "


def actor_reason(by, reason: str = "") -> str:
    """The change reason to record for `by`: an API key's change names the key (API.md
    Revision 2: "a change made with a key is recorded in history under the key's
    name"), whoever made the key; a person's or the system's reason is unchanged.
    The row's history_user is the key's creator; history_actor shows both."""
    key = getattr(by, "api_key", None)
    if key is None:
        return reason[:100]
    label = f"{API_KEY_LABEL}{key.name}"
    return (f"{label}{API_KEY_SEPARATOR}{reason}" if reason else label)[:100]


def api_key_name(record) -> str | None:
    """The name of the API key that made a history row, or None (a person, the system)."""
    reason = getattr(record, "history_change_reason", None) or ""
    if not reason.startswith(API_KEY_LABEL):
        return None
    return reason[len(API_KEY_LABEL) :].split(API_KEY_SEPARATOR, 1)[0]


def history_actor(record) -> str:
    """Who made a history row, for every history view: "API key <name>, made by
    <person>" for a key's change, the person's name, or "" for the system."""
    user = getattr(record, "history_user", None)
    person = (user.get_full_name() or user.username) if user is not None else ""
    key = api_key_name(record)
    if key is None:
        return person
    if not person:
        return _("API key %(name)s") % {"name": key}
    return _("API key %(name)s, made by %(person)s") % {"name": key, "person": person}


def history_reason(record) -> str:
    """A history row's reason without the API key's name (history_actor shows it)."""
    reason = getattr(record, "history_change_reason", None) or ""
    if api_key_name(record) is None:
        return reason
    _label, _sep, rest = reason.partition(API_KEY_SEPARATOR)
    return rest


def history_row(instance, *, history_type: str = "+", user=None, reason: str = "", date=None):
    """The unsaved simple-history row that saving `instance` would write (`+` created,
    `~` changed): for writers that insert rows themselves (core.batch.InsertBatch),
    which skip the post_save signal simple-history listens to."""
    model = type(instance).history.model
    return model(
        history_date=date or timezone.now(),
        history_type=history_type,
        history_user=user,
        history_change_reason=reason[:100] if reason else None,
        **{field.attname: getattr(instance, field.attname) for field in model.tracked_fields},
    )
