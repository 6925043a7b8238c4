"""The filing form's language (R22), its preview (R9: Rapid Response is English only)
and the incident page showing the language."""

import pytest
from django.urls import reverse

from incidents.models import Incident
from tests import factories as f


@pytest.fixture
def rapid_response_a(work_order_a):
    work_order_a.deployment_docs_on_file = True
    work_order_a.save()
    f.WorkOrderLineFactory(work_order=work_order_a, service=f.service("rapid-response"), quantity=1)
    return work_order_a


def test_the_form_offers_the_languages_with_english_chosen_and_the_r9_caveat(
    client_a, work_order_a, contact_a
):  # R9, R22
    body = client_a.get(reverse("incidents:create")).content.decode()
    assert 'name="language"' in body
    assert '<option value="en" selected>English</option>' in body
    assert '<option value="nl">Dutch</option>' in body
    assert (
        "Rapid Response is delivered in English only." in body
    )  # customers read plain words (issue #19)


def test_a_customer_files_in_dutch_and_the_page_shows_it(client_a, work_order_a, contact_a):  # R22
    response = client_a.post(
        reverse("incidents:create"),
        {"work_order": work_order_a.pk, "title": "VPN", "severity": "normal", "language": "nl"},
    )
    assert response.status_code == 302
    incident = Incident.objects.get()
    assert incident.language == "nl"
    page = client_a.get(reverse("incidents:detail", args=[incident.pk])).content.decode()
    assert "<dt>Language</dt><dd>Dutch</dd>" in page


def test_an_unknown_language_is_a_form_error_not_a_500(client_a, work_order_a, contact_a):  # R22
    response = client_a.post(
        reverse("incidents:create"),
        {"work_order": work_order_a.pk, "title": "VPN", "severity": "normal", "language": "de"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Incident.objects.exists()


def test_the_preview_of_a_dutch_critical_cloud_incident_explains_r9(
    client_a, rapid_response_a, contact_a
):  # R9, R22
    params = {"work_order": rapid_response_a.pk, "severity": "critical", "is_cloud": "on"}
    english = client_a.get(reverse("incidents:preview"), params).content.decode()
    dutch = client_a.get(reverse("incidents:preview"), {**params, "language": "nl"})
    dutch = dutch.content.decode()
    assert (
        "Rapid Response: " in english and "R9" not in english
    )  # customers read plain words (issue #19)
    assert "Rapid Response: " not in dutch
    assert "delivered in English only; this incident is handled in Dutch" in dutch
