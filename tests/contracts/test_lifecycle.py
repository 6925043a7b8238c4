"""The contract's life in contracts.services (#18): customers edited, contacts invited,
imported, deactivated and proposed (R25), terms renewed and extended (R14), R13, R26."""

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from contracts import services as s
from contracts.models import ContactChangeRequest, ContactInvitation, NamedContact, WorkOrder
from core.errors import Conflict, RuleViolation, StaleVersion
from tests import factories as f

pytestmark = pytest.mark.django_db


# --- customers ------------------------------------------------------------------------------


def test_a_country_typed_as_a_name_is_refused_and_nothing_changes(customer_a, staff):
    with pytest.raises(RuleViolation) as exc:
        s.customer_update(customer=customer_a, country="NE ", by=staff)
    assert exc.value.field == "country"
    with pytest.raises(RuleViolation):
        s.customer_update(customer=customer_a, country="Netherlands", by=staff)
    customer_a.refresh_from_db()
    assert customer_a.country == "NL" and customer_a.version == 1


def test_customer_update_bumps_the_version_and_refuses_a_stale_one(customer_a, staff):
    s.customer_update(customer=customer_a, name="Acme Group", timezone="Europe/Brussels", by=staff)
    customer_a.refresh_from_db()
    assert customer_a.version == 2 and customer_a.timezone == "Europe/Brussels"
    assert customer_a.history.first().history_user == staff
    with pytest.raises(StaleVersion):
        s.customer_update(customer=customer_a, name="Old", expected_version=1, by=staff)
    with pytest.raises(RuleViolation):
        s.customer_update(customer=customer_a, timezone="Mars/Olympus", by=staff)


# --- invitations ----------------------------------------------------------------------------


def test_an_invitation_links_a_new_login_to_the_contact(
    work_order_a, staff, django_capture_on_commit_callbacks
):  # R2
    contact = f.NamedContactFactory(work_order=work_order_a, email="dana@acme.example", name="Dana")
    with django_capture_on_commit_callbacks(execute=True):
        invitation, link = s.named_contact_invite(contact=contact, by=staff)
    assert len(mail.outbox) == 1 and link in mail.outbox[0].body
    token = link.rstrip("/").rsplit("/", 1)[1]
    assert invitation.token_hash != token  # only a hash is stored
    user = s.contact_invitation_accept(token=token, password="a-long-Passphrase-42")
    contact.refresh_from_db()
    assert contact.user == user and user.customer_id == work_order_a.customer_id
    assert user.check_password("a-long-Passphrase-42") and not user.is_staff
    # One-time: the link is spent.
    with pytest.raises(RuleViolation):
        s.contact_invitation_accept(token=token, password="another-Passphrase-43")


def test_a_resend_replaces_the_earlier_link(work_order_a, staff):
    contact = f.NamedContactFactory(work_order=work_order_a, email="eve@acme.example")
    _, first = s.named_contact_invite(contact=contact, by=staff)
    _, second = s.named_contact_invite(contact=contact, by=staff)
    with pytest.raises(RuleViolation):
        s.contact_invitation_accept(token=first.rsplit("/", 2)[1], password="a-long-Passphrase-42")
    s.contact_invitation_accept(token=second.rsplit("/", 2)[1], password="a-long-Passphrase-42")
    assert ContactInvitation.objects.filter(contact=contact, accepted_at__isnull=False).count() == 1


def test_a_weak_password_is_refused_and_no_login_is_made(work_order_a, staff):
    contact = f.NamedContactFactory(work_order=work_order_a, email="weak@acme.example")
    _, link = s.named_contact_invite(contact=contact, by=staff)
    with pytest.raises(RuleViolation) as exc:
        s.contact_invitation_accept(token=link.rsplit("/", 2)[1], password="123")
    assert exc.value.field == "password"
    assert not get_user_model().objects.filter(email="weak@acme.example").exists()


def test_an_inactive_contact_is_not_invited(work_order_a, staff):  # R2, R25
    contact = f.NamedContactFactory(work_order=work_order_a, active=False)
    with pytest.raises(Conflict):
        s.named_contact_invite(contact=contact, by=staff)


# --- deactivation, import, proposals (R25, R1) ----------------------------------------------


def test_deactivation_keeps_the_row_and_history_and_twice_is_a_conflict(contact_a, staff):  # R25
    s.named_contact_deactivate(contact=contact_a, by=staff)
    contact_a.refresh_from_db()
    assert contact_a.active is False
    assert [h.active for h in contact_a.history.order_by("history_date")][-1] is False
    with pytest.raises(Conflict) as exc:
        s.named_contact_deactivate(contact=contact_a, by=staff)
    assert exc.value.code == "already_deactivated"


def csv_text(n, start=0, extra=""):
    rows = "\n".join(f"Person {i},p{i}@acme.example,+31 {i}" for i in range(start, start + n))
    return f"name,email,phone\n{rows}\n{extra}"


def test_csv_preview_names_each_bad_row(work_order_a, contact_a):
    text = csv_text(3, extra=f"No Mail,,\nTwice,p1@acme.example,\nBob,{contact_a.email},\n")
    rows = s.contacts_csv_parse(work_order=work_order_a, text=text)
    assert [r["line"] for r in rows if r["errors"]] == [5, 6, 7]
    assert (
        NamedContact.objects.filter(work_order=work_order_a).count() == 1
    )  # preview writes nothing


def test_csv_import_adds_the_valid_rows(work_order_a, staff):
    added = s.named_contacts_import(
        work_order=work_order_a, text=csv_text(5, extra="Bad,not-an-email,\n"), by=staff
    )
    assert len(added) == 5
    assert work_order_a.contacts.count() == 5


def test_csv_import_past_the_limit_imports_nothing(customer_a, staff):  # R1
    core = f.WorkOrderFactory(customer=customer_a, package="core", named_contact_limit=10)
    with pytest.raises(Conflict) as exc:
        s.named_contacts_import(work_order=core, text=csv_text(11), by=staff)
    assert exc.value.rule == "R1"
    assert core.contacts.count() == 0


def test_the_lead_contact_proposes_and_staff_accept(work_order_a, contact_a, user_a, staff):  # R25
    proposal = s.contact_change_propose(
        work_order=work_order_a,
        proposed={"name": "Fay", "email": "fay@acme.example"},
        note="new DBA",
        by=user_a,
    )
    assert not work_order_a.contacts.filter(email="fay@acme.example").exists()
    s.contact_change_decide(request=proposal, accept=True, by=staff)
    assert work_order_a.contacts.filter(email="fay@acme.example", active=True).exists()
    proposal.refresh_from_db()
    assert proposal.state == ContactChangeRequest.State.ACCEPTED
    with pytest.raises(Conflict):
        s.contact_change_decide(request=proposal, accept=False, by=staff)


def test_a_proposal_mails_the_account_manager_and_the_decision_the_lead_contact(
    work_order_a, contact_a, user_a, staff
):  # R25
    from notifications.models import OutboxMessage

    staff.language = "nl"
    staff.save()
    proposal = s.contact_change_propose(
        work_order=work_order_a,
        proposed={"name": "Fay", "email": "fay@acme.example"},
        note="new DBA",
        by=user_a,
    )
    told = OutboxMessage.objects.get(event="contact_change.proposed")
    assert told.recipient == staff.email and told.channel == "email"
    # In the account manager's language (Dutch here).
    assert told.subject == "WO-A-1: wijziging van contactpersonen voorgesteld door bob"
    assert "Fay" in told.body and "new DBA" in told.body
    assert not OutboxMessage.objects.filter(event="contact_change.decided").exists()
    s.contact_change_decide(request=proposal, accept=False, by=staff)
    decided = OutboxMessage.objects.get(event="contact_change.decided")
    # The lead contact reads the customer's language (Acme: Dutch), in plain words.
    assert decided.recipient == contact_a.email
    assert decided.subject == "WO-A-1: uw voorgestelde wijziging van contactpersonen is afgewezen"
    assert "R25" not in decided.body
    assert not OutboxMessage.objects.filter(channel="webhook").exists()


def test_an_accepted_proposal_tells_the_lead_contact_so(
    work_order_a, contact_a, user_a, staff
):  # R25
    from django.utils import translation

    from notifications.models import OutboxMessage

    work_order_a.customer.language = "en"
    work_order_a.customer.save()
    proposal = s.contact_change_propose(
        work_order=work_order_a, proposed={"phone": "+31 6 1"}, contact=contact_a, by=user_a
    )
    with translation.override("nl"):  # the decider's language does not leak into the mail
        s.contact_change_decide(request=proposal, accept=True, by=staff)
    decided = OutboxMessage.objects.get(event="contact_change.decided")
    assert decided.subject == "WO-A-1: your contact change was accepted"
    assert "Bob (phone: +31 6 1)" in decided.body


def test_contact_change_events_are_e_mail_only(api_staff):  # R25
    r = api_staff.post(
        "/api/v1/webhooks/",
        {"url": "https://hooks.example.com/x", "events": ["contact_change.proposed"]},
        format="json",
    )
    assert r.status_code == 400 and "e-mail only" in r.content.decode()


def test_only_the_lead_contact_proposes_and_only_staff_decide(
    work_order_a, contact_a, customer_a
):  # R25
    other = f.UserFactory(username="olga", customer=customer_a, email="olga@acme.example")
    f.NamedContactFactory(work_order=work_order_a, user=other, email=other.email)
    with pytest.raises(RuleViolation):
        s.contact_change_propose(
            work_order=work_order_a, proposed={"phone": "1"}, contact=contact_a, by=other
        )
    proposal = s.contact_change_propose(
        work_order=work_order_a, proposed={"phone": "1"}, contact=contact_a, by=contact_a.user
    )
    with pytest.raises(RuleViolation):
        s.contact_change_decide(request=proposal, accept=True, by=contact_a.user)


# --- renewal and extension (R14) -----------------------------------------------------------


def test_renewal_copies_lines_contacts_and_location_with_new_quantities(work_order_a, staff):  # R14
    f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("onsite-support"), quantity=Decimal(2)
    )
    for i in range(55):
        f.NamedContactFactory(work_order=work_order_a, email=f"c{i}@acme.example")
    new = s.work_order_renew(work_order=work_order_a, quantities={"onsite-support": 4}, by=staff)
    assert new.renewed_from == work_order_a
    assert new.start_date == work_order_a.end_date + dt.timedelta(days=1)
    assert (
        new.package == work_order_a.package
        and new.support_location == work_order_a.support_location
    )
    assert new.contacts.count() == 55
    assert [(line.service.code, line.quantity) for line in new.lines.all()] == [
        ("onsite-support", Decimal(4))
    ]
    with pytest.raises(Conflict):
        s.work_order_renew(work_order=work_order_a, by=staff)


def test_extending_with_unused_hours_asks_what_happens(work_order_a, staff):  # R14
    f.WorkOrderLineFactory(work_order=work_order_a, service=f.service("dse"), quantity=Decimal(40))
    later = work_order_a.end_date + dt.timedelta(days=60)
    with pytest.raises(RuleViolation) as exc:
        s.work_order_update(work_order=work_order_a, end_date=later, by=staff)
    assert exc.value.code == "extension_choice_required"
    with pytest.raises(RuleViolation):
        s.work_order_extend(work_order=work_order_a, end_date=later, unused="keep", by=staff)
    s.work_order_extend(
        work_order=work_order_a, end_date=later, unused="keep", reason="agreed", by=staff
    )
    work_order_a.refresh_from_db()
    assert work_order_a.end_date == later


def test_extending_with_expire_lapses_credits_and_hours_now(work_order_a, staff):  # R14
    from credits.selectors import balance
    from tests.credits.conftest import fund

    fund(work_order_a, 300, by=staff)
    dse = f.WorkOrderLineFactory(
        work_order=work_order_a, service=f.service("dse"), quantity=Decimal(40)
    )
    later = work_order_a.end_date + dt.timedelta(days=60)
    s.work_order_extend(work_order=work_order_a, end_date=later, unused="expire", by=staff)
    assert balance(work_order=work_order_a) == 0
    dse.refresh_from_db()
    assert dse.expired_at is not None


# --- R13, R26, availability per country ----------------------------------------------------


def test_dse_needs_the_one_support_location(customer_a, staff):  # R13
    wo = f.WorkOrderFactory(customer=customer_a, support_location=None)
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=wo, service="dse", quantity=40, by=staff)
    assert exc.value.rule == "R13" and wo.lines.count() == 0


@pytest.mark.parametrize("hours,ok", [(137, False), (200, True), (1600, True), (1000, False)])
def test_digital_advisory_packs(work_order_a, staff, hours, ok):  # R26
    if ok:
        s.work_order_line_add(
            work_order=work_order_a, service="digital-advisory", quantity=hours, by=staff
        )
    else:
        with pytest.raises(RuleViolation) as exc:
            s.work_order_line_add(
                work_order=work_order_a,
                service="digital-advisory",
                quantity=hours,
                bounds_override=True,
                override_reason="asked",
                by=staff,
            )
        assert exc.value.rule == "R26"


def test_a_service_not_offered_in_the_country_is_refused(work_order_a, staff):  # seed §1
    service = f.service("onsite-support")
    service.countries = "DE,FR"
    service.save()
    with pytest.raises(RuleViolation) as exc:
        s.work_order_line_add(work_order=work_order_a, service=service, quantity=1, by=staff)
    assert exc.value.code == "not_offered_in_country"
    service.countries = "NL"
    service.save()
    s.work_order_line_add(work_order=work_order_a, service=service, quantity=1, by=staff)


def test_work_orders_keep_their_renewal_link_when_listed(work_order_a, staff):
    new = s.work_order_renew(work_order=work_order_a, by=staff)
    assert WorkOrder.objects.get(pk=work_order_a.pk).renewal == new
