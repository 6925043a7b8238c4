"""The README's first command runs the portal on SQLite when DATABASE_URL is unset.
Everything else is tested on PostgreSQL, so this walks the demo once on SQLite in a
subprocess: migrate, seed, file an incident, and every page of the demo's incidents and
work orders for a customer and for staff, and webhook fan-out. Caught: JSON containment
lookups, which SQLite lacks, behind the customer's incident page (500)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WALK = r"""
import django
django.setup()
from django.core.management import call_command
from django.test import Client
from django.test.utils import override_settings

call_command("migrate", verbosity=0)
call_command("seed_demo", verbosity=0)

from accounts.models import User
from contracts.models import NamedContact, WorkOrder
from incidents.models import Incident
from incidents.services import incident_open
from notifications.models import OutboxMessage, WebhookSubscription
from notifications.webhooks import subscriptions_for

contact_user = User.objects.get(username="contact@acme.example")
contact = NamedContact.objects.filter(user=contact_user, active=True).select_related("work_order").first()
filed = incident_open(
    work_order=contact.work_order, contact=contact, title="Demo on SQLite", severity="normal",
    by=contact_user,
)
assert filed.pk and filed.history.count() == 1 and filed.events.count() == 1, filed
by_id = incident_open(
    work_order=contact.work_order.pk, contact=contact.email.upper(), title="By id",
    severity="normal", by=contact_user,
)
assert by_id.contact_id == contact.pk

WebhookSubscription.objects.create(
    customer=contact.work_order.customer, url="https://hooks.example.com/p",
    secret="s" * 32, events=["incident.created"],
)
hook = OutboxMessage.objects.filter(event="incident.created", channel="webhook").first()
assert len(subscriptions_for(hook)) == 1

failures = []
with override_settings(ALLOWED_HOSTS=["testserver"]):
    for user in (contact_user, User.objects.get(username="manager")):
        client = Client()
        client.force_login(user)
        paths = [f"/incidents/{i.pk}/" for i in Incident.objects.visible_to(user)]
        paths += [f"/work-orders/{w.pk}/" for w in WorkOrder.objects.visible_to(user)]
        paths += ["/", "/incidents/", "/incidents/?breached=true"]
        paths += [f"/api/v1/{name}/" for name in ("services", "work-orders", "rates", "incidents")]
        paths += [
            f"/api/v1/work-orders/{w.pk}/redemptions/" for w in WorkOrder.objects.visible_to(user)
        ]
        paths += ["/api/v1/incidents/?breached=true", "/api/v1/incidents/?status=new"]
        if user.is_staff:
            paths += ["/work-orders/", "/customers/", "/api/v1/customers/", "/api/v1/webhooks/"]
            paths += ["/ops/"]
        for path in paths:
            status = client.get(path).status_code
            if status != 200:
                failures.append((user.username, path, status))
print("FAILURES", failures)
assert not failures
print("OK")
"""


def test_the_demo_runs_on_sqlite(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_VAR_DIR=str(tmp_path),
        LOG_LEVEL="ERROR",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
    )
    result = subprocess.run(
        [sys.executable, "-c", WALK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    assert result.stdout.strip().endswith("OK")
