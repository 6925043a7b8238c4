"""Incident reads, scoped to the actor through the one door (visible_to)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone

from incidents.choices import DEFAULT_LANGUAGE
from incidents.explain import explain
from incidents.models import Incident, IncidentEvent
from portal.errors import RuleViolation
from portal.scoping import actor_is_staff


def incident_list(*, actor, filters: dict | None = None) -> QuerySet[Incident]:
    """The incidents an actor may see, ready for a list page or endpoint (bounded queries).

    `filters` are IncidentFilterSet parameters (the same for the UI and the API).
    """
    queryset = Incident.objects.visible_to(actor).select_related(
        "work_order__customer", "contact", "work_order__support_location"
    )
    if filters:
        from incidents.filtersets import IncidentFilterSet

        if not isinstance(filters, QueryDict):  # a plain dict: each value may be a list
            data = QueryDict(mutable=True)
            for key, value in filters.items():
                data.setlist(
                    key,
                    [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)],
                )
            filters = data
        filterset = IncidentFilterSet(filters, queryset=queryset)
        if not filterset.is_valid():
            field, messages = next(iter(filterset.errors.items()))
            raise RuleViolation(" ".join(messages), field=field)
        queryset = filterset.qs
    return queryset


def queue_order(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    """The queue's order: unanswered first, by due time, then newest first (issue #20:
    the expression and columns of incident_queue_idx, so a page is an index range)."""
    from incidents.models import ANSWERED

    return queryset.alias(answered=ANSWERED).order_by("answered", "response_due_at", "-opened_at")


#: Timeline entries marked staff-internal (`data: {"internal": true}`). A key lookup, not
#: JSON containment: SQLite (the local demo) has none; `has_key` keeps entries without
#: the key visible (a plain `data__internal=True` would be NULL for them, and NOT NULL hides).
STAFF_INTERNAL = Q(data__has_key="internal") & Q(data__internal=True)


def incident_timeline(*, incident: Incident, actor) -> QuerySet[IncidentEvent]:
    """The incident's timeline, oldest first; customers do not see staff-internal entries."""
    events = IncidentEvent.objects.filter(incident=incident).select_related("author")
    if not actor_is_staff(actor):
        events = events.exclude(STAFF_INTERNAL)
    return events.order_by("created_at", "id")


def incident_detail(*, actor, pk: int) -> Incident:
    """One incident with its timeline in `.timeline`; Incident.DoesNotExist if not visible."""
    events = IncidentEvent.objects.select_related("author").order_by("created_at", "id")
    if not actor_is_staff(actor):
        events = events.exclude(STAFF_INTERNAL)
    return (
        incident_list(actor=actor)
        .select_related("work_order__account_manager", "opened_by", "responded_by", "target")
        .prefetch_related(Prefetch("events", queryset=events, to_attr="timeline"))
        .get(pk=pk)
    )


def incident_explain(incident: Incident) -> dict:
    """Why this incident's first-response deadline is what it is (data and sentences)."""
    return explain(
        work_order=incident.work_order,
        severity=incident.severity,
        is_cloud=incident.is_cloud,
        around_the_clock=incident.around_the_clock,
        product=incident.product,
        language=incident.language,
        opened_at=incident.opened_at,
        minutes=incident.target_minutes,
        clock=incident.target_clock,
        rule=incident.target_rule,
        due=incident.response_due_at,
        incident=incident,
    )


def incident_preview_target(
    *,
    work_order,
    severity: str,
    is_cloud: bool = False,
    around_the_clock: bool = False,
    product: str = "",
    language: str = DEFAULT_LANGUAGE,
    opened_at: dt.datetime | None = None,
) -> dict:
    """What the filing form shows before submit: the target and due time if filed now."""
    return explain(
        work_order=work_order,
        severity=severity,
        is_cloud=is_cloud,
        around_the_clock=around_the_clock,
        product=product,
        language=language,
        opened_at=opened_at or timezone.now(),
    )
