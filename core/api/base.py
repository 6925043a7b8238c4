"""The project's base viewset (NetBox's NetBoxModelViewSet): scoping through the one
door, pagination, Idempotency-Key on creating POSTs and If-Match on PATCH/PUT.

Subclasses name their model (`queryset`) and may add a `select_related` /
`prefetch_related` through `get_base_queryset`; they never filter by customer
themselves. Writes go through service functions: subclasses implement
`perform_create(serializer)` returning the created object and
`perform_update(serializer, expected_version)` returning the updated one.
"""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response

from core.api.filters import PortalFilterBackend
from core.api.idempotency import run_idempotent
from core.api.sync import (
    PAGINATION_PARAMS,
    SYNC_PARAMS,
    check_query_params,
    ordering_fields_of,
    sync_queryset,
)
from core.scoping import actor_customer_id, actor_is_staff


class PreconditionFailed(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The object changed since you read it (If-Match does not match its version)."
    default_code = "precondition_failed"


def parse_if_match(request) -> int | None:
    """The version an If-Match header names: `3`, `"3"` or `W/"3"`; None without one."""
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit() or len(value) > 9:
        raise ValidationError({"If-Match": ["Must be the object's version, an integer."]})
    return int(value)


def reject_unknown_fields(serializer, data) -> None:
    """API.md Revision 2: a body field the endpoint does not know, or one it only
    reads, is 400 naming it, never silently ignored. A serializer may explain some
    names better in `FORBIDDEN` ({name: message})."""
    if not isinstance(data, dict):
        return
    fields = serializer.fields
    forbidden = getattr(serializer, "FORBIDDEN", {})
    errors = {}
    for name in data:
        if name in forbidden:
            errors[name] = [forbidden[name]]
        elif name not in fields:
            errors[name] = ["Unknown field."]
        elif fields[name].read_only:
            errors[name] = ["Read-only field: it cannot be set."]
    if errors:
        raise ValidationError(errors)


def strict_serializer(serializer_class, *, data, **kwargs):
    """`serializer_class(data=data)` that refuses unknown and read-only fields."""
    serializer = serializer_class(data=data, **kwargs)
    reject_unknown_fields(serializer, data)
    return serializer


class UtcMixin:
    """API.md: timestamps in UTC with `Z`, whatever the user's portal time zone."""

    # Serializers render datetimes while the view runs, so UTC is active from
    # `initial` to `finalize_response`; the previous zone is then restored so that
    # nothing leaks into the next request handled by this thread.
    def initial(self, request, *args, **kwargs):
        self._utc = timezone.override(dt.UTC)
        self._utc.__enter__()
        super().initial(request, *args, **kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        try:
            return super().finalize_response(request, response, *args, **kwargs)
        finally:
            utc = getattr(self, "_utc", None)
            if utc is not None:
                self._utc = None
                utc.__exit__(None, None, None)


class StrictQueryMixin:
    """API.md Revision 2: a query parameter the endpoint does not know is 400 naming
    it. A list knows its filters, the pagination and sync parameters; any action
    knows what it declares in `extra_query_params` (a tuple for every action, or a
    dict action -> tuple)."""

    extra_query_params: tuple[str, ...] | dict[str, tuple[str, ...]] = ()
    #: Actions that return a paginated list besides `list` (e.g. a nested collection).
    list_actions: tuple[str, ...] = ()
    #: DRF's own `?format=` (renderer choice) is understood everywhere.
    ALWAYS_KNOWN = ("format",)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if getattr(self, request.method.lower(), None) is None:
            return  # a method the endpoint does not serve: DRF's 405 comes next
        check_query_params(request, self.known_query_params())

    #: The model of each nested list action (its rows are not the view's model), for
    #: the orderings the schema documents: {action: model}.
    list_models: dict = {}

    def list_model(self):
        """The model of the rows the current list action returns."""
        model = self.list_models.get(getattr(self, "action", None))
        if model is None:
            queryset = getattr(self, "queryset", None)
            model = queryset.model if queryset is not None else None
        return model

    def ordering_choices(self) -> list[str] | None:
        """Every `?ordering=` value this list takes (`-` for descending), or None when
        its FilterSet documents its own OrderingFilter."""
        if "ordering" in self.filter_names():
            return None
        model = self.list_model()
        if model is None:
            return None
        fields = ordering_fields_of(self, model)
        return [value for name in fields for value in (name, f"-{name}")]

    def is_list_action(self) -> bool:
        action = getattr(self, "action", None)
        return action == "list" or action in self.list_actions

    def known_query_params(self) -> set[str]:
        extra = self.extra_query_params
        if isinstance(extra, dict):
            extra = extra.get(getattr(self, "action", None), ())
        names = {*self.ALWAYS_KNOWN, *extra}
        if self.is_list_action():
            names |= {*PAGINATION_PARAMS, *SYNC_PARAMS}
            names |= self.filter_names()
        return names

    def filter_names(self) -> set[str]:
        names: set[str] = set()
        queryset = getattr(self, "queryset", None)
        for backend in getattr(self, "filter_backends", ()):
            get_class = getattr(backend(), "get_filterset_class", None)
            if get_class is None or queryset is None:
                continue
            filterset = get_class(self, queryset)
            if filterset is not None:
                for name, item in filterset.base_filters.items():
                    # A range filter reads `<name>_after` / `<name>_before` (its widget's
                    # suffixes, as the schema documents them), not `<name>`.
                    suffixes = getattr(item.field.widget, "suffixes", None) or [""]
                    names |= {f"{name}_{s}" if s else name for s in suffixes}
        return names

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        # Only the rows of the list itself: a nested list (`/incidents/{id}/timeline/`)
        # applies sync to its own rows, and its parent, which get_object finds through
        # this method, is never filtered by `updated_after` (that would be a 404).
        if self.is_list_action() and queryset.model is self.list_model():
            queryset = sync_queryset(queryset, self.request, self)
        return queryset


class PortalViewSet(UtcMixin, StrictQueryMixin, viewsets.GenericViewSet):
    """Base of every resource: scoping through the one door and small helpers. Add the
    behaviour mixins below (and DRF's List/Retrieve mixins) for the methods you serve."""

    #: extra select_related / prefetch_related for lists (no N+1 whatever the page size)
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple = ()
    #: Any path segment reaches the view, so a malformed id is our JSON 404, not the
    #: URL resolver's HTML page.
    lookup_value_regex = "[^/]+"
    filter_backends = [PortalFilterBackend]
    #: For the schema: does a POST take an Idempotency-Key? None: only `create`; an
    #: action that runs under `run_idempotent` says `creates=True`.
    creates: bool | None = None

    @property
    def actor(self):
        return self.request.user

    @property
    def actor_is_staff(self) -> bool:
        return actor_is_staff(self.request.user)

    @property
    def actor_customer_id(self) -> int | None:
        return actor_customer_id(self.request.user)

    def get_base_queryset(self):
        return self.queryset.model.objects.all()

    def get_queryset(self):
        # The one door: every row an endpoint reads comes through visible_to(actor).
        qs = self.get_base_queryset().visible_to(self.request.user)
        if self.select_related:
            qs = qs.select_related(*self.select_related)
        if self.prefetch_related:
            qs = qs.prefetch_related(*self.prefetch_related)
        return qs

    def get_output_serializer(self, instance):
        return self.get_serializer(instance)

    def refetch(self, instance):
        """The object again through the scoped, select_related queryset (fresh version)."""
        return self.get_queryset().get(pk=instance.pk)


class IdempotentCreateMixin:
    """POST that creates, under Idempotency-Key; `perform_create` returns the object
    (made by a service function)."""

    def create(self, request, *args, **kwargs):
        return run_idempotent(request, lambda: self._create(request))

    #: Read the object again after the service made it (fresh version, related rows);
    #: off where the service returns it complete.
    refetch_after_create = True

    def _create(self, request):
        serializer = self.get_serializer(data=request.data)
        reject_unknown_fields(serializer, request.data)
        serializer.is_valid(raise_exception=True)
        instance = self.perform_create(serializer)
        out = self.get_output_serializer(
            self.refetch(instance) if self.refetch_after_create else instance
        )
        return Response(out.data, status=status.HTTP_201_CREATED)

    def perform_create(self, serializer):  # pragma: no cover - subclasses implement
        raise NotImplementedError


class ConditionalUpdateMixin:
    """PATCH (and PUT) with If-Match: 412 when the version moved; the expected version
    also goes to the service, whose conditional UPDATE catches a race after our check."""

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        # One transaction for the whole PATCH: `perform_update` may call several service
        # functions (a work order's fields, then its lines; an incident's text, then its
        # status), and a refusal by a later one must not leave the earlier ones written
        # (API.md: a 4xx changes nothing).
        with transaction.atomic():
            instance = self.get_object()
            expected = parse_if_match(request)
            if expected is not None and expected != getattr(instance, "version", expected):
                raise PreconditionFailed()
            serializer = self.get_serializer(instance, data=request.data, partial=partial)
            reject_unknown_fields(serializer, request.data)
            serializer.is_valid(raise_exception=True)
            updated = self.perform_update(serializer, expected_version=expected)
        out = self.get_output_serializer(self.refetch(updated or instance))
        response = Response(out.data)
        if isinstance(out.data, dict) and "version" in out.data:
            response["ETag"] = f'"{out.data["version"]}"'
        return response

    def partial_update(self, request, *args, **kwargs):
        kwargs["partial"] = True
        return self.update(request, *args, **kwargs)

    def perform_update(self, serializer, expected_version=None):  # pragma: no cover
        raise NotImplementedError


class VersionedRetrieveMixin(mixins.RetrieveModelMixin):
    """GET one object, with `ETag: "<version>"` for versioned objects (If-Match's value)."""

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        if isinstance(response.data, dict) and "version" in response.data:
            response["ETag"] = f'"{response.data["version"]}"'
        return response
