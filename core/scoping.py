"""Tenant scoping: the one door through which every view and endpoint reads.

An *actor* is whoever makes the request: a staff user, a customer contact's user,
or an API key (wrapped as `accounts.authentication.ApiKeyActor`). Every actor has
`is_authenticated`, `is_staff` and `customer_id`. Staff see everything; anyone else
sees only rows of their own customer; anonymous actors see nothing.

Each model whose rows belong to a customer uses a manager built from
`ScopedQuerySet` and names the lookup path to its customer in `customer_path`
(NetBox's `restrict()`, healthchecks' `_get_check_for_user`).
"""

from django.db import models


def actor_customer_id(actor) -> int | None:
    """The customer an actor is confined to, or None for staff (and for nobody)."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return None
    if getattr(actor, "is_staff", False):
        return None
    return getattr(actor, "customer_id", None)


def actor_is_staff(actor) -> bool:
    return bool(
        actor is not None
        and getattr(actor, "is_authenticated", False)
        and getattr(actor, "is_staff", False)
    )


class ScopedQuerySet(models.QuerySet):
    #: lookup path from this model to contracts.Customer, e.g. "work_order__customer"
    customer_path: str = "customer"

    def visible_to(self, actor):
        """Rows this actor may see: all for staff, their customer's for others."""
        if actor is None or not getattr(actor, "is_authenticated", False):
            return self.none()
        if getattr(actor, "is_staff", False):
            return self
        customer_id = getattr(actor, "customer_id", None)
        if customer_id is None:
            return self.none()
        return self.filter(**{self.customer_path: customer_id})


def scoped_queryset(path: str) -> type[ScopedQuerySet]:
    """A ScopedQuerySet subclass bound to a customer lookup path."""
    return type(
        f"ScopedQuerySet_{path.replace('__', '_')}", (ScopedQuerySet,), {"customer_path": path}
    )
