from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.limits import InputLimitsMixin
from services.choices import Availability
from services.models import Service


class AvailabilitySerializer(InputLimitsMixin, serializers.Serializer):
    """How the service stands in each base package."""

    core = serializers.ChoiceField(choices=Availability.choices)
    advanced = serializers.ChoiceField(choices=Availability.choices)
    performance = serializers.ChoiceField(choices=Availability.choices)


class ServiceSerializer(InputLimitsMixin, serializers.ModelSerializer):
    """A catalogue row (API.md): codes are part of the contract and never change."""

    availability = serializers.SerializerMethodField()

    class Meta:
        model = Service
        fields = ["code", "name", "category", "unit", "availability", "updated_at"]

    @extend_schema_field(AvailabilitySerializer)
    def get_availability(self, obj) -> dict:
        return obj.availability
