import time

from django.db import connection


class ServerTimeMiddleware:
    """X-Server-Time (ms: the whole middleware stack and view inside the worker) and
    X-Query-Count (SQL statements), bench only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = [0]

        def counter(execute, sql, params, many, context):
            count[0] += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(counter):
            response = self.get_response(request)
        response["X-Server-Time"] = f"{(time.perf_counter() - started) * 1000:.2f}"
        response["X-Query-Count"] = str(count[0])
        return response
