"""`manage.py export_customer CODE`: one customer's data as JSON, nobody else's."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme_data(work_order_a, contact_a, staff):
    location = work_order_a.support_location
    f.ClosureDayFactory(location=location, name="Acme founders day")
    line = f.WorkOrderLineFactory(work_order=work_order_a)
    f.CreditAccountFactory(work_order=work_order_a, balance=90)
    f.CreditEntryFactory(
        work_order=work_order_a, line=line, kind="grant", amount=100, balance_after=100
    )
    redemption = f.RedemptionFactory(work_order=work_order_a, idempotency_key="acme-r1")
    f.CreditEntryFactory(
        work_order=work_order_a,
        redemption=redemption,
        kind="redemption",
        amount=-10,
        balance_after=90,
    )
    incident = f.IncidentFactory(
        work_order=work_order_a, contact=contact_a, title="Acme mail is down"
    )
    f.IncidentEventFactory(incident=incident, kind="comment", body="Looking into it", author=staff)
    f.ShortfallInvoiceFactory(work_order=work_order_a, reference="INV-ACME")  # R18
    f.WebhookSubscriptionFactory(customer=work_order_a.customer, secret="never-export-me")
    return {"incident": incident, "redemption": redemption, "line": line}


@pytest.fixture
def globex_data(work_order_b, contact_b):
    f.IncidentFactory(work_order=work_order_b, contact=contact_b, title="Globex printer on fire")


def _export(*args) -> dict:
    out = StringIO()
    call_command("export_customer", *args, stdout=out)
    return json.loads(out.getvalue())


def test_it_exports_every_part_of_one_customer(acme_data, globex_data, work_order_a, contact_a):
    data = _export("acme")
    assert data["customer"]["code"] == "acme" and data["customer"]["name"] == "Acme BV"
    assert [w["number"] for w in data["work_orders"]] == ["WO-A-1"]
    assert len(data["locations"]) == 1
    assert "Acme founders day" in [d["name"] for d in data["closure_days"]]
    assert [line["service_code"] for line in data["lines"]] == ["proactive-credits"]
    assert [c["email"] for c in data["contacts"]] == [contact_a.email]
    assert [e["amount"] for e in data["ledger"]] == [100, -10]
    assert data["credit_accounts"][0]["balance"] == 90
    assert [r["idempotency_key"] for r in data["redemptions"]] == ["acme-r1"]
    assert [s["reference"] for s in data["shortfall_invoices"]] == ["INV-ACME"]
    # Seed §4.2.1: the factory's workshop consent for WO-A-1 (tests/factories.py).
    assert [c["reference"] for c in data["vendor_consents"]] == ["Vendor's mail of consent (test)"]
    assert data["hour_block_lapses"] == [] and data["anniversaries"] == []
    (incident,) = data["incidents"]
    assert incident["title"] == "Acme mail is down"
    assert [e["body"] for e in incident["events"]] == ["Looking into it"]
    assert incident["response_due_at"]


def test_it_exports_nothing_of_another_customer_and_no_secret(acme_data, globex_data):
    text = json.dumps(_export("acme"))
    assert "Globex" not in text and "WO-B-1" not in text and "charlie@globex" not in text
    assert "never-export-me" not in text and "key_hash" not in text and "password" not in text


def test_it_writes_to_a_file_with_output(acme_data, tmp_path):
    target = tmp_path / "acme.json"
    call_command("export_customer", "acme", "--output", str(target), stderr=StringIO())
    assert json.loads(target.read_text())["customer"]["code"] == "acme"


def test_an_unknown_code_is_an_error():
    with pytest.raises(CommandError, match="nosuch"):
        call_command("export_customer", "nosuch")
