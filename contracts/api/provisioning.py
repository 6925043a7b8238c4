"""Provisioning over the API (API.md Revision 2): customers' PATCH, support locations with
business hours and closures, single lines, contact edits and invitations, renewal.
Serializers here refuse body fields they do not know (400 naming them)."""

from django.contrib.auth import get_user_model
from rest_framework import serializers

from contracts.choices import ClosureSource
from contracts.models import ClosureDay, SupportLocation
from services.models import Service

WEEKDAY_KEYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class StrictFieldsMixin:
    """A body field the endpoint does not know, or one it does not let you write, is a
    400 naming it (API.md Revision 2), never silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            unknown = sorted(set(data) - writable)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown or read-only field."] for name in unknown}
                )
        return super().to_internal_value(data)


class HoursSpan(serializers.Serializer):
    open = serializers.TimeField(format="%H:%M")
    close = serializers.TimeField(format="%H:%M")


class SupportLocationSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """A support location: business hours per weekday (local time) and extra closed dates (R5)."""

    business_hours = serializers.DictField(
        child=HoursSpan(),
        required=False,
        help_text="Open weekdays (mon..sun), each with its own `open`/`close`, local time "
        "(e.g. Friday closing earlier); a weekday left out is closed.",
    )
    closures = serializers.ListField(
        child=serializers.DateField(),
        required=False,
        help_text="Extra closed dates of the location (public holidays come from the country).",
    )
    updated_at = serializers.SerializerMethodField()

    class Meta:
        model = SupportLocation
        fields = [
            "id",
            "name",
            "country",
            "subdivision",
            "timezone",
            "business_hours",
            "closures",
            "calendar_version",
            "updated_at",
        ]
        read_only_fields = ["id", "calendar_version"]

    def get_updated_at(self, obj) -> str | None:
        last = obj.history.order_by("-history_date").values_list("history_date", flat=True).first()
        return serializers.DateTimeField().to_representation(last) if last else None

    def to_representation(self, obj):
        data = super().to_representation(obj)
        data["business_hours"] = {
            WEEKDAY_KEYS[d]: {"open": opens.strftime("%H:%M"), "close": closes.strftime("%H:%M")}
            for d, (opens, closes) in sorted(obj.hours_by_weekday().items())
        }
        data["closures"] = [
            d.isoformat()
            for d in ClosureDay.objects.filter(
                location=obj, source=ClosureSource.LOCATION, is_closed=True
            )
            .order_by("date")
            .values_list("date", flat=True)
        ]
        return data

    def validate_business_hours(self, value):
        unknown = sorted(set(value) - set(WEEKDAY_KEYS))
        if unknown:
            raise serializers.ValidationError(
                f"Unknown weekdays {', '.join(unknown)}; use {', '.join(WEEKDAY_KEYS)}."
            )
        if not value:
            raise serializers.ValidationError("At least one open weekday.")
        late = [k for k in WEEKDAY_KEYS if k in value and value[k]["close"] <= value[k]["open"]]
        if late:
            raise serializers.ValidationError(
                f"R5: a location must close after it opens ({', '.join(late)})."
            )
        return value

    def service_kwargs(self) -> dict:
        """The validated body as support_location_create/update arguments."""
        data = dict(self.validated_data)
        data.pop("closures", None)
        hours = data.pop("business_hours", None)
        if hours is not None:
            # R5: one span per open weekday (the older one-span-for-all body is the
            # same thing with equal spans).
            data["weekday_hours"] = {
                WEEKDAY_KEYS.index(k): (span["open"], span["close"]) for k, span in hours.items()
            }
        return data


def set_closures(*, location, dates, by) -> None:
    """Make the location's own closed dates exactly `dates` (public holidays untouched)."""
    from contracts import services

    wanted = set(dates)
    current = set(
        ClosureDay.objects.filter(
            location=location, source=ClosureSource.LOCATION, is_closed=True
        ).values_list("date", flat=True)
    )
    for day in sorted(wanted - current):
        services.closure_day_set(location=location, date=day, name="Closed", by=by)
    for day in sorted(current - wanted):
        services.closure_day_set(location=location, date=day, is_closed=False, by=by)


class LineSerializer(StrictFieldsMixin, serializers.Serializer):
    """One line: POST adds it, PATCH changes its quantity (R11, R12, R13, R26)."""

    id = serializers.IntegerField(read_only=True)
    service = serializers.SlugRelatedField(slug_field="code", queryset=Service.objects.all())
    quantity = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0)
    unit = serializers.CharField(read_only=True)
    used = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    remaining = serializers.DecimalField(max_digits=10, decimal_places=2, read_only=True)
    ends_on = serializers.DateField(read_only=True, allow_null=True)
    bounds_override = serializers.BooleanField(required=False, default=False)
    override_reason = serializers.CharField(
        required=False, default="", allow_blank=True, max_length=300
    )


class LinePatchSerializer(LineSerializer):
    service = serializers.CharField(source="service.code", read_only=True)
    bounds_override = serializers.BooleanField(required=False)
    override_reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class ContactPatchSerializer(StrictFieldsMixin, serializers.Serializer):
    """A named contact's edit: `active: false` ends its right to file (R2, R25)."""

    name = serializers.CharField(max_length=200, required=False)
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    is_lead = serializers.BooleanField(required=False)


class InvitationSerializer(serializers.Serializer):
    contact = serializers.IntegerField()
    email = serializers.EmailField()
    expires_at = serializers.DateTimeField()


class RenewSerializer(StrictFieldsMixin, serializers.Serializer):
    """The next term; every field optional (defaults: the day after the old term, same length)."""

    number = serializers.CharField(max_length=32, required=False, allow_blank=True)
    start_date = serializers.DateField(required=False)
    end_date = serializers.DateField(required=False)
    quantities = serializers.DictField(
        child=serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0),
        required=False,
        help_text="Service code to quantity for the new term; 0 drops the line.",
    )

    def validate(self, attrs):
        start, end = attrs.get("start_date"), attrs.get("end_date")
        if start and end and end <= start:
            raise serializers.ValidationError({"end_date": ["Must be after start_date."]})
        return attrs


class UsernameField(serializers.SlugRelatedField):
    def __init__(self, **kwargs):
        super().__init__(
            slug_field="username",
            queryset=get_user_model().objects.filter(is_staff=True, is_active=True),
            **kwargs,
        )


def products_to_text(products) -> str:
    return "\n".join(p.strip() for p in products if p and p.strip())


def products_from_text(text: str) -> list[str]:
    return [p.strip() for p in (text or "").splitlines() if p.strip()]
