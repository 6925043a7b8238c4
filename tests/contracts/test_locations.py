"""contracts.services.locations: customers and their support locations, public holidays
and opening hours (R5)."""

import datetime as dt

import pytest
from django.utils import timezone

from contracts import services as s
from contracts import signals
from contracts.choices import ClosureSource
from contracts.models import ClosureDay, Customer, SupportLocation
from core.errors import RuleViolation

TODAY = timezone.localdate()


def test_customer_create_validates_timezone_and_country(db):
    with pytest.raises(RuleViolation) as exc:
        s.customer_create(code="x", name="X", country="NL", timezone="Mars/Olympus")
    assert exc.value.field == "timezone"
    with pytest.raises(RuleViolation) as exc:
        s.customer_create(code="x", name="X", country="nl", timezone="Europe/Amsterdam")
    assert exc.value.field == "country"
    assert (
        s.customer_create(code="XCo", name="X", country="NL", timezone="Europe/Amsterdam").code
        == "xco"
    )


def test_location_copies_public_holidays_for_three_years(customer_a):  # R5
    loc = s.support_location_create(
        customer=customer_a, name="Utrecht", country="NL", timezone="Europe/Amsterdam"
    )
    years = set(loc.closure_days.values_list("date__year", flat=True))
    assert years == {TODAY.year, TODAY.year + 1, TODAY.year + 2}
    christmas = loc.closure_days.get(date=dt.date(TODAY.year, 12, 25))
    assert christmas.source == ClosureSource.PUBLIC_HOLIDAY and christmas.is_closed


def test_holiday_sync_is_idempotent_and_keeps_reopened_days(customer_a, staff):  # R5
    loc = s.support_location_create(
        customer=customer_a, name="Utrecht", country="NL", timezone="Europe/Amsterdam"
    )
    before = loc.closure_days.count()
    s.closure_day_set(location=loc, date=dt.date(TODAY.year + 1, 12, 26), is_closed=False, by=staff)
    years = range(TODAY.year, TODAY.year + 3)
    assert s.support_location_sync_holidays(location=loc, years=years) == 0
    assert loc.closure_days.count() == before
    assert loc.closure_days.get(date=dt.date(TODAY.year + 1, 12, 26)).is_closed is False


def test_location_with_an_unknown_country_is_refused(customer_a):  # R5
    with pytest.raises(RuleViolation):
        s.support_location_create(
            customer=customer_a, name="Nowhere", country="ZZ", timezone="Europe/Amsterdam"
        )
    assert SupportLocation.objects.filter(name="Nowhere").count() == 0


def test_calendar_changes_bump_the_version_and_send_calendar_changed(customer_a, staff):  # R5
    loc = s.support_location_create(
        customer=customer_a, name="Utrecht", country="NL", timezone="Europe/Amsterdam"
    )
    seen = []

    def receiver(sender, location, by, **kwargs):
        seen.append((location.pk, location.calendar_version, by))

    signals.calendar_changed.connect(receiver)
    try:
        s.support_location_update(location=loc, closes_at=dt.time(18, 0), by=staff)
        s.closure_day_set(
            location=loc, date=TODAY + dt.timedelta(days=40), name="Company day", by=staff
        )
        s.support_location_update(
            location=loc, name="Utrecht HQ", by=staff
        )  # not a calendar change
    finally:
        signals.calendar_changed.disconnect(receiver)
    assert seen == [(loc.pk, 2, staff), (loc.pk, 3, staff)]
    day = ClosureDay.objects.get(location=loc, date=TODAY + dt.timedelta(days=40))
    assert day.source == ClosureSource.LOCATION and day.history.first().history_user == staff


def test_location_hours_must_make_sense(customer_a, staff):  # R5
    loc = s.support_location_create(
        customer=customer_a, name="Utrecht", country="NL", timezone="Europe/Amsterdam"
    )
    with pytest.raises(RuleViolation):
        s.support_location_update(location=loc, closes_at=dt.time(8, 0), by=staff)
    with pytest.raises(RuleViolation):
        s.support_location_update(location=loc, weekdays="0,7", by=staff)
    loc.refresh_from_db()
    assert loc.closes_at == dt.time(17, 30) and loc.calendar_version == 1


@pytest.mark.parametrize("country", ["XX", "ZZ", "nl", "NLD", "N1"])
def test_a_customer_country_must_be_an_assigned_iso_3166_code(db, country):
    with pytest.raises(RuleViolation) as exc:
        s.customer_create(
            code="nowhere", name="Nowhere BV", country=country, timezone="Europe/Amsterdam"
        )
    assert exc.value.field == "country"
    assert not Customer.objects.filter(code="nowhere").exists()
    assert (
        s.customer_create(
            code="somewhere", name="Somewhere BV", country="NL", timezone="Europe/Amsterdam"
        ).country
        == "NL"
    )
