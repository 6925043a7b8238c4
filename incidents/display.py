"""How an incident's first-response clock reads on a page or in the queue's CSV."""

from django.utils import timezone
from django.utils.translation import gettext as _


def sla_state(incident, now=None) -> str:
    """ok / warning / breached / responded: the colour of an incident's first-response clock."""
    now = now or timezone.now()
    if incident.responded_at is not None:
        return "responded"
    if incident.response_breached or incident.response_due_at <= now:
        return "breached"
    if incident.response_warning_at and incident.response_warning_at <= now:
        return "warning"
    return "ok"


def sla_label(state: str) -> str:
    return {
        "ok": _("On track"),
        "warning": _("Due soon"),
        "breached": _("Breached"),
        "responded": _("Responded"),
    }.get(state, state)
