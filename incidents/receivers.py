"""Keeps incidents in step with contracts (the deliberate signals of docs/ARCHITECTURE.md)."""

from django.db import transaction
from django.dispatch import receiver

from contracts.signals import calendar_changed


@receiver(calendar_changed, dispatch_uid="incidents.recompute_on_calendar_change")
def recompute_on_calendar_change(sender, location, by=None, **kwargs):
    """R5: a location's hours or closed days changed: move its open incidents' deadlines.

    After commit, so a rolled-back calendar edit moves nothing and the recomputation
    reads the committed calendar. It runs synchronously in the committing request:
    batched and bounded by the location's open, unresponded incidents.
    """
    from incidents.services import incidents_recompute_deadlines

    transaction.on_commit(lambda: incidents_recompute_deadlines(location=location, by=by))
