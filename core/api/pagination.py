import re
from functools import partial

from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api.sync import (
    after_cursor,
    decode_cursor,
    encode_cursor,
    is_cursor_ordering,
    requested_ordering,
)
from core.pagination import CappedPaginator, capped_count, count_cap_for


class PagePagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page_size=` up to 200 (API.md).

    With `?ordering=updated_at` (or `-updated_at`) the pages are a keyset over
    (updated_at, id) and `next` carries an opaque signed `cursor` (core.api.sync);
    `previous` is then null (sync moves forward only).

    `count` is exact up to 1,000 rows (100 for a `?q=` search) and the planner's
    estimate above (issue #20: a
    COUNT(*) over millions of rows cost more than the page); the header
    `X-Count-Is-Exact: false` says when it is an estimate. Page numbers reach the
    10,000th row; deeper, page by the cursor."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator
    cursor_query_param = "cursor"

    def get_page_size(self, request):
        """`?page_size=`: a whole number from 1 (above 200 counts as 200); anything
        else is 400 naming it, never silently the default."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw in (None, ""):
            return self.page_size
        digits = raw.lstrip("0")[:12] or "0" if re.fullmatch(r"[0-9]+", raw) else ""
        if not digits or int(digits) < 1:
            raise ValidationError(
                {self.page_size_query_param: ["A whole number from 1 (above 200 counts as 200)."]}
            )
        # However many digits: above the maximum is the maximum (the schema sets no upper
        # bound, so schemathesis sends 1000000000 and expects an answer).
        return min(int(digits), self.max_page_size)

    def _page_parameters(self, parameters):
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
                parameter["description"] = "Rows per page, 50 by default; above 200 counts as 200."
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        self._cursor_mode = False
        cap = count_cap_for(request.query_params)
        self.django_paginator_class = partial(CappedPaginator, cap=cap)
        fields = requested_ordering(request, view, queryset.model)
        if not is_cursor_ordering(fields):
            return super().paginate_queryset(queryset, request, view)
        self._cursor_mode = True
        self.request = request
        self._ordering = fields[0]
        tie = "-id" if self._ordering.startswith("-") else "id"
        queryset = queryset.order_by(self._ordering, tie)
        self._count, self._count_is_exact = capped_count(queryset, cap)
        cursor = decode_cursor(request)
        if cursor is not None:
            if cursor["o"] != self._ordering:
                raise ValidationError({"cursor": ["The cursor belongs to another ordering."]})
            queryset = after_cursor(queryset, cursor)
        size = self.get_page_size(request)
        rows = list(queryset[: size + 1])
        self._has_next = len(rows) > size
        self._rows = rows[:size]
        return self._rows

    def get_paginated_response(self, data):
        if not getattr(self, "_cursor_mode", False):
            response = super().get_paginated_response(data)
            exact = self.page.paginator.count_is_exact
            response["X-Count-Is-Exact"] = "true" if exact else "false"
            return response
        next_link = None
        if self._has_next:
            last = self._rows[-1]
            url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
            token = encode_cursor(ordering=self._ordering, updated_at=last.updated_at, pk=last.pk)
            url = replace_query_param(url, self.cursor_query_param, token)
            next_link = remove_query_param(url, "ordering")
            next_link = replace_query_param(next_link, "ordering", self._ordering)
        response = Response(
            {"count": self._count, "next": next_link, "previous": None, "results": data}
        )
        response["X-Count-Is-Exact"] = "true" if self._count_is_exact else "false"
        return response

    def get_schema_operation_parameters(self, view):
        params = self._page_parameters(super().get_schema_operation_parameters(view))
        params.append(
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque position from `next` (with `ordering=updated_at` or "
                "`-updated_at`); a cursor that was altered is 400.",
                "schema": {"type": "string"},
            }
        )
        return params
