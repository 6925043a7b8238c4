from rest_framework.pagination import PageNumberPagination


class PagePagination(PageNumberPagination):
    """`{"count", "next", "previous", "results"}` with `?page_size=` up to 200 (API.md)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
