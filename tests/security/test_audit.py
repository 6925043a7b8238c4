"""Every staff action that changes a contract, a balance or an incident is in the audit
history with its actor: simple_history rows (contracts, incidents), ledger entries and
redemptions (credits), incident timeline events. Also through the API with a staff key
(recorded as the staff member who made the key)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.authentication import ApiKeyActor
from contracts import services as contracts
from contracts.models import WorkOrder
from credits import services as credits
from credits.models import CreditEntry
from incidents import services as incidents
from incidents.models import IncidentEvent
from services.models import Service
from tests import factories as f

pytestmark = pytest.mark.django_db


def _last_history(obj):
    return obj.history.order_by("-history_date", "-history_id").first()


@pytest.fixture
def wo(staff, customer_a):
    today = timezone.localdate()
    return contracts.work_order_create(
        customer=customer_a,
        number="WO-AUDIT-1",
        package="advanced",
        start_date=today - dt.timedelta(days=10),
        end_date=today + dt.timedelta(days=300),
        lines=[
            {"service": Service.objects.get(code="proactive-credits"), "quantity": Decimal("500")}
        ],
        by=staff,
    )


def test_contract_changes_record_the_staff_member(staff, wo):
    created = _last_history(wo)
    assert created.history_type == "+" and created.history_user == staff

    contracts.work_order_update(work_order=wo, notes="Renewal discussed", by=staff)
    wo.refresh_from_db()
    changed = _last_history(wo)
    assert (
        changed.history_type == "~"
        and changed.history_user == staff
        and changed.notes == "Renewal discussed"
    )

    line = contracts.work_order_line_add(
        work_order=wo,
        service=Service.objects.get(code="workshops"),
        quantity=Decimal("3"),
        by=staff,
    )
    assert _last_history(line).history_user == staff
    contracts.work_order_line_update(line=line, quantity=Decimal("4"), by=staff)
    assert _last_history(line).history_user == staff and _last_history(line).quantity == Decimal(
        "4"
    )

    contact = contracts.named_contact_add(
        work_order=wo, name="Dana", email="dana@acme.example", by=staff
    )
    assert _last_history(contact).history_user == staff  # R25: contact history kept
    contracts.named_contact_update(contact=contact, phone="+31 20 000", by=staff)
    assert _last_history(contact).history_user == staff

    contracts.work_order_terminate(work_order=wo, by=staff)
    assert _last_history(WorkOrder.objects.get(pk=wo.pk)).history_user == staff


def test_balance_changes_record_the_staff_member(staff, wo):
    grant = CreditEntry.objects.get(work_order=wo, kind="grant")
    assert grant.amount == 500 and grant.created_by == staff

    adjustment = credits.credits_adjust(
        work_order=wo, amount=-20, reason="Goodwill correction", by=staff
    )
    assert adjustment.created_by == staff and adjustment.reason == "Goodwill correction"

    f.RateFactory(service=Service.objects.get(code="chalk-talks"), credits_per_unit=Decimal("25"))
    redemption = credits.credits_redeem(
        work_order=wo,
        service=Service.objects.get(code="chalk-talks"),
        quantity=Decimal("1"),
        scheduled_for=timezone.localdate() + dt.timedelta(days=40),
        by=staff,
    )
    assert redemption.created_by == staff
    assert CreditEntry.objects.get(redemption=redemption, amount__lt=0).created_by == staff

    credits.redemption_cancel(redemption=redemption, by=staff, reason="Customer asked")
    redemption.refresh_from_db()
    assert redemption.cancelled_by == staff and redemption.cancellation_reason == "Customer asked"
    refund = CreditEntry.objects.filter(redemption=redemption, amount__gt=0).first()
    assert refund is not None and refund.created_by == staff
    # The ledger explains the balance entry by entry.
    entries = list(CreditEntry.objects.filter(work_order=wo).order_by("created_at", "id"))
    assert sum(e.amount for e in entries) == entries[-1].balance_after


def test_incident_changes_record_the_staff_member(staff, wo):
    contact = contracts.named_contact_add(
        work_order=wo, name="Eve", email="eve@acme.example", by=staff
    )
    incident = incidents.incident_open(
        work_order=wo,
        contact=contact,
        title="Phone: mail down",
        severity="normal",
        channel="phone",
        by=staff,
    )
    assert incident.opened_by == staff and _last_history(incident).history_user == staff
    incidents.incident_change_severity(
        incident=incident, severity="critical", reason="Production down", by=staff
    )
    incident.refresh_from_db()
    incidents.incident_respond(incident=incident, by=staff)
    incident.refresh_from_db()
    incidents.incident_comment(incident=incident, body="Engineer assigned", by=staff)
    incidents.incident_set_status(incident=incident, status="in_progress", by=staff)
    incident.refresh_from_db()
    assert incident.responded_by == staff and _last_history(incident).history_user == staff

    events = {e.kind: e for e in IncidentEvent.objects.filter(incident=incident)}
    for kind in ("created", "severity", "response", "comment", "status"):
        assert kind in events, kind
        assert events[kind].author == staff and not events[kind].from_customer, kind
    assert "Production down" in (events["severity"].body + str(events["severity"].data))


def test_a_staff_api_key_is_recorded_as_the_staff_member_who_made_it(
    staff, key_staff, wo, api_staff
):
    actor = ApiKeyActor(key_staff)
    contracts.work_order_update(work_order=wo, notes="Changed by a tool", by=actor)
    assert _last_history(WorkOrder.objects.get(pk=wo.pk)).history_user == staff
    entry = credits.credits_adjust(work_order=wo, amount=5, reason="Tool correction", by=actor)
    assert entry.created_by == staff

    response = api_staff.patch(
        f"/api/v1/work-orders/{wo.pk}/", {"low_credit_threshold": 77}, format="json"
    )
    assert response.status_code == 200, response.content
    last = _last_history(WorkOrder.objects.get(pk=wo.pk))
    assert last.low_credit_threshold == 77 and last.history_user == staff


def test_a_staff_change_in_the_web_ui_records_the_staff_member(client_staff, staff, wo):
    from django.urls import reverse

    url = reverse("contracts:work_order_edit", args=[wo.pk])
    page = client_staff.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    data = {
        name: form[name].value() if form[name].value() is not None else "" for name in form.fields
    }
    data["notes"] = "Edited in the portal"
    response = client_staff.post(url, data)
    assert response.status_code in (302, 303), response.content[:500]
    last = _last_history(WorkOrder.objects.get(pk=wo.pk))
    assert last.notes == "Edited in the portal" and last.history_user == staff
