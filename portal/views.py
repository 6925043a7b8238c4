from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponse, JsonResponse


@login_required
def home(request):
    return HttpResponse("Support portal")


def healthz(request):
    ok = True
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as exc:  # report, never raise: this is the health endpoint
        ok = False
        checks["database"] = f"error: {exc.__class__.__name__}"
    return JsonResponse({"status": "ok" if ok else "error", "checks": checks}, status=200 if ok else 503)
