from rest_framework import mixins, viewsets

from accounts.permissions import IsStaffEditorOrReadOnly
from core.api.base import StrictQueryMixin, UtcMixin
from services.api.serializers import ServiceSerializer
from services.models import Service


class ServiceViewSet(
    UtcMixin,
    StrictQueryMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The service catalogue: readable by any key (it belongs to no customer)."""

    queryset = Service.objects.order_by("category", "name")
    serializer_class = ServiceSerializer
    permission_classes = [IsStaffEditorOrReadOnly]
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    filterset_fields = ["code", "category", "unit"]
    ordering_fields = ("updated_at", "code", "name", "id")
