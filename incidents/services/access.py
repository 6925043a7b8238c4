"""Who may act on an incident: staff only, or a party to it (the services' backstop;
views scope through core.scoping first)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from core.errors import NotAllowed
from core.scoping import actor_is_staff


def require_staff(by, action: str) -> None:
    if not actor_is_staff(by) or not getattr(by, "can_edit", True):
        # `action` comes translated from the caller ("record the first response").
        raise NotAllowed(_("Only support staff may %(action)s.") % {"action": action})


def require_party(by, work_order) -> None:
    """Staff, or the work order's own customer (views scope first; this is the backstop)."""
    if by is None or actor_is_staff(by):
        return
    if getattr(by, "customer_id", None) != work_order.customer_id:
        raise NotAllowed(_("This incident belongs to another customer."))
