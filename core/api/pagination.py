from rest_framework.pagination import CursorPagination, PageNumberPagination
from rest_framework.response import Response

from core.pagination import CappedPaginator, capped_count

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
    numbers reach the 10,000th row. The body keeps API.md's four keys; the header
    `X-Count-Is-Exact: false` says when `count` is an estimate. `?ordering=updated_at` (or `-updated_at`) pages by a
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
            count, exact = self._count
            nxt, prev = self._cursor.get_next_link(), self._cursor.get_previous_link()
        else:
            count, exact = self.page.paginator.count, self.page.paginator.count_is_exact
            nxt, prev = self.get_next_link(), self.get_previous_link()
        response = Response({"count": count, "next": nxt, "previous": prev, "results": data})
        response["X-Count-Is-Exact"] = "true" if exact else "false"
        return response
