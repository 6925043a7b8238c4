"""API.md Revision 2, "Sync": updated_at moved by every writer, ?updated_after=,
?ordering=, the keyset cursor of ?ordering=updated_at (every row once, ties included,
whatever changes between calls), 400 for unknown query and body fields."""

import datetime as dt
import json

import pytest
from django.core import signing
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.models import Customer, WorkOrder
from incidents.models import Incident
from tests import factories as f


def follow(client, url, params=None):
    """Every row of a list, following `next` from the first page."""
    seen = []
    response = client.get(url, params or {})
    while True:
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        if not body["next"]:
            return seen
        response = client.get(body["next"])


@pytest.fixture
def many(work_order_a, contact_a, staff):
    return [
        f.open_incident(work_order=work_order_a, contact=contact_a, title=f"i{n}", by=staff)
        for n in range(12)
    ]


# --- updated_at --------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/",
        "/api/v1/work-orders/",
        "/api/v1/customers/",
        "/api/v1/services/",
        "/api/v1/rates/",
        "/api/v1/webhooks/",
    ],
)
def test_every_list_carries_updated_at_and_takes_updated_after_and_ordering(
    api_staff, many, rate_workshops, path
):
    api_staff.post(
        "/api/v1/webhooks/", {"url": "https://hooks.example/a", "events": ["incident.created"]}
    )
    rows = api_staff.get(path, {"ordering": "-updated_at"}).json()["results"]
    assert rows, path
    stamps = [r["updated_at"] for r in rows]
    assert all(s.endswith("Z") for s in stamps)
    assert stamps == sorted(stamps, reverse=True)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    # An updated_after in the future: an empty list, not an error.
    assert api_staff.get(path, {"updated_after": future}).json()["results"] == []
    assert api_staff.get(path, {"updated_after": "2000-01-01T00:00:00Z"}).json()["count"] == len(
        follow(api_staff, path)
    )


def test_updated_at_moves_for_a_queryset_update_the_worker_or_admin_makes(many):
    """The trigger (migration incidents 0007): writers that do not set updated_at."""
    incident = many[0]
    before = Incident.objects.get(pk=incident.pk).updated_at
    Incident.objects.filter(pk=incident.pk).update(title="changed by a bulk update")
    assert Incident.objects.get(pk=incident.pk).updated_at > before
    # The worker's own bookkeeping (next deadline only) is not a change to the incident.
    moved = Incident.objects.get(pk=incident.pk).updated_at
    Incident.objects.filter(pk=incident.pk).update(next_deadline_at=timezone.now())
    assert Incident.objects.get(pk=incident.pk).updated_at == moved


def test_a_line_change_moves_its_work_order(work_order_a, staff):
    from contracts import services

    before = WorkOrder.objects.get(pk=work_order_a.pk).updated_at
    services.work_order_line_add(
        work_order=work_order_a, service=f.service("dse"), quantity=10, by=staff
    )
    assert WorkOrder.objects.get(pk=work_order_a.pk).updated_at > before


def test_customer_updated_at_moves_on_save(customer_a):
    before = customer_a.updated_at
    Customer.objects.filter(pk=customer_a.pk).update(name="Renamed")
    assert Customer.objects.get(pk=customer_a.pk).updated_at > before


def test_a_patch_moves_updated_at_and_updated_after_finds_it(api_a, many):
    first = api_a.get(f"/api/v1/incidents/{many[3].pk}/").json()
    high = max(r["updated_at"] for r in follow(api_a, "/api/v1/incidents/"))
    patched = api_a.patch(f"/api/v1/incidents/{many[3].pk}/", {"title": "new title"}).json()
    assert patched["updated_at"] > first["updated_at"]
    found = api_a.get("/api/v1/incidents/", {"updated_after": high}).json()
    assert [r["id"] for r in found["results"]] == [many[3].pk]


# --- the cursor --------------------------------------------------------------------


def test_twelve_rows_sharing_one_updated_at_page_one_at_a_time_exactly_once(api_a, many):
    """The issue's case: 12 incidents with one timestamp, paged one by one."""
    same = timezone.now() - dt.timedelta(minutes=1)
    Incident.objects.filter(pk__in=[i.pk for i in many]).update(updated_at=same)
    seen = follow(api_a, "/api/v1/incidents/", {"ordering": "updated_at", "page_size": 1})
    assert sorted(r["id"] for r in seen) == sorted(i.pk for i in many)
    assert len(seen) == 12


def test_rows_added_and_changed_between_pages_are_neither_skipped_nor_repeated(
    api_a, many, work_order_a, contact_a, staff
):
    response = api_a.get("/api/v1/incidents/", {"ordering": "updated_at", "page_size": 5})
    seen = response.json()["results"]
    # Between calls: a new incident, and an edit of one already returned and of one not yet.
    new = f.open_incident(work_order=work_order_a, contact=contact_a, title="new", by=staff)
    api_a.patch(f"/api/v1/incidents/{seen[0]['id']}/", {"title": "edited after it was read"})
    later = many[-1].pk if many[-1].pk not in {r["id"] for r in seen} else many[-2].pk
    api_a.patch(f"/api/v1/incidents/{later}/", {"title": "edited before it was read"})
    next_url = response.json()["next"]
    while next_url:
        body = api_a.get(next_url).json()
        seen += body["results"]
        next_url = body["next"]
    ids = [r["id"] for r in seen]
    # Every row; the one changed after it was returned comes once more, with its new state.
    assert set(ids) == {i.pk for i in many} | {new.pk}
    assert ids.count(seen[0]["id"]) == 2
    assert len(ids) == 14
    latest = {r["id"]: r for r in seen}
    assert latest[seen[0]["id"]]["title"] == "edited after it was read"
    assert latest[later]["title"] == "edited before it was read"


def test_descending_cursor_and_the_other_customer_never_appears(api_a, api_b, many, incident_b):
    seen = follow(api_a, "/api/v1/incidents/", {"ordering": "-updated_at", "page_size": 4})
    assert sorted(r["id"] for r in seen) == sorted(i.pk for i in many)
    assert incident_b.pk not in {r["id"] for r in seen}
    assert [r["id"] for r in follow(api_b, "/api/v1/incidents/", {"ordering": "updated_at"})] == [
        incident_b.pk
    ]


def test_a_cursor_from_another_customer_shows_nothing_of_theirs(api_a, api_b, many, incident_b):
    next_url = api_a.get("/api/v1/incidents/", {"ordering": "updated_at", "page_size": 2}).json()[
        "next"
    ]
    rows = api_b.get(next_url).json()["results"]
    assert {r["id"] for r in rows} <= {incident_b.pk}


def test_a_tampered_cursor_is_400(api_a, many):
    next_url = api_a.get("/api/v1/incidents/", {"ordering": "updated_at", "page_size": 2}).json()[
        "next"
    ]
    token = next_url.split("cursor=")[1].split("&")[0]
    forged = signing.dumps({"o": "updated_at", "t": "2000-01-01T00:00:00+00:00", "i": 1})
    for bad in (token[:-3] + "abc", forged, "garbage"):
        response = api_a.get("/api/v1/incidents/", {"ordering": "updated_at", "cursor": bad})
        assert response.status_code == 400, bad
        assert "cursor" in response.json()


def test_a_cursor_of_one_ordering_is_refused_with_another(api_a, many):
    next_url = api_a.get("/api/v1/incidents/", {"ordering": "updated_at", "page_size": 2}).json()[
        "next"
    ]
    token = next_url.split("cursor=")[1].split("&")[0]
    response = api_a.get("/api/v1/incidents/", {"ordering": "-updated_at", "cursor": token})
    assert response.status_code == 400


def test_other_orderings_page_by_number_with_a_stable_tie_breaker(api_a, many):
    seen = follow(api_a, "/api/v1/incidents/", {"ordering": "severity", "page_size": 5})
    assert sorted(r["id"] for r in seen) == sorted(i.pk for i in many)


# --- unknown parameters ------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents/",
        "/api/v1/work-orders/",
        "/api/v1/services/",
        "/api/v1/rates/",
        "/api/v1/webhooks/",
        "/api/v1/customers/",
    ],
)
def test_an_unknown_query_parameter_is_400_naming_it(api_staff, path):
    response = api_staff.get(path, {"updated_since": "2026-01-01T00:00:00Z"})
    assert response.status_code == 400
    assert "updated_since" in response.json()


def test_an_unknown_ordering_or_bad_timestamp_is_400(api_a, many):
    assert api_a.get("/api/v1/incidents/", {"ordering": "secret"}).status_code == 400
    response = api_a.get("/api/v1/incidents/", {"updated_after": "yesterday"})
    assert response.status_code == 400 and "updated_after" in response.json()


def test_unknown_query_parameter_on_a_detail_is_400(api_a, many):
    response = api_a.get(f"/api/v1/incidents/{many[0].pk}/", {"expand": "contact"})
    assert response.status_code == 400 and "expand" in response.json()


def test_unknown_and_read_only_body_fields_are_400_and_change_nothing(api_a, many):
    url = f"/api/v1/incidents/{many[0].pk}/"
    before = api_a.get(url).json()
    for body in (
        {"title": "x", "colour": "red"},
        {"title": "x", "number": "INC-1"},
        {"title": "x", "updated_at": "2020-01-01T00:00:00Z"},
    ):
        response = api_a.patch(url, body)
        assert response.status_code == 400
        assert set(body) - {"title"} <= set(response.json())
    assert api_a.get(url).json() == before


def test_unknown_field_on_create_is_400(api_a, work_order_a, contact_a):
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "t",
            "severity": "normal",
            "priority": "p1",
        },
    )
    assert response.status_code == 400 and "priority" in response.json()
    assert not Incident.objects.exists()


# --- external_reference ----------------------------------------------------------------


def test_external_reference_is_unique_per_customer(
    api_a, api_b, work_order_a, contact_a, work_order_b, contact_b
):
    body = {
        "work_order": work_order_a.pk,
        "contact": contact_a.email,
        "title": "t",
        "severity": "normal",
        "external_reference": "TT-7",
    }
    first = api_a.post("/api/v1/incidents/", body)
    assert first.status_code == 201
    again = api_a.post("/api/v1/incidents/", body)
    assert again.status_code == 409
    assert first.json()["number"] in again.json()["detail"]
    assert again.json()["field"] == "external_reference"
    # Another customer may use the same reference; it learns nothing of A's incident.
    other = api_b.post(
        "/api/v1/incidents/", {**body, "work_order": work_order_b.pk, "contact": contact_b.email}
    )
    assert other.status_code == 201
    # An edit onto a taken reference is refused too, and changes nothing.
    second = api_a.post("/api/v1/incidents/", {**body, "external_reference": "TT-8"}).json()
    clash = api_a.patch(f"/api/v1/incidents/{second['id']}/", {"external_reference": "TT-7"})
    assert clash.status_code == 409
    assert api_a.get(f"/api/v1/incidents/{second['id']}/").json()["external_reference"] == "TT-8"


def test_a_taken_reference_under_an_idempotency_key_is_409_and_writes_nothing(
    api_a, work_order_a, contact_a
):
    # The refusal comes from the unique index inside the Idempotency-Key's transaction
    # (a savepoint then): the claim, the incident and its outbox rows all roll back.
    from notifications.models import OutboxMessage as Outbox

    body = {
        "work_order": work_order_a.pk,
        "contact": contact_a.email,
        "title": "t",
        "severity": "normal",
        "external_reference": "TT-9",
    }
    assert api_a.post("/api/v1/incidents/", body).status_code == 201
    before = (Incident.objects.count(), Outbox.objects.count())
    again = api_a.post("/api/v1/incidents/", body, HTTP_IDEMPOTENCY_KEY="retry-1")
    assert again.status_code == 409 and again.json()["field"] == "external_reference"
    assert (Incident.objects.count(), Outbox.objects.count()) == before
    # The key was not spent on the refusal: with a free reference it creates.
    fresh = api_a.post(
        "/api/v1/incidents/",
        {**body, "external_reference": "TT-10"},
        HTTP_IDEMPOTENCY_KEY="retry-1",
    )
    assert fresh.status_code == 201


def test_two_concurrent_creates_with_one_reference_make_one_incident(
    transactional_db, work_order_a, contact_a
):
    # API.md Revision 2 under a race: the second INSERT waits on the unique index for
    # the first transaction, then is refused and names the first incident.
    import threading

    from django.db import connection

    from core.errors import Conflict
    from incidents import services

    barrier, results = threading.Barrier(2), []

    def create():
        try:
            barrier.wait(timeout=10)
            results.append(
                services.incident_open(
                    work_order=work_order_a.pk,
                    contact=contact_a.email,
                    title="race",
                    severity="normal",
                    external_reference="RACE-1",
                )
            )
        except Conflict as conflict:
            results.append(conflict)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    made = [r for r in results if isinstance(r, Incident)]
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(made) == 1 and len(refused) == 1, results
    assert made[0].number in str(refused[0])
    assert Incident.objects.filter(external_reference="RACE-1").count() == 1


# --- property: interleaved creates, updates and page fetches -------------------------


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("create"), st.integers(0, 0)),
            st.tuples(st.just("update"), st.integers(0, 50)),
            st.tuples(st.just("fetch"), st.integers(1, 4)),
        ),
        min_size=1,
        max_size=20,
    ),
    start=st.integers(0, 6),
)
def test_sync_sees_every_row_once_and_its_latest_state(
    django_db_blocker, work_order_a, contact_a, staff, api_a, steps, start
):
    """Whatever is created or changed between page fetches: every row that existed when
    the sync started, or was added meanwhile, is seen; a row is seen again only if it
    changed after it was returned; after the walk (and one updated_after catch-up) the
    mirror holds every row's latest state."""
    Incident.objects.all().delete()
    rows = [
        f.open_incident(work_order=work_order_a, contact=contact_a, title=f"s{n}", by=staff)
        for n in range(start)
    ]
    same = timezone.now() - dt.timedelta(seconds=5)  # ties: many share one updated_at
    Incident.objects.filter(pk__in=[r.pk for r in rows]).update(updated_at=same)
    mirror: dict[int, dict] = {}
    # A sync client: walks of ?ordering=updated_at (following `next`); when a walk ends,
    # the next one starts from ?updated_after=<the highest updated_at seen>.
    walk_counts: dict[int, int] = {}
    changed_after_read: set[int] = set()
    counter = 0
    next_url = None
    high = None

    def take(body):
        nonlocal high
        for row in body["results"]:
            walk_counts[row["id"]] = walk_counts.get(row["id"], 0) + 1
            # Once per walk, or again only because it changed after it was returned.
            assert walk_counts[row["id"]] == 1 or row["id"] in changed_after_read, row["id"]
            mirror[row["id"]] = row
            high = max(high or row["updated_at"], row["updated_at"])
        return body["next"]

    def first_page(size):
        walk_counts.clear()
        changed_after_read.clear()
        params = {"ordering": "updated_at", "page_size": size}
        if high is not None:
            params["updated_after"] = high
        response = api_a.get("/api/v1/incidents/", params)
        assert response.status_code == 200, response.content
        return take(response.json())

    for action, arg in steps:
        if action == "create":
            counter += 1
            rows.append(
                f.open_incident(
                    work_order=work_order_a, contact=contact_a, title=f"new{counter}", by=staff
                )
            )
        elif action == "update" and rows:
            target = rows[arg % len(rows)]
            counter += 1
            api_a.patch(f"/api/v1/incidents/{target.pk}/", {"title": f"edit{counter}"})
            if target.pk in walk_counts:
                changed_after_read.add(target.pk)
        elif action == "fetch":
            next_url = take(api_a.get(next_url).json()) if next_url else first_page(arg)
    # Finish the walk in progress, then one catch-up walk from the high-water mark.
    while next_url:
        next_url = take(api_a.get(next_url).json())
    next_url = first_page(3)
    while next_url:
        next_url = take(api_a.get(next_url).json())
    all_ids = {r.pk for r in rows}
    assert set(mirror) == all_ids  # nothing skipped
    # The latest state of every row is what the mirror holds (reachable by the walk).
    for row in json.loads(json.dumps(follow(api_a, "/api/v1/incidents/"))):
        assert mirror[row["id"]]["title"] == row["title"]
        assert mirror[row["id"]]["version"] == row["version"]
