"""The incidents admin: targets editable and applicable, incidents read-only with timeline."""

from django.urls import reverse

from incidents.models import DeadlineRecomputation, ResponseTarget
from tests.incidents.support import open_incident, work_order


def test_admin_pages_render_for_incidents_targets_and_runs(admin_client, customer_a, staff, user_a):
    wo, contact = work_order(customer=customer_a, account_manager=staff)
    incident = open_incident(wo, contact, by=user_a)
    for url in [
        reverse("admin:incidents_incident_changelist"),
        reverse("admin:incidents_incident_change", args=[incident.pk]),
        reverse("admin:incidents_responsetarget_changelist"),
        reverse("admin:incidents_deadlinerecomputation_changelist"),
    ]:
        assert admin_client.get(url).status_code == 200, url
    page = admin_client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    ).content.decode()
    assert incident.number in page and "Opened" in page


def test_the_apply_action_recomputes_and_records_a_run(
    admin_client, customer_a, staff, user_a
):  # R4
    wo, contact = work_order(customer=customer_a, account_manager=staff)
    open_incident(wo, contact, by=user_a)
    row = ResponseTarget.objects.get(package="advanced", severity="normal", rapid_response=False)
    row.minutes = 60
    row.save()
    response = admin_client.post(
        reverse("admin:incidents_responsetarget_changelist"),
        {"action": "apply_to_open_incidents", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    assert DeadlineRecomputation.objects.get().changed == 1
