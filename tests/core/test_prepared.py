"""core.prepared: a queryset compiled once reads what the queryset itself reads, for
every actor, through the one door (issue #20)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contracts.models import NamedContact
from core.prepared import PreparedQueries
from incidents.services.rows import OPENING_READ, opening_reads


def _contacts(actor, work_order_id, email):
    return (
        NamedContact.objects.visible_to(actor)
        .select_related("work_order__customer", "work_order__account_manager")
        .filter(work_order_id=work_order_id, email__iexact=email)
        .order_by()[:1]
    )


@pytest.fixture
def prepared():
    return PreparedQueries()


def test_the_prepared_read_is_the_querysets_read_for_every_actor(
    prepared, staff, user_a, user_b, work_order_a, contact_a, work_order_b, contact_b
):
    for actor in (staff, user_a, user_b, AnonymousUser()):
        for work_order, contact in ((work_order_a, contact_a), (work_order_b, contact_b)):
            kind = "staff" if actor.is_staff else getattr(actor, "customer_id", None)
            query = prepared.get(
                (kind,),
                lambda s, actor=actor: _contacts(actor, s.work_order, s.email),
                work_order=0,
                email="",
            )
            got = query.first(work_order=work_order.pk, email=contact.email.upper())
            expected = next(iter(_contacts(actor, work_order.pk, contact.email.upper())), None)
            assert got == expected, (actor, work_order)
            if got is not None:
                # select_related objects come along, as Django's own iterable makes them.
                with CaptureQueriesContext(connection) as queries:
                    assert got.work_order.customer == work_order.customer
                    assert got.work_order.account_manager == work_order.account_manager
                assert not queries.captured_queries


def test_a_value_the_builder_transforms_is_refused(prepared, db):
    # icontains wraps the value in %...%: its position cannot be found, so it cannot be
    # prepared (a wrong read would be worse than a slow one).
    with pytest.raises(ValueError, match="appears 0 times"):
        prepared.get(
            "contains",
            lambda s: NamedContact.objects.filter(email__icontains=s.email),
            email="",
        )


def test_the_opening_read_is_compiled_once_per_actor_kind(
    staff, user_a, user_b, work_order_a, contact_a
):
    OPENING_READ.clear()
    for actor in (staff, user_a, None):
        reads = opening_reads(actor, work_order_a.pk, contact_a.email)
        assert reads.contact == contact_a and reads.number and reads.incident_id
    # Another customer's contact reads like an unknown one, from the same compiled query.
    assert opening_reads(user_b, work_order_a.pk, contact_a.email).contact is None
    assert opening_reads(user_a, work_order_a, contact_a).contact == contact_a
    assert len(OPENING_READ._queries) == 4  # staff, customer, system by e-mail; customer by id
