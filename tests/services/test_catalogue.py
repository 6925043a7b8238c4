"""The service catalogue: seeded from DOMAIN.md, edited by staff, codes never change."""

from decimal import Decimal

import pytest

from core.errors import RuleViolation
from services.models import Service
from services.seed_catalogue import ROWS
from services.services import service_update
from tests import factories as f


def test_catalogue_has_every_domain_row_with_availability(db):
    assert set(Service.objects.values_list("code", flat=True)) >= {row[0] for row in ROWS}
    assert Service.objects.count() == len(ROWS) == 57
    expect = {
        "sta": ("add_on", "add_on", "included"),
        "extended-hotfix": ("add_on", "included", "included"),
        "advisory-support": ("included", "included", "included"),
        "dse": ("add_on", "add_on", "add_on"),
        "developer-advanced": ("unavailable", "limited", "limited"),
        "developer-performance": ("unavailable", "unavailable", "add_on"),
        "proactive-credits": ("add_on", "add_on", "add_on"),
        "custom-consulting": ("add_on", "add_on", "add_on"),
    }
    for code, (core, advanced, performance) in expect.items():
        assert f.service(code).availability == {
            "core": core,
            "advanced": advanced,
            "performance": performance,
        }, code
    dev_adv, dev_perf = f.service("developer-advanced"), f.service("developer-performance")
    assert (dev_adv.min_quantity, dev_adv.max_quantity, dev_adv.unit) == (
        Decimal("320"),
        Decimal("800"),
        "hours",
    )
    assert (dev_perf.min_quantity, dev_perf.max_quantity) == (Decimal("800"), None)
    assert f.service("dse").is_hour_block and f.service("digital-advisory").is_hour_block
    assert (
        f.service("adoption").category == "optimization"
    )  # same service as in consulting: one code


def test_staff_can_edit_a_service_and_history_records_it(staff):
    svc = f.service("workshops")
    service_update(service=svc, by=staff, notes="Minimum 6 participants", min_quantity="6")
    svc.refresh_from_db()
    assert svc.notes == "Minimum 6 participants" and svc.min_quantity == Decimal("6")
    assert svc.history.first().history_user == staff


def test_service_code_never_changes(staff):
    svc = f.service("dse")
    with pytest.raises(RuleViolation) as exc:
        service_update(service=svc, by=staff, code="designated-engineering", name="Renamed")
    assert exc.value.field == "code"
    svc.refresh_from_db()
    assert svc.code == "dse" and svc.name.startswith("Designated")


def test_service_update_refuses_bad_values(staff):
    svc = f.service("dse")
    with pytest.raises(RuleViolation):
        service_update(service=svc, by=staff, availability_core="maybe")
    with pytest.raises(RuleViolation):
        service_update(service=svc, by=staff, min_quantity=10, max_quantity=5)


def test_customers_cannot_edit_the_catalogue(user_a):
    with pytest.raises(RuleViolation):
        service_update(service=f.service("dse"), by=user_a, notes="x")
