"""Form helpers shared by the apps' pages: a service's domain error shown on the form."""

import datetime as dt
from contextlib import contextmanager

from django import forms
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.text import DATE_MAX, DATE_MIN, date_in_range, multi_line_error, single_line_error


def put_error(form, error: DomainError) -> None:
    """A service's RuleViolation/Conflict onto the form: next to its field, else on top."""
    field = (
        error.field
        if error.field in form.fields and not form.fields[error.field].widget.is_hidden
        else None
    )
    form.add_error(field, error.message)


@contextmanager
def errors_onto(form):
    """Run a service call; a DomainError it raises goes onto `form` and the block stops there.

    The rest of the block (the success message and redirect) runs only when nothing was
    raised, so a view falls through to re-rendering the form with the error on it.
    """
    try:
        yield
    except DomainError as exc:
        put_error(form, exc)


class PortalForm(forms.Form):
    """Every page form's base: single-line text fields (a text input, not a textarea)
    hold no control characters, a textarea none but tab and line breaks, and dates lie
    in DATE_MIN..DATE_MAX (core.text). Each refusal is a form error on its field."""

    def _clean_fields(self):
        super()._clean_fields()
        for name, field in self.fields.items():
            if name not in self.cleaned_data:
                continue
            value = self.cleaned_data[name]
            error = None
            if isinstance(value, str) and isinstance(field, forms.CharField):
                if isinstance(field.widget, forms.Textarea):
                    if multi_line_error(value):
                        error = _("Control characters are not allowed here.")
                elif single_line_error(value):
                    error = _("Must be one line of text without control characters.")
            elif isinstance(value, dt.date) and not date_in_range(value):
                error = _("Must be a date from %(min)s to %(max)s.") % {
                    "min": DATE_MIN,
                    "max": DATE_MAX,
                }
            if error:
                self.add_error(name, error)
