"""Who makes a write: the author to record for an actor.

An actor (`by` in every service) is a person (a User), an API key acting for a ticketing
tool (accounts.authentication.ApiKeyActor), or None, the system (a job). Every app records
the author of its rows with these functions, never with a copy of its own.
"""

from __future__ import annotations

from functools import cache

from django.contrib.auth import get_user_model


def author(by):
    """The User to record as the author of a write (history rows, `created_by` and the
    like): the person, or the staff member who made the API key that acts; None for the
    system or a key nobody made. The key's own name goes into the change reason
    (core.history.actor_reason)."""
    if by is None:
        return None
    user = getattr(by, "audit_user", by)
    return user if getattr(user, "pk", None) is not None else None


def person(by):
    """The User when the actor is a person, else None: rows that name a person only
    (an incident's timeline entry, a prepared review); API keys and the system are
    named by `actor_label` instead."""
    return by if isinstance(by, _user_model()) else None


def actor_label(by) -> str:
    """The actor's name as shown beside a row: a person's full name (or username), the
    key's own text ("API key ..."), or "system"."""
    if by is None:
        return "system"
    if person(by) is not None:
        return by.get_full_name() or by.username
    return str(by)


@cache
def _user_model():
    return get_user_model()
