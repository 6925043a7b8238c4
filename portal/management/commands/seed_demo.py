"""Loads a demo data set: one customer per base package with work orders, contacts,
credit lines, redemptions and incidents, plus demo logins. Idempotent: a second run
finds the demo rows and changes nothing."""

import datetime as dt
from decimal import Decimal

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from contracts import services as contracts
from contracts.models import Customer, WorkOrder
from core.times import business_today
from credits import services as credits
from credits.models import Rate
from incidents import services as incidents
from services.models import Service

DEMO_CUSTOMERS = [
    # code, name, country, subdivision, timezone, language, package, work order number
    ("acme", "Acme Logistics BV", "NL", "", "Europe/Amsterdam", "nl", "advanced", "WO-2026-0001"),
    (
        "globex",
        "Globex Corporation",
        "US",
        "NY",
        "America/New_York",
        "en",
        "performance",
        "WO-2026-0002",
    ),
    ("initech", "Initech Pty Ltd", "AU", "NSW", "Australia/Sydney", "en", "core", "WO-2026-0003"),
]

LINES = {
    "core": [("proactive-credits", 200), ("onsite-support", 2)],
    "advanced": [
        ("proactive-credits", 500),
        ("dse", 200),
        ("developer-advanced", 400),
        ("rsm-add-on", 40),
    ],
    "performance": [
        ("proactive-credits", 1200),
        ("dse", 400),
        ("rapid-response", 1),
        ("developer-performance", 800),
    ],
}

DEFAULT_RATES = {
    "workshops": "12",
    "chalk-talks": "40",
    "assessment-program": "150",
    "offline-assessment": "90",
    "proactive-monitoring": "60",
    "pop": "80",
    "onboarding": "100",
    "proof-of-concept": "200",
    "security-services": "120",
    "adoption": "70",
    "custom-proactive": "1",
    "onsite-support": "50",
}


def _user(
    username,
    *,
    password,
    email,
    is_staff=False,
    is_superuser=False,
    role=Role.CUSTOMER_CONTACT,
    customer=None,
):
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "email": email,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
            "role": role,
            "customer": customer,
        },
    )
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


class Command(BaseCommand):
    help = "Load demo customers, work orders, credits and incidents (idempotent)."

    def handle(self, *args, **options):
        admin = _user(
            "admin",
            password="demo-admin-2026",
            email="admin@vendor.example",
            is_staff=True,
            is_superuser=True,
            role=Role.ADMINISTRATOR,
        )
        manager = _user(
            "manager",
            password="demo-manager-2026",
            email="manager@vendor.example",
            is_staff=True,
            role=Role.ACCOUNT_MANAGER,
        )
        _user(
            "auditor",
            password="demo-auditor-2026",
            email="auditor@vendor.example",
            is_staff=True,
            role=Role.READ_ONLY,
        )
        today = business_today()
        for code, value in DEFAULT_RATES.items():
            Rate.objects.get_or_create(
                service=Service.objects.get(code=code),
                customer=None,
                valid_from=today.replace(month=1, day=1),
                defaults={"credits_per_unit": Decimal(value)},
            )
        created = 0
        for code, name, country, subdiv, tz, lang, package, number in DEMO_CUSTOMERS:
            if WorkOrder.objects.filter(number=number).exists():
                continue
            with transaction.atomic():
                self._customer(
                    code, name, country, subdiv, tz, lang, package, number, manager, admin, today
                )
            created += 1
        self.stdout.write(
            f"demo data: {created} customer(s) created, {len(DEMO_CUSTOMERS) - created} already present"
        )

    def _customer(
        self, code, name, country, subdiv, tz, lang, package, number, manager, admin, today
    ):
        customer = Customer.objects.filter(code=code).first() or contracts.customer_create(
            code=code, name=name, country=country, timezone=tz, language=lang, by=admin
        )
        location = contracts.support_location_create(
            customer=customer,
            name=f"{name} HQ",
            country=country,
            subdivision=subdiv,
            timezone=tz,
            by=admin,
        )
        work_order = contracts.work_order_create(
            customer=customer,
            number=number,
            package=package,
            start_date=today - dt.timedelta(days=200),
            end_date=today + dt.timedelta(days=165),
            support_location=location,
            account_manager=manager,
            low_credit_threshold=50,
            by=manager,
        )
        for service_code, quantity in LINES[package]:
            contracts.work_order_line_add(
                work_order=work_order,
                service=Service.objects.get(code=service_code),
                quantity=Decimal(quantity),
                by=manager,
            )
        if package == "performance":
            contracts.work_order_update(
                work_order=work_order, deployment_docs_on_file=True, by=manager
            )
            work_order.refresh_from_db()
        domain = f"{code}.example"
        contact_user = _user(
            f"contact@{domain}",
            password="demo-contact-2026",
            email=f"contact@{domain}",
            customer=customer,
        )
        lead = contracts.named_contact_add(
            work_order=work_order,
            name="Sam Lead",
            email=f"contact@{domain}",
            phone="+31 20 555 0100",
            is_lead=True,
            user=contact_user,
            by=manager,
        )
        for i, person in enumerate(["Robin Jansen", "Alex de Vries", "Kim Bakker"], start=1):
            contracts.named_contact_add(
                work_order=work_order, name=person, email=f"person{i}@{domain}", by=manager
            )

        credits.credits_redeem(
            work_order=work_order,
            service=Service.objects.get(code="workshops"),
            quantity=Decimal(8),
            scheduled_for=today + dt.timedelta(days=30),
            delivery_mode="per_participant",
            # Seed §4.2.1: booked by the account manager with the vendor's written consent.
            vendor_consent=f"Vendor's mail of consent for {customer.name} workshops",
            by=manager,
        )
        now = timezone.now()
        delayed = incidents.incident_open(
            work_order=work_order,
            contact=lead,
            title="Mail flow delayed for a subset of users",
            severity="normal",
            product="Exchange Online",
            is_cloud=True,
            opened_at=now - dt.timedelta(hours=30),
            channel="phone",
            by=manager,
            description="Messages to external domains are delayed by up to two hours.",
        )
        responded = incidents.incident_open(
            work_order=work_order,
            contact=lead,
            title="SQL Server failover cluster does not come online",
            severity="critical",
            product="SQL Server",
            opened_at=now - dt.timedelta(minutes=20),
            channel="phone",
            by=manager,
            description="Production cluster down after patching.",
        )
        incidents.incident_respond(incident=responded, by=manager)
        # The incident desk (issue #17): an assignee, an internal note and a reply, and a
        # customer's open severity request for the queue's badge.
        incidents.incident_assign(incident=responded, assignee=manager, by=manager)
        incidents.incident_comment(
            incident=responded,
            body="Cluster log shows a quorum loss after the CU install; checking with the SQL team.",
            internal=True,
            by=manager,
        )
        incidents.incident_comment(
            incident=responded,
            body="We are on it. Could you send the cluster log? See https://learn.example/sql-cluster-logs",
            by=manager,
        )
        incidents.incident_request_severity_change(
            incident=delayed,
            severity="critical",
            reason="The delayed mail now includes our order confirmations.",
            by=contact_user,
        )
        incidents.incident_open(
            work_order=work_order,
            contact=lead,
            title="Question about Intune enrolment limits",
            severity="normal",
            product="Intune",
            by=contact_user,
            channel="web",
        )
