"""One FilterSet for incidents, shared by the staff/customer list pages and the API."""

import django_filters
from django.db.models import Q

from incidents.choices import IncidentStatus, Severity
from incidents.models import Incident


class IncidentFilterSet(django_filters.FilterSet):
    """Filters named after API.md's incident fields (plus a few conveniences)."""

    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    severity = django_filters.ChoiceFilter(choices=Severity.choices)
    # By id: a ModelChoiceFilter would validate against every work order, unscoped.
    work_order = django_filters.NumberFilter(field_name="work_order_id")
    external_reference = django_filters.CharFilter()
    breached = django_filters.BooleanFilter(field_name="response_breached")
    opened_after = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="gte")
    opened_before = django_filters.IsoDateTimeFilter(field_name="opened_at", lookup_expr="lt")
    customer = django_filters.CharFilter(field_name="work_order__customer__code")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Incident
        fields = ["status", "severity", "work_order", "external_reference", "breached", "customer"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(number__icontains=value)
            | Q(title__icontains=value)
            | Q(external_reference__icontains=value)
            | Q(product__icontains=value)
        )
