"""A bare DRF create endpoint with the same authentication as the API (Bearer keys),
the default permission and throttle classes, and nothing else."""

from rest_framework import mixins, serializers, viewsets

from bench.apifloor.models import FloorNote


class FloorNoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = FloorNote
        fields = ["id", "text"]


class FloorNoteViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
    queryset = FloorNote.objects.all()
    serializer_class = FloorNoteSerializer
