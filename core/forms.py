"""Form helpers shared by the apps' pages: a service's domain error shown on the form."""

from contextlib import contextmanager

from core.errors import DomainError


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
