"""API.md Revision 2, "Errors and history": "A change made with a key is recorded in
history under the key's name." The history row keeps the key's creator as its user
and the key's name in its reason (core.history.actor_reason); every history view shows
"API key <name>, made by <person>" (core.history.history_actor): the work order's
history page (the work order, its lines and contacts), the incident page's timeline and
the API's timeline."""

from django.urls import reverse

from contracts.models import NamedContact, WorkOrder
from core.history import api_key_name, history_actor
from incidents.models import Incident


def _latest(model, pk):
    return model.history.filter(id=pk).select_related("history_user").order_by("-history_id")[0]


def test_a_work_order_changed_with_a_key_names_the_key(
    api_staff, key_staff, staff, work_order_a, client_staff
):
    response = api_staff.patch(
        f"/api/v1/work-orders/{work_order_a.pk}/", {"low_credit_threshold": 7}, format="json"
    )
    assert response.status_code == 200, response.content
    record = _latest(WorkOrder, work_order_a.pk)
    assert api_key_name(record) == "staff-tool"
    assert record.history_user == staff  # the key's creator
    assert history_actor(record) == "API key staff-tool, made by Alice Manager"
    page = client_staff.get(reverse("contracts:work_order_history", args=[work_order_a.pk]))
    assert page.status_code == 200
    assert "API key staff-tool, made by Alice Manager" in page.content.decode()


def test_a_contact_changed_with_a_key_names_the_key(
    api_staff, key_staff, staff, contact_a, client_staff
):
    url = f"/api/v1/work-orders/{contact_a.work_order_id}/contacts/{contact_a.pk}/"
    response = api_staff.patch(url, {"phone": "+31 10 123 4567"}, format="json")
    assert response.status_code == 200, response.content
    record = _latest(NamedContact, contact_a.pk)
    assert api_key_name(record) == "staff-tool" and record.history_user == staff
    page = client_staff.get(
        reverse("contracts:work_order_history", args=[contact_a.work_order_id])
    ).content.decode()
    assert "Contact: " + contact_a.name in page
    assert "API key staff-tool, made by Alice Manager" in page


def test_a_person_and_the_system_are_shown_as_before(staff, work_order_a, client_staff):
    from contracts import services

    services.work_order_update(work_order=work_order_a, low_credit_threshold=9, by=staff)
    record = _latest(WorkOrder, work_order_a.pk)
    assert api_key_name(record) is None
    assert history_actor(record) == "Alice Manager"
    record.history_user = None
    assert history_actor(record) == ""


def test_an_incident_changed_with_a_key_names_the_key_in_history_and_timeline(
    api_staff, api_a, key_a, staff, incident_a, client_staff
):
    url = f"/api/v1/incidents/{incident_a.pk}/"
    assert api_staff.patch(url, {"title": "Renamed by a tool"}).status_code == 200
    record = _latest(Incident, incident_a.pk)
    assert api_key_name(record) == "staff-tool" and record.history_user == staff
    assert history_actor(record) == "API key staff-tool, made by Alice Manager"
    # The timeline names the key too: a status change by the staff key, a comment by
    # the customer's key, in the API's timeline and on the incident's page.
    assert api_staff.patch(url, {"status": "in_progress"}).status_code == 200
    comment = api_a.post(f"{url}comments/", {"body": "Any news?"}, format="json")
    assert comment.status_code == 201, comment.content
    assert comment.json()["author"] == "API key acme-tool"
    timeline = api_staff.get(f"{url}timeline/").json()["results"]
    authors = {entry["author"] for entry in timeline}
    assert {"API key staff-tool", "API key acme-tool"} <= authors, authors
    page = client_staff.get(reverse("incidents:detail", args=[incident_a.pk])).content.decode()
    assert "API key staff-tool" in page and "API key acme-tool" in page


def test_an_incident_opened_with_a_key_names_the_key(api_a, staff, work_order_a, contact_a):
    response = api_a.post(
        "/api/v1/incidents/",
        {
            "work_order": work_order_a.pk,
            "contact": contact_a.email,
            "title": "t",
            "severity": "normal",
        },
    )
    assert response.status_code == 201, response.content
    record = Incident.history.get(id=response.json()["id"], history_type="+")
    assert api_key_name(record) == "acme-tool"
    assert history_actor(record) == "API key acme-tool, made by Alice Manager"
