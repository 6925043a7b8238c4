"""The hot queries' plans on a bench database (issue #20): each read through the index
named after its page, never a sequential scan of incidents.

Run by bench/scale.py after its measurements (so CI checks them on the smoke scale,
3,000 incidents, and a full run on 3,000,000), in its own process with the bench
database:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_scale_0p001 \\
        .venv/bin/python bench/_scale_plans.py

Sequential scans (and, for a page in its list's order, sorts and bitmap scans) are switched
off for the EXPLAIN, as tests/incidents/test_query_plans.py does, so a small table answers
as a big one would: what is checked is that the index
exists and that the query is written so the planner can use it. Prints one line per
query and exits 1 when one does not read its index.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "ERROR")


def plans() -> list[tuple[str, object, str]]:
    """(label, queryset, the index it must read); None for a queryset the data set is too
    small to judge."""
    import datetime as dt

    from django.contrib.auth import get_user_model
    from django.db.models import Count
    from django.http import QueryDict
    from django.utils import timezone

    from contracts.models import Customer, WorkOrder
    from core.pagination import COUNT_CAP
    from incidents import selectors
    from incidents.choices import OPEN_STATUSES
    from incidents.filtersets import IncidentFilterSet
    from incidents.models import Incident

    manager = get_user_model().objects.get(username="manager")
    contact = get_user_model().objects.get(username="contact@acme.example")
    acme = Customer.objects.get(code="acme")
    # One customer's list, as `visible_to` filters it (customer_id = X), for the customer
    # with the fewest incidents: at the smoke scale Acme has a quarter of them, and walking
    # the all-customers index is then rightly cheaper.
    small, share = (
        Incident.objects.values_list("customer_id")
        .order_by()
        .annotate(n=Count("id"))
        .order_by("n")
        .values_list("customer_id", "n")
        .first()
    )
    selective = share * 20 < Incident.objects.count()  # under 5% of the incidents

    def queue(actor, **params):
        data = QueryDict(mutable=True)
        data.setlist("status", list(OPEN_STATUSES))
        for key, value in params.items():
            data[key] = value
        qs = IncidentFilterSet(data, queryset=selectors.incident_list(actor=actor)).qs
        return selectors.queue_order(qs)

    def count(qs):
        return qs.order_by().values("pk")[: COUNT_CAP + 1]

    since = timezone.now() - dt.timedelta(days=1)
    return [
        ("staff queue", queue(manager)[:25], "incident_queue_idx"),
        (
            "staff queue, critical",
            queue(manager, severity="critical")[:25],
            "incident_queue_severity_idx",
        ),
        (
            "staff queue, one customer",
            queue(manager, customer="acme")[:25],
            "incident_cust_web_queue_idx",
        ),
        ("customer's queue", queue(contact)[:25], "incident_cust_web_queue_idx"),
        (
            "one customer's list, newest first",
            Incident.objects.filter(customer_id=small).order_by("-opened_at", "-id")[:50]
            if selective
            else None,
            "incident_cust_api_list_idx",
        ),
        (
            "customer's count by severity",
            count(Incident.objects.visible_to(contact).filter(severity="critical")),
            "incident_cust_api_list_idx",
        ),
        (
            "search",
            IncidentFilterSet(QueryDict("q=MAIL"), queryset=Incident.objects.all()).qs.order_by()[
                :50
            ],
            "incident_queue_search_idx",
        ),
        (
            "external reference",
            IncidentFilterSet(
                QueryDict("external_reference=TT-1"), queryset=Incident.objects.all()
            ).qs,
            "incident_customer_ext_ref_uniq",
        ),
        (
            "sync cursor",
            Incident.objects.filter(updated_at__gt=since).order_by("updated_at", "id")[:51],
            "incident_updated_idx",
        ),
        (
            "one customer's sync cursor",
            # The first page of a sync: everything of the customer's, in the cursor's order.
            Incident.objects.filter(customer_id=small).order_by("updated_at", "id")[:51]
            if selective
            else None,
            "incident_cust_sync_idx",
        ),
        (
            "staff work-order list",
            WorkOrder.objects.order_by("-end_date", "number")[:25],
            "work_order_list_idx",
        ),
        (
            "API work-order list",
            WorkOrder.objects.order_by("-start_date", "number")[:50],
            "work_order_api_list_idx",
        ),
        (
            "work orders of one customer",
            WorkOrder.objects.filter(customer=acme)[:50],
            "contracts_workorder_customer_id",
        ),
    ]


def explain(queryset) -> str:
    from django.db import connection, transaction

    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        if queryset.query.order_by:
            # A page in the list's order: the index must give the order (no sort), as in
            # tests/incidents/test_query_plans.py.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    import django

    django.setup()
    failed = 0
    checked = plans()
    for label, queryset, index in checked:
        if queryset is None:
            print(f"  --  {label:<32} not judged: its customer holds 5% or more of these incidents")
            continue
        plan = explain(queryset)
        ok = index in plan and "Seq Scan on incidents_incident" not in plan
        failed += not ok
        print(f"  {'ok ' if ok else 'BAD'} {label:<32} reads {index}" + ("" if ok else f"\n{plan}"))
    judged = sum(1 for _label, queryset, _index in checked if queryset is not None)
    print(f"query plans: {judged - failed} of {judged} read their index")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
