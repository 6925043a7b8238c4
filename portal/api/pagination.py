from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from portal.pagination import CappedPaginator, capped_count

#: `?ordering=` values paged by an opaque cursor (API.md Revision 2: sync by updated_at).
CURSOR_ORDERINGS = {"updated_at": ("updated_at", "id"), "-updated_at": ("-updated_at", "-id")}


class _UpdatedCursor(CursorPagination):
    """Keyset pagination on (updated_at, id): each page is an index range scan, however deep."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("updated_at", "id")


class PagePagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page_size=` up to 200 (API.md).

    `count` is exact up to 10,000 and the planner's estimate above (`count_is_exact`
    false; issue #20: a COUNT(*) over millions of rows cost more than the page); page
    numbers reach the 10,000th row. `?ordering=updated_at` (or `-updated_at`) pages by a
    cursor instead, on an index, at any depth (`next` carries `cursor=`).
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        ordering = request.query_params.get("ordering", "")
        model = getattr(queryset, "model", None)
        self._cursor = None
        if ordering in CURSOR_ORDERINGS and model is not None and hasattr(model, "updated_at"):
            self._cursor = _UpdatedCursor()
            self._cursor.ordering = CURSOR_ORDERINGS[ordering]
            self._count = capped_count(queryset)
            return self._cursor.paginate_queryset(queryset, request, view)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        if self._cursor is not None:
            return Response(
                {
                    "count": self._count[0],
                    "count_is_exact": self._count[1],
                    "next": self._cursor.get_next_link(),
                    "previous": self._cursor.get_previous_link(),
                    "results": data,
                }
            )
        return Response(
            {
                "count": self.page.paginator.count,
                "count_is_exact": self.page.paginator.count_is_exact,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        out = super().get_paginated_response_schema(schema)
        out["properties"]["count_is_exact"] = {
            "type": "boolean",
            "description": "false when `count` is the database's estimate (above 10,000 rows)",
        }
        return out
