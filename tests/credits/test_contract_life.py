"""#18 in credits: time entries (R11) by web and API, corrections previewed before they are
confirmed (R17, R18, adjustment), enhanced solutions that become lines (R9), vendor consent,
consulting engagements, yearly anniversaries of multi-year terms (R14), forecast_expiring."""

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse

from contracts.models import WorkOrderLine
from core.errors import Conflict, NotAllowed, RuleViolation
from credits.models import CreditEntry, EngagementMilestone, TimeEntry
from credits.selectors import balance
from credits.services import (
    anniversaries_due,
    consulting_engagement_create,
    credits_expire,
    credits_redeem,
    entitlements_anniversary_lapse,
    milestone_complete,
    redemption_cancel,
)
from tests import factories as f
from tests.credits.conftest import days, snapshot

pytestmark = pytest.mark.django_db


def dse_line(work_order, quantity=40):
    return WorkOrderLine.objects.create(
        work_order=work_order,
        service=f.service("dse"),
        quantity=Decimal(quantity),
        unit="hours",
        ends_on=work_order.end_date,
    )


# --- R11: hours by web and API --------------------------------------------------------------


def test_staff_record_hours_on_the_web_after_seeing_the_effect(client_staff, work_order_a):  # R11
    line = dse_line(work_order_a)
    url = reverse("credits:hours", args=[work_order_a.pk])
    data = {
        "line": line.pk,
        "worked_on": days(-1).isoformat(),
        "hours": "10",
        "description": "Tuning",
    }
    preview = client_staff.post(url, {**data, "action": "preview"})
    assert preview.status_code == 200
    assert dict(preview.context["effect"])["Hours left after"] == "30"
    assert not TimeEntry.objects.exists()  # a preview writes nothing
    done = client_staff.post(url, {**data, "action": "confirm"})
    assert done.status_code == 302
    line.refresh_from_db()
    assert line.used == 10
    page = client_staff.get(url)
    assert page.context["blocks"][0]["remaining"] == "30"  # the burn-down per block


def test_hours_past_what_is_left_are_refused_clearly(client_staff, work_order_a):  # R11
    line = dse_line(work_order_a, quantity=5)
    r = client_staff.post(
        reverse("credits:hours", args=[work_order_a.pk]),
        {
            "line": line.pk,
            "worked_on": days(-1).isoformat(),
            "hours": "6",
            "description": "x",
            "action": "confirm",
        },
    )
    assert r.status_code == 200 and "Only 5 of 5 hours remain" in r.content.decode()
    line.refresh_from_db()
    assert line.used == 0


def test_time_entries_by_api_and_409_past_what_is_left(
    api_staff, api_a, api_b, work_order_a
):  # R11
    dse_line(work_order_a, quantity=12)
    url = f"/api/v1/work-orders/{work_order_a.pk}/time-entries/"
    body = {"service": "dse", "hours": "10", "date": days(-2).isoformat(), "description": "Review"}
    r = api_staff.post(url, body, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["remaining"] == "2.00"
    r = api_staff.post(url, {**body, "hours": "3"}, format="json")
    assert r.status_code == 409 and "R11" in str(r.json())
    assert api_a.get(url).json()["count"] == 1  # the customer's key reads its own
    assert api_a.post(url, body, format="json").status_code == 403
    assert api_b.get(url).status_code == 404  # another customer's work order


def test_a_time_entry_on_a_service_without_hours_is_a_400(api_staff, work_order_a):
    r = api_staff.post(
        f"/api/v1/work-orders/{work_order_a.pk}/time-entries/",
        {"service": "rsm-add-on", "hours": "1", "date": days(-1).isoformat(), "description": "x"},
        format="json",
    )
    assert r.status_code == 400


def test_the_credits_endpoint_forecasts_what_expires(api_staff, funded):  # R14
    body = api_staff.get(f"/api/v1/work-orders/{funded.pk}/credits/").json()
    assert body["forecast_expiring"] == 1000


# --- corrections: preview, then confirm -------------------------------------------------------


def test_a_balance_correction_needs_a_reason_and_shows_the_effect(client_staff, funded):
    url = reverse("credits:adjust", args=[funded.pk])
    r = client_staff.post(url, {"amount": "-100", "reason": "", "action": "confirm"})
    assert r.status_code == 200 and balance(work_order=funded) == 1000
    r = client_staff.post(url, {"amount": "-100", "reason": "double grant", "action": "preview"})
    assert dict(r.context["effect"])["Balance after"] == 900
    assert balance(work_order=funded) == 1000
    r = client_staff.post(url, {"amount": "-100", "reason": "double grant", "action": "confirm"})
    assert r.status_code == 302 and balance(work_order=funded) == 900
    assert CreditEntry.objects.filter(
        work_order=funded, kind="adjustment", reason="double grant"
    ).exists()


def test_a_correction_below_zero_is_refused(client_staff, funded):  # R10
    r = client_staff.post(
        reverse("credits:adjust", args=[funded.pk]),
        {"amount": "-1001", "reason": "x", "action": "confirm"},
    )
    assert r.status_code == 200 and balance(work_order=funded) == 1000


def test_sa_conversion_by_web(client_staff, funded):  # R18
    url = reverse("credits:sa_conversion", args=[funded.pk])
    r = client_staff.post(url, {"amount": "250", "reference": "SA-77", "action": "preview"})
    assert dict(r.context["effect"])["Balance after"] == 1250
    client_staff.post(url, {"amount": "250", "reference": "SA-77", "action": "confirm"})
    assert CreditEntry.objects.get(work_order=funded, kind="sa_conversion").amount == 250


def test_exchange_by_web_with_the_managers_approval(client_staff, funded, staff):  # R17
    chalk = credits_redeem(
        work_order=funded, service=f.service("chalk-talks"), quantity=2, scheduled_for=days(40)
    )
    url = reverse("credits:exchange", args=[chalk.pk])
    data = {
        "service": f.service("workshops").pk,
        "quantity": "10",
        "scheduled_for": days(40).isoformat(),
        "approved_by": staff.pk,
    }
    r = client_staff.post(url, {**data, "action": "preview"})
    assert dict(r.context["effect"])["Balance after"] == 900
    r = client_staff.post(url, {**data, "action": "confirm"})
    assert r.status_code == 302
    chalk.refresh_from_db()
    assert chalk.status == "exchanged" and chalk.exchanged_for.approved_by == staff


def test_only_a_scheduled_service_can_be_exchanged_by_web(client_staff, funded, staff):  # R17
    chalk = credits_redeem(
        work_order=funded, service=f.service("chalk-talks"), quantity=2, scheduled_for=days(40)
    )
    redemption_cancel(redemption=chalk, by=staff)
    url = reverse("credits:exchange", args=[chalk.pk])
    page = client_staff.get(url)
    assert page.status_code == 200 and page.context["form"] is None
    assert "Only a scheduled service can be exchanged." in page.content.decode()
    before = balance(work_order=funded)
    data = {
        "service": f.service("workshops").pk,
        "quantity": "10",
        "scheduled_for": days(40).isoformat(),
        "approved_by": staff.pk,
    }
    for action in ("preview", "confirm"):
        r = client_staff.post(url, {**data, "action": action})
        assert r.status_code == 200 and r.context["effect"] is None
        assert r.context["form"].non_field_errors() == [
            "Only a scheduled service can be exchanged."
        ]
    chalk.refresh_from_db()
    assert chalk.status == "cancelled" and balance(work_order=funded) == before


def test_correction_pages_are_staff_only_and_scoped(client_a, client_b, funded):
    for name in ("credits:adjust", "credits:sa_conversion", "credits:hours", "credits:engagements"):
        assert client_a.get(reverse(name, args=[funded.pk])).status_code == 403
        assert client_b.post(reverse(name, args=[funded.pk]), {"amount": 5}).status_code == 403


def test_staff_see_another_customers_page_only_through_the_door(client_staff, funded):
    assert client_staff.get(reverse("credits:adjust", args=[999999])).status_code == 404


# --- enhanced solutions become lines -----------------------------------------------------------


def test_rapid_response_bought_with_credits_applies_to_the_next_critical_cloud_incident(
    funded, contact_a, staff
):  # R9
    from incidents.services import incident_open

    funded.deployment_docs_on_file = True
    funded.save()
    credits_redeem(
        work_order=funded,
        service=f.service("rapid-response"),
        quantity=1,
        scheduled_for=days(1),
        by=contact_a.user,
    )
    assert funded.lines.filter(service__code="rapid-response", quantity=1).exists()
    incident = incident_open(
        work_order=funded,
        contact=contact_a,
        title="Down",
        description="x",
        severity="critical",
        product="Azure App Service",
        is_cloud=True,
        by=staff,
    )
    assert incident.response_due_at - incident.opened_at == dt.timedelta(minutes=15)


def test_mission_critical_is_not_bought_with_credits(funded):
    f.RateFactory(service=f.service("mission-critical"), credits_per_unit=Decimal(10))
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        credits_redeem(
            work_order=funded,
            service=f.service("mission-critical"),
            quantity=1,
            scheduled_for=days(10),
        )
    assert exc.value.code == "needs_annex" and snapshot(funded) == before


def test_dse_bought_without_a_location_is_refused_with_the_reason(funded):  # R13
    f.RateFactory(service=f.service("dse"), credits_per_unit=Decimal(1))
    funded.support_location = None
    funded.save()
    before = snapshot(funded)
    with pytest.raises(RuleViolation) as exc:
        credits_redeem(
            work_order=funded, service=f.service("dse"), quantity=10, scheduled_for=days(10)
        )
    assert exc.value.rule == "R13" and snapshot(funded) == before


def test_a_service_not_offered_in_the_country_is_not_redeemed(funded):
    chalk = f.service("chalk-talks")
    chalk.countries = "US"
    chalk.save()
    with pytest.raises(RuleViolation) as exc:
        credits_redeem(work_order=funded, service=chalk, quantity=1, scheduled_for=days(30))
    assert exc.value.code == "not_offered_in_country"


# --- consulting engagements ------------------------------------------------------------------


def test_an_engagement_with_sow_milestones_and_a_price_in_credits(funded, staff):
    engagement = consulting_engagement_create(
        work_order=funded,
        service=f.service("custom-consulting"),
        sow_reference="SOW-12",
        title="Landing zone",
        price_credits=300,
        milestones=[
            {"name": "Design", "due_on": days(20)},
            {"name": "Handover", "due_on": days(60)},
        ],
        by=staff,
    )
    assert balance(work_order=funded) == 700
    assert engagement.milestones.count() == 2
    first = engagement.milestones.first()
    milestone_complete(milestone=first, by=staff)
    with pytest.raises(Conflict):
        milestone_complete(milestone=first, by=staff)


def test_an_engagement_paid_in_hours_uses_its_hour_block(work_order_a, staff):  # R26, R11
    line = WorkOrderLine.objects.create(
        work_order=work_order_a,
        service=f.service("digital-advisory"),
        quantity=Decimal(200),
        unit="hours",
    )
    consulting_engagement_create(
        work_order=work_order_a,
        service=f.service("digital-advisory"),
        sow_reference="SOW-DA",
        title="Advisor",
        price_hours=Decimal(40),
        milestones=[{"name": "Roadmap", "due_on": days(30)}],
        by=staff,
    )
    line.refresh_from_db()
    assert line.used == 40


def test_an_engagement_needs_a_sow_one_price_and_milestones(funded, staff, user_a):
    base = dict(
        work_order=funded,
        service=f.service("custom-consulting"),
        title="T",
        milestones=[{"name": "M", "due_on": days(5)}],
        by=staff,
    )
    with pytest.raises(RuleViolation):
        consulting_engagement_create(**{**base, "sow_reference": ""}, price_credits=10)
    with pytest.raises(RuleViolation):
        consulting_engagement_create(**base, sow_reference="S", price_credits=10, price_hours=1)
    with pytest.raises(RuleViolation):
        consulting_engagement_create(
            **{**base, "milestones": []}, sow_reference="S", price_credits=10
        )
    with pytest.raises(NotAllowed):
        consulting_engagement_create(**{**base, "by": user_a}, sow_reference="S", price_credits=10)
    with pytest.raises(Conflict):
        consulting_engagement_create(**base, sow_reference="S", price_credits=5000)
    assert not EngagementMilestone.objects.exists()


# --- multi-year terms: anniversaries (R14) -------------------------------------------------


def test_yearly_entitlements_lapse_at_each_anniversary(customer_a, staff, rates):  # R14
    from tests.credits.conftest import fund

    wo = f.WorkOrderFactory(
        customer=customer_a,
        package="advanced",
        start_date=days(-400),
        end_date=days(700),
        yearly_entitlements=True,
    )
    fund(wo, 500, by=staff)
    dse = dse_line(wo, quantity=100)
    WorkOrderLine.objects.filter(pk=dse.pk).update(used=30)
    credits_redeem(
        work_order=wo, service=f.service("chalk-talks"), quantity=2, scheduled_for=days(30)
    )
    assert balance(work_order=wo) == 400
    assert anniversaries_due(by=staff) == 1
    # Year one's 400 unused credits lapsed; year two's 500 were granted.
    assert CreditEntry.objects.get(work_order=wo, kind="expiry").amount == -400
    assert balance(work_order=wo) == 500
    dse.refresh_from_db()
    assert dse.used == 0
    assert anniversaries_due(by=staff) == 0  # once per anniversary


def test_lapsed_hours_are_a_visible_entry_on_the_burn_down_and_the_work_order(
    customer_a, staff, rates, client_staff, client_a, user_a
):  # R14
    from credits.models import HourBlockLapse

    wo = f.WorkOrderFactory(
        customer=customer_a, start_date=days(-400), end_date=days(700), yearly_entitlements=True
    )
    f.NamedContactFactory(work_order=wo, user=user_a)
    dse = dse_line(wo, quantity=100)
    WorkOrderLine.objects.filter(pk=dse.pk).update(used=30)
    assert anniversaries_due(by=staff) == 1
    lapse = HourBlockLapse.objects.get(line=dse)
    assert lapse.hours == 70 and lapse.anniversary == days(-35) and lapse.created_by == staff
    assert anniversaries_due(by=staff) == 0 and HourBlockLapse.objects.count() == 1  # once
    from core.formatting import fmt_date

    when = fmt_date(lapse.anniversary, "day")
    burn_down = client_staff.get(reverse("credits:hours", args=[wo.pk])).content.decode()
    assert f"70 hours lapsed at the anniversary on {when}" in burn_down
    # The customer's work order page says it too, in plain words.
    page = client_a.get(reverse("work_order_overview", args=[wo.pk])).content.decode()
    assert 'id="hour-lapses"' in page and "hours of Designated Support Engineering" in page
    assert (
        "lapsed at the anniversary on" in page
        and "R14" not in page.split('id="hour-lapses"')[1][:300]
    )


def test_an_anniversary_is_refused_for_whole_term_entitlements(funded, staff):  # R14
    with pytest.raises(RuleViolation):
        entitlements_anniversary_lapse(work_order=funded, anniversary=days(10), by=staff)


def test_term_expiry_still_happens_once_after_an_extension(funded, staff):  # R14
    from contracts.services import work_order_extend

    work_order_extend(
        work_order=funded,
        end_date=funded.end_date + dt.timedelta(days=30),
        unused="expire",
        by=staff,
    )
    funded.refresh_from_db()
    funded.terminated_at = funded.created_at
    funded.save()
    assert credits_expire(work_order=funded)["credits_expired"] == 0
