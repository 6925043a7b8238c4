"""Django permission groups that follow the staff roles, so the admin honours them.

accounts.permissions decides for the portal's own views and the API; the Django
admin asks model permissions. One group per staff role carries them, and a staff
user's groups follow `User.role` on every save:

- administrator: every permission of the portal's apps, users included;
- account manager: view, add and change on the domain (catalogue, work orders,
  lines, contacts, locations, rates, redemptions, incidents, targets, webhooks) and
  API keys; view only on ledger entries, history and sweep records; no deletes;
- read-only staff: view only.

The groups are created and refreshed after every `migrate` (post_migrate), when all
permissions exist.
"""

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

from accounts.choices import Role

PORTAL_APPS = (
    "accounts",
    "services",
    "contracts",
    "credits",
    "incidents",
    "notifications",
    "core",
)
#: Models an account manager may only look at: append-only or machine-written records.
VIEW_ONLY_MODELS = {
    "creditentry",
    "creditaccount",
    "deadlineevent",
    "incidentevent",
    "outboxmessage",
    "sweeprun",
    "webhookdelivery",
    "webhookattempt",
    "idempotencyrecord",
    "deadlinerecomputation",
    "workordernotice",
    "user",
}

GROUP_NAMES = {
    Role.ADMINISTRATOR: "Administrators",
    Role.ACCOUNT_MANAGER: "Account managers",
    Role.READ_ONLY: "Read-only staff",
}


def _role_permissions(role: str):
    perms = Permission.objects.filter(content_type__app_label__in=PORTAL_APPS)
    if role == Role.ADMINISTRATOR:
        return perms
    view = perms.filter(codename__startswith="view_")
    if role == Role.READ_ONLY:
        return view
    writable = perms.filter(
        Q(codename__startswith="add_") | Q(codename__startswith="change_")
    ).exclude(content_type__model__in=VIEW_ONLY_MODELS)
    return view | writable


def sync_role_groups(**kwargs) -> None:
    """Create the role groups and set their permissions (post_migrate receiver)."""
    for role, name in GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(_role_permissions(role))


def user_sync_role_group(user) -> None:
    """Put a staff user in exactly the group of its role (none for customer contacts)."""
    ours = Group.objects.filter(name__in=GROUP_NAMES.values())
    user.groups.remove(*ours)
    name = GROUP_NAMES.get(user.role) if user.is_staff else None
    if name:
        group = Group.objects.filter(name=name).first()
        if group is not None:
            user.groups.add(group)
