"""core.batch.InsertBatch: INSERTs compiled by Django, sent together (issue #6), and
core.history.history_row, the audit row such writers add themselves."""

import pytest
from django.db import IntegrityError, connection, transaction

from contracts.models import Customer
from core.batch import InsertBatch
from core.history import history_row


def next_customer_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('contracts_customer', 'id'))")
        return cursor.fetchone()[0]


def test_queued_rows_of_several_tables_are_written_in_one_round_trip(db, django_assert_num_queries):
    first = Customer(pk=next_customer_id(), code="one", name="One BV", country="NL")
    second = Customer(pk=next_customer_id(), code="two", name="Two BV", country="BE")
    with transaction.atomic():
        batch = InsertBatch()
        batch.add(first)
        batch.add(history_row(first, reason="imported"))
        batch.add(second)
        batch.add_sql(
            "UPDATE contracts_customer SET name = %s WHERE id = %s", ["Two NV", second.pk]
        )
        assert len(batch) == 4
        with django_assert_num_queries(1):
            batch.flush()
    assert len(batch) == 0
    assert not first._state.adding and first._state.db == "default"
    stored = Customer.objects.get(pk=first.pk)
    assert (stored.code, stored.country, stored.language) == ("one", "NL", "en")
    assert stored.created_at is not None  # auto_now_add, as the ORM's own INSERT sets it
    assert Customer.objects.get(pk=second.pk).name == "Two NV"  # in order: after its INSERT
    (audit,) = stored.history.all()
    assert (audit.history_type, audit.history_change_reason, audit.code) == ("+", "imported", "one")
    assert audit.history_user is None


def test_a_failing_statement_leaves_nothing_of_the_batch_written(db):
    Customer.objects.create(code="taken", name="Taken BV", country="NL")
    fresh = Customer(pk=next_customer_id(), code="fresh", name="Fresh BV", country="NL")
    clash = Customer(pk=next_customer_id(), code="taken", name="Clash BV", country="NL")
    with pytest.raises(IntegrityError), transaction.atomic():
        batch = InsertBatch()
        batch.add(fresh)
        batch.add(history_row(fresh))
        batch.add(clash)
        batch.flush()
    assert not Customer.objects.filter(code="fresh").exists()
    assert not Customer.history.filter(code="fresh").exists()


@pytest.mark.django_db(transaction=True)
def test_it_writes_only_inside_a_transaction():
    batch = InsertBatch()
    batch.add(Customer(pk=next_customer_id(), code="loose", name="Loose BV", country="NL"))
    with pytest.raises(transaction.TransactionManagementError):
        batch.flush()
    assert not Customer.objects.filter(code="loose").exists()
