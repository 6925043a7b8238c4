"""One FilterSet for incidents, shared by the staff/customer list pages and the API."""

import re

import django_filters
from django import forms
from django.conf import settings
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from core.api.filters import IdFilter, StrictBooleanFilter
from incidents.choices import OPEN_STATUSES, IncidentStatus, Severity, SeverityRequestState
from incidents.models import Incident, SeverityRequest


def breached_q(now=None) -> Q:
    """Incidents whose first response is breached (API.md: true once `response_due_at`
    passed with no response): flagged by the sweep, or open and past the deadline
    without a response before the sweep got to them (incidents.deadlines.breached_now)."""
    late = Q(
        responded_at__isnull=True,
        status__in=OPEN_STATUSES,
        response_due_at__lte=now or timezone.now(),
    )
    return Q(response_breached=True) | late


class IncidentFilterSet(django_filters.FilterSet):
    """Filters named after API.md's incident fields (plus a few conveniences)."""

    # distinct=False: django-filter's default wraps the whole query in SELECT DISTINCT,
    # which at millions of rows cost seconds (issue #20); a filter on the row's own
    # column cannot produce duplicates.
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices, distinct=False)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    # By id: a ModelChoiceFilter would validate against every work order, unscoped.
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    external_reference = django_filters.CharFilter()
    breached = StrictBooleanFilter(method="filter_breached")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    # Issue #20: the code resolved to an id first (one indexed read), so the page is a
    # range of incident_cust_web_queue_idx / incident_cust_api_list_idx in its order, not
    # a join that sorts every incident of the customer; a literal id, so the planner
    # weighs the customer's own share of the incidents (a large customer's or a small one's).
    customer = django_filters.CharFilter(method="filter_customer")
    q = django_filters.CharFilter(method="search", label="Search")
    # API.md: "filter with query parameters named after the fields". These take the
    # incident fields' own names; hidden inputs, so the list page does not show them
    # (it has `breached` and `q`) but honours them in its URL like the API.
    response_breached = StrictBooleanFilter(method="filter_breached", widget=forms.HiddenInput)
    # Case-insensitive by upper-casing the value: numbers are stored upper case
    # ("INC-000123"), so this is iexact that the unique index on number can answer.
    number = django_filters.CharFilter(method="filter_number", widget=forms.HiddenInput)
    contact = django_filters.CharFilter(
        field_name="contact__email", lookup_expr="iexact", widget=forms.HiddenInput
    )
    is_cloud = StrictBooleanFilter(widget=forms.HiddenInput)
    around_the_clock = StrictBooleanFilter(widget=forms.HiddenInput)
    language = django_filters.ChoiceFilter(choices=settings.LANGUAGES, widget=forms.HiddenInput)
    # Triage (API.md Revision 2): a staff username; the queue's "my incidents" and
    # "unassigned" views are `assignee=<me>` and `unassigned=true`.
    assignee = django_filters.CharFilter(field_name="assignee__username")
    unassigned = StrictBooleanFilter(field_name="assignee", lookup_expr="isnull")
    is_advisory = StrictBooleanFilter(widget=forms.HiddenInput)
    severity_requested = StrictBooleanFilter(method="filter_severity_requested")

    class Meta:
        model = Incident
        fields = ["status", "severity", "work_order", "external_reference", "breached", "customer"]

    def filter_customer(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        from contracts.models import Customer

        found = Customer.objects.filter(code=value).values_list("pk", flat=True).first()
        return queryset.filter(customer_id=found) if found is not None else queryset.none()

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(breached_q()) if value else queryset.exclude(breached_q())

    def filter_number(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(number=value.upper()) if value else queryset

    def filter_severity_requested(self, queryset, name, value):
        if value is None:
            return queryset
        from incidents.choices import SeverityRequestState

        open_ = Q(severity_requests__state=SeverityRequestState.OPEN)
        matching = queryset.filter(open_).values("pk")
        return queryset.filter(pk__in=matching) if value else queryset.exclude(pk__in=matching)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        # Issue #20: one expression over the four fields, upper-cased on both sides, that
        # incident_queue_search_idx (pg_trgm) serves; the same matches as icontains on each.
        from incidents.models import SEARCH_SQL

        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", value.upper()) + "%"
        table = Incident._meta.db_table
        return queryset.filter(
            RawSQL(SEARCH_SQL.format(t=f'"{table}".') + " LIKE %s", [pattern], BooleanField())
        )


class SeverityRequestFilterSet(django_filters.FilterSet):
    """`/api/v1/severity-requests/`: `?state=` and `?incident=<id>` (an id that matches
    nothing is an empty list, as on every list, not a 400)."""

    state = django_filters.ChoiceFilter(choices=SeverityRequestState.choices)
    incident = IdFilter(field_name="incident_id")

    class Meta:
        model = SeverityRequest
        fields = ["state", "incident"]
