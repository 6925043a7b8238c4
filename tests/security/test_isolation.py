"""Tenant isolation, proven over every URL pattern of the UI and the API.

Walks the whole URL configuration (skipping only admin/ and static files), fills each
pattern's path kwargs with customer A's objects, and requests it as customer B (web
session), with B's API key and anonymously: GET, POST with an empty body, and for API
detail URLs PATCH and DELETE. It fails when a response carries any of A's marker
strings, when B gets a 2xx for a URL of A's object, when any request changed A's
data, or on a 5xx. A pattern whose kwargs it cannot fill fails the test: a new view
must get a filler below (so a new unscoped view breaks the build, not production).
"""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.test import APIClient

from contracts.models import ClosureDay, NamedContact, SupportLocation, WorkOrder, WorkOrderLine
from credits.models import CreditEntry, Rate, Redemption
from incidents.models import (
    Incident,
    IncidentAttachment,
    IncidentEvent,
    SavedQueueView,
    SeverityRequest,
)
from notifications.models import WebhookSubscription
from services.models import Service
from tests import factories as f

pytestmark = pytest.mark.django_db

#: Pages anyone may open (they hold no customer data); still checked for A's markers.
PUBLIC_URL_NAMES = {
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "healthz",
    "api-schema",
    "api-docs",
    "api-redoc",
}
#: URL prefixes not walked: Django's admin has its own staff-only permission system.
SKIPPED_PREFIXES = ("admin/", "static/", "media/", "__debug__/")

A_MARKERS = [
    "Acme BV",
    "WO-A-1",
    "ZZ-A-INCIDENT-TITLE",
    "ZZ-A-EVENT-BODY",
    "ZZ-A-FILE-BODY",
    "ZZ-A-REQUEST-REASON",
    "ZZ-A-VIEW",
    "a-contact-marker@acme.example",
    "bob@acme.example",
    "ZZ-A-LOCATION",
    "ZZ-A-CLOSURE",
    "a-webhook-marker",
]


@pytest.fixture
def world(
    staff,
    user_a,
    customer_a,
    work_order_a,
    contact_a,
    customer_b,
    work_order_b,
    contact_b,
    user_b,
    key_b,
):
    """A's rich data (every kind of object a URL can name), and B's own."""
    today = timezone.localdate()
    location = work_order_a.support_location
    SupportLocation.objects.filter(pk=location.pk).update(name="ZZ-A-LOCATION")
    closure = f.ClosureDayFactory(location=location, name="ZZ-A-CLOSURE")
    other_contact = f.NamedContactFactory(
        work_order=work_order_a, name="Ann", email="a-contact-marker@acme.example"
    )
    line = f.WorkOrderLineFactory(work_order=work_order_a)
    f.CreditAccountFactory(work_order=work_order_a, balance=90)
    f.CreditEntryFactory(
        work_order=work_order_a, line=line, kind="grant", amount=100, balance_after=100
    )
    rate = f.RateFactory(customer=customer_a, credits_per_unit=Decimal("12"))
    redemption = f.RedemptionFactory(
        work_order=work_order_a, scheduled_for=today + dt.timedelta(days=40)
    )
    f.CreditEntryFactory(
        work_order=work_order_a,
        redemption=redemption,
        kind="redemption",
        amount=-10,
        balance_after=90,
    )
    incident = f.IncidentFactory(
        work_order=work_order_a, contact=contact_a, title="ZZ-A-INCIDENT-TITLE"
    )
    f.IncidentEventFactory(incident=incident, kind="comment", body="ZZ-A-EVENT-BODY")
    # The incident desk (issue #17): a file, a severity request, a staff member's saved view.
    from django.core.files.uploadedfile import SimpleUploadedFile

    from incidents.models import IncidentAttachment

    attachment = IncidentAttachment(
        incident=incident, name="zz-a-attachment.txt", size=14, author_label="bob"
    )
    attachment.file.save("zz", SimpleUploadedFile("zz", b"ZZ-A-FILE-BODY"), save=False)
    attachment.save()
    severity_request = f.SeverityRequestFactory(incident=incident, reason="ZZ-A-REQUEST-REASON")
    queue_view = f.SavedQueueViewFactory(user=staff, name="ZZ-A-VIEW")
    webhook = f.WebhookSubscriptionFactory(
        customer=customer_a, url="http://127.0.0.1:9/a-webhook-marker"
    )
    delivery = f.WebhookDeliveryFactory(subscription=webhook)
    f.OutboxMessageFactory(
        customer=customer_a, recipient="bob@acme.example", subject="ZZ-A-INCIDENT-TITLE"
    )
    # B's own data, so B's lists are not trivially empty.
    f.IncidentFactory(work_order=work_order_b, contact=contact_b, title="Globex own incident")
    service = Service.objects.get(code="workshops")
    return {
        "user_a": user_a,
        "customer": customer_a,
        "work_order": work_order_a,
        "location": location,
        "closure": closure,
        "contact": other_contact,
        "line": line,
        "rate": rate,
        "redemption": redemption,
        "incident": incident,
        "webhook": webhook,
        "delivery": delivery,
        "service": service,
        "attachment": attachment,
        "severity_request": severity_request,
        "queue_view": queue_view,
    }


# --- fillers: which of A's objects a path kwarg names ----------------------------------

#: The path segment before a kwarg → the fixture object it names. "shared" objects are
#: not customer data (the catalogue): B may read them.
SEGMENT_FILLERS = {
    "customers": "customer",
    "work-orders": "work_order",
    "locations": "location",
    "closures": "closure",
    "closure-days": "closure",
    "contacts": "contact",
    "lines": "line",
    "rates": "rate",
    "redemptions": "redemption",
    "incidents": "incident",
    "webhooks": "webhook",
    "deliveries": "delivery",
    "services": "service",
    "severity-requests": "severity_request",
    "views": "queue_view",
}
SHARED = {"service"}
#: kwargs filled the same way wherever they appear.
NAME_FILLERS = {
    "customer_pk": "customer",
    "work_order_pk": "work_order",
    "incident_pk": "incident",
    "attachment_id": "attachment",
    "request_id": "severity_request",
}


def _walk(patterns, prefix="", namespace=None):
    """(route text, full url name, kwarg names) of every leaf pattern."""
    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            ns = namespace
            if p.namespace:
                ns = f"{namespace}:{p.namespace}" if namespace else p.namespace
            yield from _walk(p.url_patterns, route, ns)
        elif isinstance(p, URLPattern):
            name = f"{namespace}:{p.name}" if namespace and p.name else p.name
            yield route, name, p


def _kwarg_names(route: str) -> list[str]:
    return [a or b for a, b in re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route)]


def _segment_before(route: str, kwarg: str) -> str | None:
    match = re.search(rf"([A-Za-z][\w-]*)[^\w<(]*(?:<(?:\w+:)?{kwarg}>|\(\?P<{kwarg}>)", route)
    return match.group(1) if match else None


def _fill(route: str, name: str, world: dict) -> tuple[dict, list]:
    """kwargs for A's objects, and the (non-shared) objects named. Raises on a gap."""
    kwargs, owned = {}, []
    for kwarg in _kwarg_names(route):
        if kwarg == "format":
            kwargs[kwarg] = "json"
            continue
        if kwarg in ("uidb64", "token"):
            # Password reset confirmation for A's user, with a forged token.
            kwargs[kwarg] = (
                urlsafe_base64_encode(force_bytes(world["user_a"].pk))
                if kwarg == "uidb64"
                else "forged-token"
            )
            continue
        key = NAME_FILLERS.get(kwarg) or SEGMENT_FILLERS.get(_segment_before(route, kwarg) or "")
        if key is None:
            raise LookupError(
                f"URL pattern {route!r} (name {name!r}) has a path kwarg {kwarg!r} that "
                "tests/security/test_isolation.py cannot fill. Add a filler (SEGMENT_FILLERS or "
                "NAME_FILLERS) naming customer A's object of that kind, so the view is tried by "
                "customer B and anonymously."
            )
        obj = world[key]
        kwargs[kwarg] = getattr(obj, "code", None) if kwarg == "code" else obj.pk
        if key not in SHARED:
            owned.append(key)
    return kwargs, owned


def _url_for(route: str, name: str | None, kwargs: dict) -> str:
    if name:
        return reverse(name, kwargs=kwargs)
    raise LookupError(
        f"URL pattern {route!r} has no name: name it so it can be reversed and tried."
    )


def _snapshot(world) -> tuple:
    """A's data that a request by someone else must never change."""
    wo = world["work_order"]
    return (
        tuple(
            WorkOrder.objects.filter(pk=wo.pk).values_list(
                "version", "terminated_at", "notes", "low_credit_threshold"
            )
        ),
        tuple(
            WorkOrderLine.objects.filter(work_order=wo)
            .order_by("pk")
            .values_list("pk", "quantity", "used")
        ),
        tuple(
            NamedContact.objects.filter(work_order=wo)
            .order_by("pk")
            .values_list("pk", "version", "active", "email")
        ),
        tuple(
            Incident.objects.filter(work_order=wo)
            .order_by("pk")
            .values_list("pk", "version", "status", "severity", "title")
        ),
        IncidentEvent.objects.filter(incident__work_order=wo).count(),
        tuple(
            SeverityRequest.objects.filter(incident__work_order=wo)
            .order_by("pk")
            .values_list("pk", "state")
        ),
        IncidentAttachment.objects.filter(incident__work_order=wo).count(),
        SavedQueueView.objects.count(),
        tuple(CreditEntry.objects.filter(work_order=wo).order_by("pk").values_list("pk", "amount")),
        tuple(
            Redemption.objects.filter(work_order=wo)
            .order_by("pk")
            .values_list("pk", "status", "version")
        ),
        tuple(
            Rate.objects.filter(customer=world["customer"])
            .order_by("pk")
            .values_list("pk", "credits_per_unit")
        ),
        tuple(
            WebhookSubscription.objects.filter(customer=world["customer"])
            .order_by("pk")
            .values_list("pk", "active", "url")
        ),
        tuple(
            SupportLocation.objects.filter(customer=world["customer"]).values_list(
                "pk", "calendar_version", "name"
            )
        ),
        tuple(
            ClosureDay.objects.filter(location__customer=world["customer"])
            .order_by("pk")
            .values_list("pk", "is_closed")
        ),
    )


def _actors(user_b):
    session_b = Client(raise_request_exception=False)
    session_b.force_login(user_b)
    key_b = APIClient(raise_request_exception=False)
    key_b.credentials(HTTP_AUTHORIZATION="Bearer sp_globex_" + "b" * 40)
    return {
        "B (session)": session_b,
        "B (API key)": key_b,
        "anonymous": Client(raise_request_exception=False),
    }


def _methods(url: str, has_kwargs: bool) -> list[str]:
    methods = ["get", "post"]
    if url.startswith("/api/") and has_kwargs:
        methods += ["patch", "delete"]
    return methods


def _request(client, method, url):
    if isinstance(client, APIClient):
        return (
            getattr(client, method)(url, {}, format="json") if method != "get" else client.get(url)
        )
    return getattr(client, method)(url) if method == "get" else getattr(client, method)(url, {})


def test_no_url_of_the_ui_or_the_api_shows_or_changes_customer_a_data_for_b_or_anonymous(
    world, user_b, beat_ticking
):
    actors = _actors(user_b)
    unfillable, problems, tried = [], [], 0
    before = _snapshot(world)
    patterns = [
        (r, n, p)
        for r, n, p in _walk(get_resolver().url_patterns)
        if not r.lstrip("^").startswith(SKIPPED_PREFIXES)
    ]
    assert len(patterns) > 30, "the URL walk found suspiciously few patterns"
    for route, name, _pattern in patterns:
        try:
            kwargs, owned = _fill(route, name, world)
            url = _url_for(route, name, kwargs)
        except LookupError as exc:
            unfillable.append(str(exc))
            continue
        short_name = (name or "").split(":")[-1]
        public = short_name in PUBLIC_URL_NAMES
        queries = [""]
        if not kwargs and not public:
            # Lists: also try to reach A's rows through filters.
            wo = world["work_order"]
            # (No marker in the query: pages may echo it, e.g. in a "next" field.)
            queries.append(
                f"?customer=acme&customer_id={wo.customer_id}&work_order={wo.pk}"
                f"&contact={world['contact'].pk}&incident={world['incident'].pk}&q=acme"
            )
        for actor, client in actors.items():
            for method in _methods(url, bool(kwargs)):
                if short_name == "logout" and method != "get":
                    continue  # would end B's session and weaken every later request
                for query in queries if method == "get" else [""]:
                    target = url + query
                    response = _request(client, method, target)
                    tried += 1
                    where = f"{method.upper()} {target} ({name}) as {actor}: {response.status_code}"
                    body = (
                        b"".join(response.streaming_content)
                        if response.streaming
                        else response.content
                    )
                    text = body.decode("utf-8", "replace")
                    leaked = [m for m in A_MARKERS if m in text]
                    if leaked:
                        problems.append(f"{where} shows A's data {leaked}")
                    if response.status_code >= 500:
                        problems.append(f"{where} is a server error")
                    if owned and 200 <= response.status_code < 300:
                        problems.append(f"{where} answers 2xx for A's {owned}")
                    if not public and actor == "anonymous" and response.status_code == 200:
                        problems.append(f"{where} answers 200 to an anonymous visitor")
                    after = _snapshot(world)
                    if after != before:
                        problems.append(f"{where} changed A's data")
                        before = after
    assert not (unfillable or problems), (
        "\n".join(unfillable)
        + f"\n{len(problems)} isolation problems:\n"
        + "\n".join(problems[:80])
    )
    assert tried > 200


def test_the_walk_reaches_the_ui_and_the_api(world):
    routes = [r for r, _n, _p in _walk(get_resolver().url_patterns)]
    text = "\n".join(routes)
    for expected in ("api/v1/", "incidents/", "work-orders/", "redemptions", "webhooks"):
        assert expected in text, expected


def test_an_unfillable_kwarg_fails_with_a_message_for_the_developer(world):
    with pytest.raises(LookupError, match="cannot fill"):
        _fill("widgets/<int:pk>/", "widgets:detail", world)
