"""Admin building blocks shared by the apps: saves through services, read-only lists."""

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponseRedirect
from simple_history.admin import SimpleHistoryAdmin

from core.errors import DomainError


def add_domain_error(form, exc: DomainError) -> None:
    """Show a rule as an error on its field when the form has it, else on the form."""
    field = exc.field if exc.field in form.fields else None
    form.add_error(field, exc.message)


def copy_fields(target, source) -> None:
    """Make the admin's in-memory object the row a service function saved."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
    target._state.adding = False
    target._state.db = source._state.db


class DomainErrorsAdmin(SimpleHistoryAdmin):
    """Turn a rule that fails during save into an error message, with nothing written."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            # The admin's own atomic block is inside; this one makes sure a failing
            # service call rolls back everything the same submit wrote.
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


class ReadOnlyAdminMixin:
    """Visible to staff, never added, changed or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
