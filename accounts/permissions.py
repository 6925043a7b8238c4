"""Staff roles and what each may do, for the web UI and the API alike.

Roles (accounts.choices.Role):
- administrator: everything, including managing users and API keys;
- account_manager: changes contracts, balances and incidents;
- read_only: sees everything, changes nothing;
- customer_contact: its own customer's data only (scoping: `visible_to`), and the
  customer's own actions (filing incidents, redeeming credits, comments).

An actor is a `User` or an `accounts.authentication.ApiKeyActor`. A staff API key
(no customer) acts as an editor: keys are made by administrators for tools that
write. The predicates below are the one place that decides; views use the mixins
and decorators, API views the DRF permission classes, and templates
`{% if perms_can_edit %}` through portal's context processor or `can_edit(user)`.
portal.middleware.ReadOnlyStaffMiddleware is the safety net for views that forget.
"""

from functools import wraps

from django.contrib.auth.mixins import AccessMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.choices import Role

EDITOR_ROLES = (Role.ADMINISTRATOR, Role.ACCOUNT_MANAGER)


def is_authenticated(actor) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False))


def is_staff(actor) -> bool:
    """Vendor staff of any role (they see every customer)."""
    return is_authenticated(actor) and bool(getattr(actor, "is_staff", False))


def is_api_key(actor) -> bool:
    return hasattr(actor, "api_key")


def can_edit(actor) -> bool:
    """Staff who may change contracts, balances and incidents: administrators, account
    managers, superusers and staff API keys; never read-only staff."""
    if not is_staff(actor):
        return False
    if is_api_key(actor) or getattr(actor, "is_superuser", False):
        return True
    return getattr(actor, "role", None) in EDITOR_ROLES


def can_administer(actor) -> bool:
    """Administrators: users, roles and API keys."""
    if not is_staff(actor) or is_api_key(actor):
        return False
    return bool(
        getattr(actor, "is_superuser", False) or getattr(actor, "role", None) == Role.ADMINISTRATOR
    )


def is_read_only_staff(actor) -> bool:
    return is_staff(actor) and not can_edit(actor)


def can_act_for_customer(actor) -> bool:
    """Customer-side actions (file an incident, redeem credits, comment): a customer's
    user or key acts for its own customer; staff only if they may edit."""
    if not is_authenticated(actor):
        return False
    return can_edit(actor) if is_staff(actor) else getattr(actor, "customer_id", None) is not None


def require_edit(actor) -> None:
    """Raise PermissionDenied unless the actor may edit (for service-calling code paths)."""
    if not can_edit(actor):
        raise PermissionDenied("You may not change this.")


# --- DRF permission classes -----------------------------------------------------------


class IsStaffEditorOrReadOnly(BasePermission):
    """Reads for any authenticated actor (scoping decides what they see); writes only by
    staff editors or by customers acting for themselves. Read-only staff get 403 on
    every write. Put it next to IsAuthenticated on any endpoint both sides use."""

    message = "Read-only staff cannot change anything."

    def has_permission(self, request, view):
        if not is_authenticated(request.user):
            return False
        if request.method in SAFE_METHODS:
            return True
        return can_act_for_customer(request.user)


class IsStaff(BasePermission):
    """Staff of any role; safe methods only for read-only staff."""

    message = "Staff only."

    def has_permission(self, request, view):
        if not is_staff(request.user):
            return False
        return request.method in SAFE_METHODS or can_edit(request.user)


class IsStaffEditor(BasePermission):
    """Staff editors only, for reads and writes (staff-only write endpoints)."""

    message = "Only administrators and account managers may do this."

    def has_permission(self, request, view):
        return can_edit(request.user)


class IsStaffOrCustomerReadOnly(BasePermission):
    """Staff editors write; read-only staff and customers read (work orders, rates)."""

    def has_permission(self, request, view):
        if not is_authenticated(request.user):
            return False
        return request.method in SAFE_METHODS or can_edit(request.user)


class IsAdministrator(BasePermission):
    def has_permission(self, request, view):
        return can_administer(request.user)


# --- Web UI: mixins and decorators ----------------------------------------------------


class StaffRequiredMixin(AccessMixin):
    """Staff of any role may view; writes (non-safe methods) need an editor."""

    def dispatch(self, request, *args, **kwargs):
        user = request.user
        if not user.is_authenticated:
            return self.handle_no_permission()
        if not is_staff(user) or (request.method not in SAFE_METHODS and not can_edit(user)):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class StaffEditorRequiredMixin(AccessMixin):
    """Administrators and account managers only (create/edit pages)."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if not can_edit(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class EditorWritesMixin(AccessMixin):
    """Pages both sides use: anyone signed in reads; writes by editors or customers
    acting for themselves, never by read-only staff."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if request.method not in SAFE_METHODS and not can_act_for_customer(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


def _guard(check):
    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


#: Staff of any role may view; writes need an editor.
staff_required = _guard(
    lambda r: is_staff(r.user) and (r.method in SAFE_METHODS or can_edit(r.user))
)
#: Administrators and account managers only.
staff_editor_required = _guard(lambda r: can_edit(r.user))
#: Anyone signed in reads; writes by editors or customers acting for themselves.
editor_writes = _guard(lambda r: r.method in SAFE_METHODS or can_act_for_customer(r.user))
