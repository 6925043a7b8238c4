"""Domain errors raised by service functions.

`RuleViolation` is bad input against a rule of DOMAIN.md (API: 400, forms: a field
error); `NotAllowed` an actor who may not do what it asked (API: 403); `Conflict` is a clash with the current state, such as a limit reached, a
short balance or a stale version (API: 409). Both carry the rule they enforce so
the message can name it, and neither leaves anything written: service functions
raise before saving or inside a transaction that rolls back.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext


class DomainError(Exception):
    def __init__(self, message: str, *, rule: str = "", field: str | None = None, code: str = ""):
        super().__init__(message)
        self.message = str(message)
        self.rule = rule
        self.field = field
        self.code = code or rule.lower() or "invalid"

    @property
    def message_dict(self) -> dict[str, list[str]]:
        return {self.field or "non_field_errors": [self.message]}


class RuleViolation(DomainError):
    """Bad input: breaks a rule (400)."""


class Conflict(DomainError):
    """Clashes with the current state: limit reached, balance short, stale version (409)."""


class NotAllowed(DomainError, PermissionDenied):
    """The actor may not do this: not staff, read-only staff, another customer (API: 403).

    Also Django's PermissionDenied, so a view that does not catch it answers 403; a view
    that shows domain errors on its form shows this one there too."""

    def __init__(self, message: str, *, rule: str = "", field: str | None = None, code: str = ""):
        super().__init__(message, rule=rule, field=field, code=code or "not_allowed")


class TooLarge(RuleViolation):
    """An upload above its size limit (API: 413, forms: a field error)."""


class StaleVersion(Conflict):
    """The object changed since the caller read it (optimistic locking)."""

    def __init__(self, message: str | None = None):
        # Translated when raised: in the language of the request that hit the stale version.
        if message is None:
            message = gettext(
                "This record was changed by someone else meanwhile; reload and try again."
            )
        super().__init__(message, code="stale_version")
