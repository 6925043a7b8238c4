"""English and Dutch throughout (issue #7): rule refusals, deadline explanations,
e-mails in the recipient's language and zone, holiday names, and a complete catalogue."""

import datetime as dt
import re
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from contracts import services as contract_services
from contracts.models import ClosureDay
from core.errors import Conflict
from incidents import services as incident_services
from incidents.selectors import incident_explain
from incidents.sweep import run_deadline_sweep
from notifications import rendering
from notifications.models import OutboxMessage
from tests import factories as f

PO = Path(__file__).resolve().parents[2] / "locale" / "nl" / "LC_MESSAGES" / "django.po"
T0 = dt.datetime(2026, 3, 3, 9, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in Amsterdam


def _term_around_t0(work_order):
    # Incidents are filed at T0 (frozen time): the term must cover it (R2).
    work_order.start_date, work_order.end_date = dt.date(2026, 1, 1), dt.date(2026, 12, 31)
    work_order.save(update_fields=["start_date", "end_date"])


def _speaks(user, language):
    user.language = language
    user.save(update_fields=["language"])


# --- rule refusals ------------------------------------------------------------------


@pytest.fixture
def full_core(customer_a, staff):
    """A Core work order with its ten named contacts (R1)."""
    work_order = f.WorkOrderFactory(
        number="WO-CORE", customer=customer_a, package="core", account_manager=staff
    )
    for n in range(10):
        f.NamedContactFactory(work_order=work_order, email=f"c{n}@acme.example", active=True)
    return work_order


@pytest.mark.django_db
def test_the_eleventh_core_contact_is_refused_in_dutch_naming_r1(client_staff, staff, full_core):
    # R1: the refusal raised by named_contact_add is built in the page's language.
    _speaks(staff, "nl")
    response = client_staff.post(
        reverse("contracts:contact_add", args=[full_core.pk]),
        {"contact-name": "Elf", "contact-email": "elf@acme.example", "contact-active": "on"},
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "R1: werkopdracht WO-CORE (Core) staat hoogstens 10 actieve contactpersonen toe." in body
    assert "allows at most" not in body
    assert full_core.contacts.count() == 10


@pytest.mark.django_db
def test_the_same_refusal_stays_english_for_an_english_reader(staff, full_core):
    # R1: tests and API clients without Accept-Language get English, rule number included.
    with pytest.raises(Conflict) as exc:
        contract_services.named_contact_add(
            work_order=full_core, name="Elf", email="elf@acme.example", by=staff
        )
    assert exc.value.rule == "R1"
    assert exc.value.message == (
        "R1: work order WO-CORE (Core) allows at most 10 active named contacts."
    )


# --- deadline explanations ----------------------------------------------------------


@pytest.mark.django_db
def test_the_deadline_explanation_on_a_dutch_page_is_dutch(
    client_a, user_a, work_order_a, contact_a
):  # R4, R5
    _speaks(user_a, "nl")
    _term_around_t0(work_order_a)
    with time_machine.travel(T0, tick=False):
        incident = incident_services.incident_open(
            work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
        )
    body = client_a.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert (
        "Advanced normaal: 4 kantooruren" in body and "R4 " not in body
    )  # customers read plain words (issue #19)
    assert "De klok telt alleen de kantooruren van Headquarters: ma–vr 09:00–17:30" in body
    assert "Normale incidenten tellen alleen kantooruren." in body
    assert "eerste reactie uiterlijk di 03 mrt 2026 14:00 CET" in body
    assert "The clock counts" not in body and "first response due" not in body


@pytest.mark.django_db
def test_the_stored_rule_is_english_whatever_the_language_it_was_filed_in(
    work_order_a, contact_a, user_a
):  # R4: target_rule is data, shown translated
    with translation.override("nl"):
        incident = incident_services.incident_open(
            work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
        )
        shown = incident_explain(incident)["rule"]
    assert incident.target_rule == "R4 Advanced normal: 4 business hours"
    assert shown == "R4 Advanced normaal: 4 kantooruren"
    assert incident_explain(incident)["rule"] == incident.target_rule


# --- e-mails ------------------------------------------------------------------------


def _mail(event, email):
    """The e-mail row as the delivery worker sends it (some events render at delivery)."""
    row = OutboxMessage.objects.get(event=event, channel="email", recipient=email)
    text = rendering.render_row(row)
    if text is not None:
        row.subject, row.body = text
    return row


@pytest.mark.django_db
def test_an_incident_email_is_dutch_for_a_dutch_contact_and_english_for_staff(
    staff, work_order_a, contact_a, user_a
):
    # customer_a speaks Dutch; Bob has no preference of his own, Alice (staff) neither.
    _term_around_t0(work_order_a)
    with time_machine.travel(T0, tick=False):
        incident = incident_services.incident_open(
            work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
        )
    dutch = _mail("incident.created", contact_a.email)
    english = _mail("incident.created", staff.email)
    assert dutch.body.startswith(
        f"Incident {incident.number} (VPN) is geopend met probleemniveau normaal; "
        "de eerste reactie volgt uiterlijk 3 maart 2026 14:00 CET."
    )
    assert english.body.startswith(
        f"Incident {incident.number} (VPN) was opened with severity normal; "
        "the first response is due 3 March 2026 14:00 CET."
    )


@pytest.mark.django_db
def test_sweep_emails_follow_each_readers_language_and_time_zone(
    staff, work_order_a, contact_a, user_a
):  # R4
    user_a.time_zone = "Asia/Tokyo"
    user_a.save(update_fields=["time_zone"])
    _speaks(staff, "nl")
    incident = f.IncidentFactory(
        work_order=work_order_a,
        contact=contact_a,
        opened_at=T0,
        response_warning_at=T0 + dt.timedelta(hours=3),
        response_due_at=T0 + dt.timedelta(hours=4),
        next_deadline_at=T0 + dt.timedelta(hours=3),
    )
    with time_machine.travel(T0 + dt.timedelta(hours=5), tick=False):
        run_deadline_sweep()
    to_bob = _mail("incident.response_breached", contact_a.email)
    to_alice = _mail("incident.response_breached", staff.email)
    assert to_bob.subject == f"[{incident.number}] Reactietermijn overschreden"
    assert "3 maart 2026 22:00 JST" in to_bob.body  # Bob's own zone
    assert to_alice.subject == f"[{incident.number}] Reactietermijn overschreden"
    assert "3 maart 2026 14:00 CET" in to_alice.body  # the portal's zone: Alice has none


@pytest.mark.django_db
def test_a_user_language_wins_over_the_customer_language(staff, work_order_a, contact_a, user_a):
    _speaks(user_a, "en")
    incident_services.incident_open(
        work_order=work_order_a, contact=contact_a, title="VPN", severity="normal", by=user_a
    )
    assert "was opened with severity normal" in _mail("incident.created", contact_a.email).body


# --- holiday names ------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, easter_monday",
    [("nl", "Tweede paasdag"), ("en", "Easter Monday"), ("de", "Easter Monday")],
)
def test_holidays_are_named_in_the_customers_language_else_english(language, easter_monday):  # R5
    customer = f.CustomerFactory(code=f"hol-{language}", language=language)
    location = f.SupportLocationFactory(customer=customer, country="NL")
    contract_services.support_location_sync_holidays(location=location, years=[2030])
    assert ClosureDay.objects.get(location=location, date=dt.date(2030, 4, 22)).name == (
        easter_monday
    )


# --- the catalogue ------------------------------------------------------------------


def _po_entries(text: str):
    """(flags, msgid, msgstrs) of each entry of a .po file: a tiny parser."""
    for block in text.split("\n\n"):
        lines = [ln for ln in block.splitlines() if not ln.startswith("#~")]
        flags = " ".join(ln for ln in lines if ln.startswith("#,"))
        fields, current = {}, None
        for line in lines:
            match = re.match(r'^(msgid|msgid_plural|msgctxt|msgstr(?:\[\d+\])?) "(.*)"$', line)
            if match:
                current = match.group(1)
                fields[current] = match.group(2)
            elif line.startswith('"') and current:
                fields[current] += line[1:-1]
        if fields.get("msgid"):
            strs = [v for k, v in fields.items() if k.startswith("msgstr")]
            yield flags, fields["msgid"], strs


def test_the_dutch_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = list(_po_entries(PO.read_text(encoding="utf-8")))
    assert len(entries) > 700
    assert [m for flags, m, _s in entries if "fuzzy" in flags] == []
    assert [m for _f, m, strs in entries if not strs or any(s == "" for s in strs)] == []
    # Rule numbers survive translation: every "R12" in a msgid is in its msgstr.
    lost = [
        m
        for _f, m, strs in entries
        if any(r not in strs[0] for r in re.findall(r"\bR\d{1,2}\b", m))
    ]
    assert lost == []
