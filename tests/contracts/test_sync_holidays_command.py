"""`manage.py sync_holidays`: copies public holidays to every location, idempotently (R5)."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from contracts.choices import ClosureSource
from contracts.models import ClosureDay
from tests import factories as f

YEAR = timezone.localdate().year


def sync(*args):
    out = StringIO()
    call_command("sync_holidays", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_sync_copies_holidays_to_locations_made_without_them(customer_a):  # R5
    nl = f.SupportLocationFactory(customer=customer_a, country="NL", timezone="Europe/Amsterdam")
    de = f.SupportLocationFactory(
        customer=customer_a, name="Munich", country="DE", subdivision="BY", timezone="Europe/Berlin"
    )
    out = sync("--years", "2")
    assert "closure days added" in out
    assert nl.closure_days.filter(
        date=dt.date(YEAR + 1, 4, 27), source=ClosureSource.PUBLIC_HOLIDAY
    ).exists()  # King's Day
    assert de.closure_days.filter(date=dt.date(YEAR, 1, 6)).exists()  # Epiphany, Bavaria only
    assert not nl.closure_days.filter(date__year=YEAR + 2).exists()


def test_sync_twice_adds_nothing_and_keeps_reopened_days(customer_a):  # R5
    nl = f.SupportLocationFactory(customer=customer_a, country="NL", timezone="Europe/Amsterdam")
    sync()
    count = ClosureDay.objects.count()
    nl.closure_days.filter(date=dt.date(YEAR, 12, 26)).update(is_closed=False)
    assert "0 closure days added" in sync()
    assert ClosureDay.objects.count() == count
    assert nl.closure_days.get(date=dt.date(YEAR, 12, 26)).is_closed is False


def test_sync_reports_a_location_without_a_holiday_table(customer_a):
    f.SupportLocationFactory(customer=customer_a, name="Atlantis", country="ZZ")
    with pytest.raises(CommandError, match="could not be synced"):
        sync()
