"""Incident reads, scoped to the actor through the one door (visible_to)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Min, Prefetch, Q, QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import RuleViolation
from core.scoping import actor_is_staff
from incidents.choices import DEFAULT_LANGUAGE, EventKind, SeverityRequestState
from incidents.explain import explain
from incidents.models import (
    Incident,
    IncidentAttachment,
    IncidentEvent,
    SatisfactionRating,
    SeverityRequest,
)
from notifications.models import SweepRun
from notifications.selectors import DEADLINE_SWEEP_JOB, last_beat_tick


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


#: Staff-internal timeline entries: internal notes and internal events (the `internal`
#: column, issue #17), and entries marked `data: {"internal": true}` (JSON containment,
#: which entries without the key never match).
STAFF_INTERNAL = Q(internal=True) | Q(data__contains={"internal": True})


def incident_timeline(*, incident: Incident, actor) -> QuerySet[IncidentEvent]:
    """The incident's timeline, oldest first; customers do not see staff-internal entries."""
    events = IncidentEvent.objects.filter(incident=incident).select_related("author")
    if not actor_is_staff(actor):
        events = events.exclude(STAFF_INTERNAL)
    return events.order_by("created_at", "id")


def incident_detail(*, actor, pk: int) -> Incident:
    """One incident with its timeline in `.timeline` (each entry's attachments in
    `.files`), its attachments in `.files`, open severity requests in `.open_requests`;
    Incident.DoesNotExist if not visible. Customers see nothing internal."""
    staff = actor_is_staff(actor)
    files = IncidentAttachment.objects.order_by("created_at", "id")
    events = IncidentEvent.objects.select_related("author").order_by("created_at", "id")
    if not staff:
        events = events.exclude(STAFF_INTERNAL)
        files = files.filter(internal=False)
    events = events.prefetch_related(Prefetch("attachments", queryset=files, to_attr="files"))
    return (
        incident_list(actor=actor)
        .select_related(
            "work_order__account_manager", "opened_by", "responded_by", "target", "assignee"
        )
        .prefetch_related(
            Prefetch("events", queryset=events, to_attr="timeline"),
            Prefetch("attachments", queryset=files, to_attr="files"),
            Prefetch(
                "severity_requests",
                queryset=SeverityRequest.objects.filter(state=SeverityRequestState.OPEN),
                to_attr="open_requests",
            ),
        )
        .get(pk=pk)
    )


def incident_comments(*, incident: Incident, actor) -> QuerySet[IncidentEvent]:
    """The incident's comments, oldest first; customers never see internal notes."""
    events = (
        IncidentEvent.objects.filter(incident=incident, kind=EventKind.COMMENT)
        .select_related("author")
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=IncidentAttachment.objects.order_by("created_at", "id"),
                to_attr="files",
            )
        )
    )
    if not actor_is_staff(actor):
        events = events.exclude(STAFF_INTERNAL)
    return events.order_by("created_at", "id")


def incident_attachments(
    *, actor, incident: Incident | None = None
) -> QuerySet[IncidentAttachment]:
    """Attachments the actor may download (the one door; customers: never internal)."""
    files = IncidentAttachment.objects.visible_to(actor)
    if incident is not None:
        files = files.filter(incident=incident)
    if not actor_is_staff(actor):
        files = files.filter(internal=False)
    return files.order_by("created_at", "id")


def severity_requests(*, actor) -> QuerySet[SeverityRequest]:
    """Customers' severity requests (R3) the actor may see, newest first."""
    return (
        SeverityRequest.objects.visible_to(actor)
        .select_related("incident__work_order__customer")
        .order_by("-created_at", "-id")
    )


def satisfaction_ratings(*, actor, customer=None) -> QuerySet[SatisfactionRating]:
    """Ratings the actor may see (staff: all; per customer with `customer`)."""
    ratings = SatisfactionRating.objects.visible_to(actor).select_related(
        "incident__work_order__customer"
    )
    if customer is not None:
        ratings = ratings.filter(incident__customer=customer)
    return ratings.order_by("-rated_at")


def incident_explain(incident: Incident, *, table_version: int | None = None) -> dict:
    """Why this incident's first-response deadline is what it is (data and sentences).

    table_version (incidents.caches): see explain; a service review passes it once for all.

    After the first response a severity change no longer moves the response target (R3,
    incidents.services): the explanation then speaks of the severity the target was
    set under, and `severity_changed_to` says what the incident is now (issue #17)."""
    severity = incident.severity
    changed_to = None
    if incident.responded_at is not None:
        later = (
            IncidentEvent.objects.filter(
                incident=incident, kind=EventKind.SEVERITY, created_at__gt=incident.responded_at
            )
            .order_by("created_at", "id")
            .values_list("data", flat=True)
            .first()
        )
        if isinstance(later, dict) and later.get("from") and later["from"] != severity:
            severity, changed_to = later["from"], incident.severity
    result = explain(
        work_order=incident.work_order,
        severity=severity,
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
        table_version=table_version,
    )
    if changed_to is not None:
        from incidents.choices import Severity

        result["severity_changed_to"] = changed_to
        result["sentences"] = [
            *result.get("sentences", []),
            _(
                "The severity changed to %(severity)s after the first response; the first "
                "response target stays the one it was answered under (R3)."
            )
            % {"severity": str(Severity(changed_to).label).lower()},
        ]
    return result


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


# --- the deadline sweep's health (/healthz, the staff operations page) ---------------


def recent_sweep_failures(*, runs: int) -> int:
    """`runs` when each of the last `runs` finished deadline sweeps failed rows, else 0.

    One failing run is not enough (a row can fail once and succeed on the next
    sweep); several in a row mean deadlines are being missed.
    """
    failed = list(
        SweepRun.objects.filter(job=DEADLINE_SWEEP_JOB, finished_at__isnull=False)
        .order_by("-started_at")
        .values_list("failed", flat=True)[:runs]
    )
    return runs if len(failed) == runs and all(failed) else 0


def sweep_health(*, now: dt.datetime | None = None) -> dict:
    """The dead-man check of the deadline sweep, for /healthz and the staff dashboard.

    - last_run_at: when the deadline sweep last finished (None: never)
    - backlog_age_seconds: how far in the past the oldest unhandled deadline is
      (min next_deadline_at, read through incident_next_deadline_idx); 0 when none
    - overdue: the backlog is older than two sweep intervals: the sweep is stuck or
      not running, and deadlines are being missed
    - last_beat_at / beat_age_seconds: the beat heartbeat
    """
    now = now or timezone.now()
    interval = settings.SWEEP_INTERVAL_SECONDS
    oldest = Incident.objects.filter(next_deadline_at__isnull=False).aggregate(
        m=Min("next_deadline_at")
    )["m"]
    backlog = max((now - oldest).total_seconds(), 0.0) if oldest else 0.0
    run = (
        SweepRun.objects.filter(job=DEADLINE_SWEEP_JOB, finished_at__isnull=False)
        .order_by("-started_at")
        .only("started_at", "finished_at", "handled", "failed")
        .first()
    )
    beat = last_beat_tick()
    return {
        "last_run_at": run.finished_at if run else None,
        "last_run_handled": run.handled if run else 0,
        "last_run_failed": run.failed if run else 0,
        "oldest_deadline_at": oldest,
        "backlog_age_seconds": round(backlog, 1),
        "overdue": backlog > 2 * interval,
        "interval_seconds": interval,
        "last_beat_at": beat,
        "beat_age_seconds": round((now - beat).total_seconds(), 1) if beat else None,
    }
