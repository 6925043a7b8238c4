from django.conf import settings
from django.db import models
from django.db.models import ExpressionWrapper, F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.scoping import scoped_queryset
from incidents.choices import (
    DEFAULT_LANGUAGE,
    OPEN_STATUSES,
    Channel,
    Clock,
    DeadlineKind,
    EventKind,
    IncidentStatus,
    Severity,
    SeverityRequestState,
    Threshold,
)
from services.choices import Package

#: Whether an incident has had its first response, as the queue orders by it and
#: incident_queue_idx indexes it (the same expression, so the planner matches them).
ANSWERED = ExpressionWrapper(Q(responded_at__isnull=False), output_field=models.BooleanField())

#: What the queue's and the API's `?q=` search reads (issue #20): number, title, external
#: reference and product in one upper-cased text, which incident_queue_search_idx (a
#: pg_trgm GIN index of the same expression, migration 0012) answers for LIKE '%TERM%'.
#: The separator is a line break, which a one-line search term cannot contain. Written in
#: SQL (as the index is), the columns qualified for queries that join other tables.
SEARCH_SQL = (
    "upper({t}number || E'\\n' || {t}title || E'\\n' || {t}external_reference"
    " || E'\\n' || {t}product)"
)


#: The columns the customer's list filters read (incident_cust_api_list_idx INCLUDEs them).
CUSTOMER_LIST_COVERS = [
    "work_order",
    "status",
    "severity",
    "is_cloud",
    "language",
    "response_breached",
    "responded_at",
    "response_due_at",
]


def _attachment_storage():
    from django.core.files.storage import storages

    return storages["attachments"]


class ResponseTarget(models.Model):
    """A first-response target (R4): data seeded from DOMAIN.md, editable by staff."""

    package = models.CharField(max_length=16, choices=Package.choices)
    severity = models.CharField(max_length=16, choices=Severity.choices)
    # R9: the Rapid Response row overrides the package's for critical cloud incidents.
    rapid_response = models.BooleanField(default=False)
    minutes = models.PositiveIntegerField()
    clock = models.CharField(max_length=16, choices=Clock.choices)
    note = models.CharField(max_length=300, blank=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["package", "severity", "rapid_response"]
        constraints = [
            models.UniqueConstraint(
                fields=["package", "severity", "rapid_response"], name="response_target_unique"
            ),
            models.CheckConstraint(condition=Q(minutes__gt=0), name="response_target_positive"),
        ]

    def __str__(self) -> str:
        rr = " (Rapid Response)" if self.rapid_response else ""
        return f"{self.get_package_display()} {self.get_severity_display()}{rr}: {self.minutes} min {self.get_clock_display()}"


#: The unique index of (external_reference, customer) (Meta.constraints).
EXTERNAL_REFERENCE_UNIQUE = "incident_customer_ext_ref_uniq"


class Incident(models.Model):
    """A support incident filed by a named contact (or entered by staff) on a work order."""

    # Unique by a constraint (Meta), not unique=True: that would add a second index for
    # LIKE queries, which nothing runs (searches use icontains), and copy an index of it
    # onto every audit-history row. Every index is paid on every INSERT (issue #6).
    number = models.CharField(max_length=20)
    # No index of its own: incident_wo_opened_idx leads with it.
    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.PROTECT, related_name="incidents", db_index=False
    )
    # Issue #20: the work order's customer, stored on the incident so that every
    # customer-scoped list reads its page through an index of its own instead of
    # walking every customer's incidents through a join. Kept right by every writer:
    # save() and the create service set it, and the database trigger
    # incidents_incident_set_customer (migration 0011) sets it on every INSERT and on
    # every UPDATE of work_order_id/customer_id, whoever writes (raw SQL included);
    # contracts_workorder_move_incidents follows a work order moved to another customer.
    # No index of its own: the customer indexes below lead with it.
    customer = models.ForeignKey(
        "contracts.Customer", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    contact = models.ForeignKey(
        "contracts.NamedContact", on_delete=models.PROTECT, related_name="incidents"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    severity = models.CharField(max_length=16, choices=Severity.choices, default=Severity.NORMAL)
    product = models.CharField(max_length=200, blank=True)
    is_cloud = models.BooleanField(default=False)
    around_the_clock = models.BooleanField(
        default=False, help_text=_("24x7 effort requested (R6).")
    )
    is_advisory = models.BooleanField(
        default=False, help_text=_("An advisory request (R23), not a problem.")
    )
    advisory_minutes = models.PositiveIntegerField(default=0)
    external_reference = models.CharField(max_length=200, blank=True)
    # R22: the language support is conducted in; R9's Rapid Response is English only.
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default=DEFAULT_LANGUAGE,
        help_text=_("The language support is conducted in (R22)."),
    )
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.NEW
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The target applied, copied onto the incident so editing the table never
    # silently moves an open incident's deadline (R4).
    target = models.ForeignKey(
        ResponseTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    target_minutes = models.PositiveIntegerField()
    target_clock = models.CharField(max_length=16, choices=Clock.choices)
    target_rule = models.CharField(
        max_length=200, help_text=_("Why this target applies, e.g. 'R4 Advanced normal'.")
    )
    response_due_at = models.DateTimeField()
    response_warning_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response_breached = models.BooleanField(default=False)

    # The customer's side (DOMAIN.md): 24 hours to answer when we wait on them, and
    # change-control access within 4 business hours on Advanced critical incidents.
    customer_due_at = models.DateTimeField(null=True, blank=True)
    change_control_due_at = models.DateTimeField(null=True, blank=True)
    change_control_granted_at = models.DateTimeField(null=True, blank=True)

    # R7/R8: critical situation resource and escalation.
    critical_situation_due_at = models.DateTimeField(null=True, blank=True)
    critical_situation_assigned_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    next_status_update_at = models.DateTimeField(null=True, blank=True)

    # The earliest deadline the worker still has to act on (warning, breach, customer
    # side, escalation). Null when nothing is pending. Read by the deadline sweep
    # (incidents.tasks.sweep_deadlines) through incident_next_deadline_idx.
    next_deadline_at = models.DateTimeField(null=True, blank=True)

    # Triage (issue #17): the staff member working the incident.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_incidents",
        limit_choices_to={"is_staff": True},
    )

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    # The live pages' change marker (incidents.views.incident_marker) and API sync.
    # Indexed with the id by incident_updated_idx (migration 0008: the sync cursor's
    # order); a second index of updated_at alone only cost every write (issue #20).
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("customer").as_manager()
    # Audit rows are read per incident (by id) and by date: the indexes simple-history
    # would copy from the foreign keys and the reference only slow every write.
    history = HistoricalRecords(
        no_db_index=[
            "work_order",
            "customer",
            "contact",
            "opened_by",
            "responded_by",
            "target",
            "assignee",
            "updated_at",
        ]
    )

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="incident_number_unique"),
            # API.md Revision 2: a ticketing tool's reference is unique per customer. The
            # create inserts and turns this index's refusal into a Conflict naming the
            # incident that has it (incidents.services.opening; issue #20: no lock and no
            # read before the INSERT). Leading with the reference, it also serves the
            # API's and the staff list's `external_reference` filter (exact match).
            models.UniqueConstraint(
                fields=["external_reference", "customer"],
                condition=~Q(external_reference=""),
                name=EXTERNAL_REFERENCE_UNIQUE,
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_deadline_at"],
                name="incident_next_deadline_idx",
                condition=Q(next_deadline_at__isnull=False),
            ),
            models.Index(fields=["work_order", "-opened_at"], name="incident_wo_opened_idx"),
            models.Index(fields=["status", "-opened_at"], name="incident_status_opened_idx"),
            # Issue #20: each hot page reads its page through an index named after it.
            # The staff queue (open incidents: unanswered first, by due time): a partial
            # index over the open ones only (tens of thousands, not millions).
            models.Index(
                ANSWERED,
                F("response_due_at"),
                F("opened_at").desc(),
                name="incident_queue_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The staff queue by severity (its "critical" view): open incidents of one
            # severity in the queue's order. Without it, the count and the live marker
            # read every open incident to keep the critical ones (issue #20: 28 + 22 ms
            # for 4,000 of 50,000).
            models.Index(
                F("severity"),
                ANSWERED,
                F("response_due_at"),
                F("opened_at").desc(),
                name="incident_queue_severity_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The work-order page's open incidents.
            models.Index(
                fields=["work_order", "response_due_at"],
                name="incident_customer_queue_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # Issue #20, on the stored customer: the customer's web queue and the staff
            # queue's ?customer= filter (open incidents in the queue's order) ...
            models.Index(
                F("customer"),
                ANSWERED,
                F("response_due_at"),
                F("opened_at").desc(),
                name="incident_cust_web_queue_idx",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # ... and every list of one customer's incidents of any status, newest first:
            # the API lists with a customer's key, the customer's "all incidents" page,
            # the staff ?customer=&all=1 list.
            # Covering the API's filters (INCLUDE): a capped count of one customer's
            # incidents by severity, status, work order, cloud, language or breach reads
            # the index alone (a customer's rows lie one per heap page across years).
            models.Index(
                fields=["customer", "-opened_at", "-id"],
                name="incident_cust_api_list_idx",
                include=CUSTOMER_LIST_COVERS,
            ),
            # The `breached` filter of the staff queue (open incidents): those flagged
            # breached, beside the late unanswered ones incident_due_soon_idx finds by due
            # time. Without it the filter read all open incidents to find the few (issue
            # #20: 29 ms for 3 of 50,000). No entry at all until an incident is breached.
            models.Index(
                fields=["response_due_at"],
                name="incident_open_breached_idx",
                condition=Q(status__in=OPEN_STATUSES, response_breached=True),
            ),
            # A customer's sync (API.md Revision 2: `?ordering=updated_at` with a
            # customer's key, the cursor (updated_at, id)): without it the cursor walked
            # every customer's changes to find one customer's (issue #20: Acme's 20th
            # page 36 ms at 3 M incidents, against 7 ms on the demo data).
            models.Index(fields=["customer", "updated_at", "id"], name="incident_cust_sync_idx"),
            # The dashboard's "due soon" (open, unanswered, by due time).
            models.Index(
                fields=["response_due_at"],
                name="incident_due_soon_idx",
                condition=Q(status__in=OPEN_STATUSES, responded_at__isnull=True),
            ),
            # (incident_queue_search_idx, the search's, is migration 0012's: SEARCH_SQL.)
            # The dashboard's "breaches today": late or unanswered incidents by due time
            # (a small part of all; the same condition as the page's query).
            models.Index(
                fields=["-response_due_at"],
                name="incident_breaches_today_idx",
                condition=Q(responded_at__isnull=True) | Q(responded_at__gt=F("response_due_at")),
            ),
            # The API list (newest first), lists reaching closed incidents, `opened_after`.
            models.Index(fields=["-opened_at", "-id"], name="incident_list_opened_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        # The stored customer follows the work order (the trigger enforces it in the
        # database as well; this keeps the instance in memory right without a reload).
        # No query for it: from the cached work order, or (rare) a fetch when unset.
        if self.work_order_id is not None:
            if Incident.work_order.is_cached(self):
                self.customer_id = self.work_order.customer_id
            elif self.customer_id is None:
                self.customer_id = self.work_order.customer_id
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class IncidentEvent(models.Model):
    """One entry of an incident's timeline: a comment or a recorded change."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "staff", "customer", "system" or an API key's name, for display.
    author_label = models.CharField(max_length=120, blank=True)
    from_customer = models.BooleanField(default=False)
    # A staff-internal note: never shown or sent to the customer (pages, API, e-mail, webhooks).
    # db_default: the sweep and the opening insert timeline rows with raw SQL.
    internal = models.BooleanField(default=False, db_default=False)
    body = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("incident__customer").as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["incident", "created_at"], name="incident_event_timeline_idx")
        ]

    def __str__(self) -> str:
        return f"{self.incident.number} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class DeadlineEvent(models.Model):
    """That a deadline threshold was reached, recorded once (unique key) by the sweep."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="deadline_events")
    deadline = models.CharField(max_length=24, choices=DeadlineKind.choices)
    threshold = models.CharField(max_length=12, choices=Threshold.choices)
    # The true time the threshold was reached (the deadline), not when the sweep saw it.
    occurred_at = models.DateTimeField()
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("incident__customer").as_manager()

    class Meta:
        ordering = ["occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "deadline", "threshold"], name="deadline_event_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} {self.deadline} {self.threshold} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class DeadlineRecomputation(models.Model):
    """One run of incidents_recompute_deadlines: what triggered it and how many moved."""

    # What changed: a location's calendar (R5) and/or a target staff chose to apply (R4).
    location = models.ForeignKey(
        "contracts.SupportLocation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    target = models.ForeignKey(
        ResponseTarget, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    examined = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = scoped_queryset("location__customer").as_manager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        what = self.location or self.target or "all"
        return f"Recomputation {self.started_at:%Y-%m-%d %H:%M} ({what}): {self.changed} changed"


class AttainmentMonth(models.Model):
    """First-response attainment of one work order in one month (met, missed), precomputed
    by the worker (incidents.tasks.refresh_attainment) so the dashboards and the work-order
    overview never aggregate millions of incidents per request (issue #20). A customer's
    figures are the sum over its work orders."""

    customer = models.ForeignKey("contracts.Customer", on_delete=models.CASCADE, related_name="+")
    work_order = models.ForeignKey(
        "contracts.WorkOrder", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    month = models.DateField(help_text=_("First day of the month (settings.TIME_ZONE)."))
    met = models.PositiveIntegerField(default=0)
    missed = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("customer").as_manager()

    class Meta:
        constraints = [
            # Also the work-order overview's read (work_order, month >= ...).
            models.UniqueConstraint(
                fields=["work_order", "month"], name="attainment_month_once_per_work_order"
            )
        ]
        # The dashboard's and the reviews' read: months of all (or one customer's).
        indexes = [models.Index(fields=["month", "customer"], name="attainment_dashboard_idx")]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.month:%Y-%m}: {self.met} met, {self.missed} missed"


def attachment_path(instance, filename: str) -> str:
    """Storage key of an attachment: not guessable, never under a public URL (served only
    by incidents.views.attachment_download / the API, through the one door)."""
    import uuid

    return f"incident-attachments/{instance.incident_id}/{uuid.uuid4().hex}"


class IncidentAttachment(models.Model):
    """A file on an incident (a process dump, a network trace, R27), or on one comment."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="attachments")
    comment = models.ForeignKey(
        IncidentEvent,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="attachments",
    )
    # Storage from settings.STORAGES["attachments"]: local files, or S3 by configuration.
    file = models.FileField(upload_to=attachment_path, storage=_attachment_storage, max_length=300)
    name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=120, blank=True)
    # Attached to an internal note: staff only, like the note.
    internal = models.BooleanField(default=False)
    from_customer = models.BooleanField(default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("incident__customer").as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.size} bytes)"


class SeverityRequest(models.Model):
    """A customer's request to change an incident's severity (R3), decided by support."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="severity_requests"
    )
    severity = models.CharField(max_length=16, choices=Severity.choices)
    reason = models.TextField()
    state = models.CharField(
        max_length=10, choices=SeverityRequestState.choices, default=SeverityRequestState.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_by_label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by_label = models.CharField(max_length=120, blank=True)
    decision_reason = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = scoped_queryset("incident__customer").as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # R3: a second identical request while one is open is refused (a double click).
            models.UniqueConstraint(
                fields=["incident", "severity"],
                condition=Q(state="open"),
                name="severity_request_one_open",
            )
        ]
        indexes = [
            # The queue's and dashboard's badge: open requests.
            models.Index(
                fields=["incident"], name="severity_request_open_idx", condition=Q(state="open")
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id} -> {self.severity} ({self.state})"


class SatisfactionRating(models.Model):
    """The customer's rating of the support on a solved incident (seed 4.5), one per incident."""

    incident = models.OneToOneField(
        Incident, on_delete=models.CASCADE, related_name="satisfaction_rating"
    )
    score = models.PositiveSmallIntegerField()
    comment = models.TextField(blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rated_at = models.DateTimeField(default=timezone.now)

    objects = scoped_queryset("incident__customer").as_manager()

    class Meta:
        ordering = ["-rated_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gte=1) & Q(score__lte=5), name="satisfaction_score_1_to_5"
            )
        ]

    def __str__(self) -> str:
        return f"{self.incident_id}: {self.score}/5"


class SavedQueueView(models.Model):
    """A staff member's named filter set of the incident queue (its query string)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_queue_views"
    )
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_queue_view_unique")
        ]

    def __str__(self) -> str:
        return self.name
