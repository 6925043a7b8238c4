"""#18's pages: customer edit with lists, contact invite/deactivate/import, proposals,
renewal, extension, and the confirmations of destructive actions; every page tried by
the wrong customer and by customers (personas in tests/conftest.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.models import ContactChangeRequest, WorkOrder
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_customer_edit_offers_lists_and_refuses_free_text(client_staff, customer_a):
    url = reverse("contracts:customer_edit", args=[customer_a.pk])
    page = client_staff.get(url)
    assert ("NL", "Netherlands (NL)") in page.context["form"].fields["country"].choices
    r = client_staff.post(
        url,
        {
            "name": "Acme",
            "country": "Netherlands",
            "timezone": "Europe/Amsterdam",
            "language": "en",
            "version": 1,
        },
    )
    assert r.status_code == 200 and "country" in r.context["form"].errors
    r = client_staff.post(
        url,
        {
            "name": "Acme NL",
            "country": "NL",
            "timezone": "Europe/Amsterdam",
            "language": "nl",
            "version": 1,
        },
    )
    assert r.status_code == 302
    customer_a.refresh_from_db()
    assert customer_a.name == "Acme NL"


def test_terminate_asks_first_and_says_what_happens_in_numbers(
    client_staff, work_order_a, contact_a
):
    r = client_staff.post(reverse("contracts:work_order_terminate", args=[work_order_a.pk]))
    assert r.status_code == 302 and r.url.endswith("/terminate/confirm/")
    work_order_a.refresh_from_db()
    assert work_order_a.terminated_at is None
    page = client_staff.get(r.url)
    facts = dict(page.context["facts"])
    assert facts["Active named contacts who can no longer file"] == 1
    client_staff.post(
        reverse("contracts:work_order_terminate", args=[work_order_a.pk]), {"confirmed": "yes"}
    )
    work_order_a.refresh_from_db()
    assert work_order_a.terminated_at is not None


def test_removing_a_credits_line_asks_first_with_the_credits_taken_back(
    client_staff, work_order_a, staff
):
    from contracts import services

    line = services.work_order_line_add(
        work_order=work_order_a, service="proactive-credits", quantity=300, by=staff
    )
    r = client_staff.post(reverse("contracts:line_remove", args=[line.pk]))
    assert r.status_code == 302 and work_order_a.lines.filter(pk=line.pk).exists()
    facts = dict(
        client_staff.get(reverse("contracts:line_remove_confirm", args=[line.pk])).context["facts"]
    )
    assert facts["Credits taken back"] == 300
    client_staff.post(reverse("contracts:line_remove", args=[line.pk]), {"confirmed": "yes"})
    assert not work_order_a.lines.filter(pk=line.pk).exists()


def test_csv_import_previews_then_imports(client_staff, work_order_a):
    url = reverse("contracts:contacts_import", args=[work_order_a.pk])
    body = b"name,email,phone\nAnn,ann@acme.example,1\nNo mail,,\n"
    r = client_staff.post(url, {"file": SimpleUploadedFile("c.csv", body), "action": "preview"})
    assert r.context["valid"] == 1 and r.context["invalid"] == 1
    assert work_order_a.contacts.count() == 0
    text = body.decode()
    r = client_staff.post(url, {"text": text, "action": "confirm"})
    assert r.status_code == 302 and work_order_a.contacts.filter(email="ann@acme.example").exists()


def test_invite_and_deactivate_from_the_editor(
    client_staff, work_order_a, mailoutbox, django_capture_on_commit_callbacks
):  # R25
    contact = f.NamedContactFactory(work_order=work_order_a, email="gus@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        client_staff.post(reverse("contracts:contact_invite", args=[contact.pk]))
    assert mailoutbox[-1].to == ["gus@acme.example"]
    token = mailoutbox[-1].body.split("/invitations/")[1].split("/")[0]
    page = client_staff.get(reverse("contracts:invitation_accept", args=[token]))
    assert page.context["invitation"].contact == contact
    client_staff.post(reverse("contracts:contact_deactivate", args=[contact.pk]))
    contact.refresh_from_db()
    assert contact.active is False


def test_a_spent_or_wrong_link_says_so(client, db):
    page = client.get(reverse("contracts:invitation_accept", args=["nonsense"]))
    assert page.status_code == 404 and page.context["invitation"] is None


def test_the_lead_contact_proposes_on_the_web(client_a, work_order_a, contact_a):  # R25
    r = client_a.post(
        reverse("contracts:contact_propose", args=[work_order_a.pk]),
        {"name": "Hal", "email": "hal@acme.example", "note": "new"},
    )
    assert r.status_code == 302
    assert ContactChangeRequest.objects.get().proposed == {
        "name": "Hal",
        "email": "hal@acme.example",
    }


def test_renew_and_extend_pages(client_staff, work_order_a, staff):  # R14
    f.WorkOrderLineFactory(work_order=work_order_a, service=f.service("dse"), quantity=Decimal(40))
    start = work_order_a.end_date + dt.timedelta(days=1)
    r = client_staff.post(
        reverse("contracts:work_order_renew", args=[work_order_a.pk]),
        {
            "number": "WO-A-2",
            "start_date": start,
            "end_date": start + dt.timedelta(days=364),
            "q_dse": "60",
        },
    )
    assert r.status_code == 302
    new = WorkOrder.objects.get(number="WO-A-2")
    assert new.lines.get().quantity == 60
    url = reverse("credits:work_order_extend", args=[new.pk])
    assert dict(client_staff.get(url).context["facts"])["Unused hours"] == "60"
    r = client_staff.post(
        url, {"end_date": new.end_date + dt.timedelta(days=30), "unused": "keep", "reason": ""}
    )
    assert r.status_code == 200  # keeping needs a reason (R14)


def _url_name(name: str) -> str:
    """The term's pages that show credits are credits' (credits/views_term.py)."""
    app = "credits" if name in ("work_order_extend", "terminate_confirm") else "contracts"
    return f"{app}:{name}"


@pytest.mark.parametrize(
    "name",
    [
        "customer_edit",
        "contacts_import",
        "contact_proposals",
        "work_order_renew",
        "work_order_extend",
        "terminate_confirm",
    ],
)
def test_customers_never_reach_staff_pages(client_a, client_b, work_order_a, customer_a, name):
    pk = customer_a.pk if name == "customer_edit" else work_order_a.pk
    assert client_a.get(reverse(_url_name(name), args=[pk])).status_code == 403
    assert client_b.post(reverse(_url_name(name), args=[pk]), {}).status_code == 403


def test_the_wrong_customer_cannot_propose_or_see_contacts(client_b, work_order_a, contact_a):
    assert (
        client_b.get(reverse("contracts:contact_propose", args=[work_order_a.pk])).status_code
        == 404
    )
    assert (
        client_b.post(reverse("contracts:contact_invite", args=[contact_a.pk])).status_code == 403
    )


def test_the_new_pages_speak_dutch(client, db):
    from django.utils import translation

    with translation.override("nl"):
        assert translation.gettext("Welcome! You can file incidents now.") == (
            "Welkom! U kunt nu incidenten melden."
        )
    page = client.get(reverse("contracts:invitation_accept", args=["x"]), HTTP_ACCEPT_LANGUAGE="nl")
    assert "Deze link werkt niet meer" in page.content.decode()
