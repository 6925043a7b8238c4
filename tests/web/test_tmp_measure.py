import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tests import factories as f


@pytest.mark.django_db
def test_measure(client_staff, client_a, work_order_a, contact_a):
    out = []
    for n in (5, 40):
        while f.WorkOrderFactory._meta.model.objects.count() < n:
            wo = f.WorkOrderFactory()
            f.NamedContactFactory(work_order=wo)
            f.IncidentFactory(work_order=wo)
        for name in ("home", "contracts:work_order_list", "contracts:customer_list", "incidents:list"):
            with CaptureQueriesContext(connection) as ctx:
                client_staff.get(reverse(name))
            out.append((n, name, len(ctx)))
        for name in ("home", "incidents:list"):
            with CaptureQueriesContext(connection) as ctx:
                client_a.get(reverse(name))
            out.append((n, "customer " + name, len(ctx)))
    print("\nMEASURE", out)
