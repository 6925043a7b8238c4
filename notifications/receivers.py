"""Receivers of contracts.signals that write e-mails to the outbox, in the sender's
transaction: a lead contact's proposed contact change goes to the account manager, and
staff's decision goes back to the lead contact (R25), each in the reader's language."""

from django.dispatch import receiver
from django.utils.translation import gettext as _

from contracts.models import NamedContact
from contracts.signals import contact_change_decided, contact_change_proposed
from notifications.choices import Event
from notifications.localize import contact_reader, localized_notify, staff_reader


def _what(request) -> str:
    """The proposed change in a line: the contact's name and the fields to set."""
    fields = ", ".join(f"{k}: {v}" for k, v in sorted(request.proposed.items()))
    if request.contact_id is None:
        return _("a new contact (%(fields)s)") % {"fields": fields}
    return _("%(name)s (%(fields)s)") % {"name": request.contact.name, "fields": fields}


@receiver(contact_change_proposed, dispatch_uid="notifications.contact_change_proposed")
def tell_the_account_manager(sender, request, by, **kwargs):
    work_order = request.work_order
    manager = work_order.account_manager
    if manager is None:
        return  # Nobody to tell: the proposal waits on the work order's page.
    proposer = request.proposed_by.get_full_name() or request.proposed_by.get_username()

    def render():
        subject = _("%(number)s: contact change proposed by %(who)s") % {
            "number": work_order.number,
            "who": proposer,
        }
        body = _(
            "%(who)s, the lead contact of %(customer)s, proposes a change to the named "
            "contacts of work order %(number)s: %(what)s.\n%(note)s\n"
            "Accept or decline it on the work order's contacts page."
        ) % {
            "who": proposer,
            "customer": work_order.customer.name,
            "number": work_order.number,
            "what": _what(request),
            "note": request.note,
        }
        return subject, body

    localized_notify(
        readers=[staff_reader(manager)],
        render=render,
        webhook=False,
        event=Event.CONTACT_CHANGE_PROPOSED,
        key=f"contact_change:{request.pk}:proposed",
        customer=work_order.customer,
        payload={"work_order": work_order.pk, "contact_change": request.pk},
    )


@receiver(contact_change_decided, dispatch_uid="notifications.contact_change_decided")
def tell_the_lead_contact(sender, request, by, **kwargs):
    work_order = request.work_order
    lead = (
        NamedContact.objects.filter(work_order=work_order, user=request.proposed_by)
        .select_related("user")
        .first()
    )
    if lead is None:
        return
    accepted = request.state == request.State.ACCEPTED

    def render():
        if accepted:
            subject = _("%(number)s: your contact change was accepted") % {
                "number": work_order.number
            }
            body = _("Your proposed change to the named contacts, %(what)s, was accepted.")
        else:
            subject = _("%(number)s: your contact change was declined") % {
                "number": work_order.number
            }
            body = _(
                "Your proposed change to the named contacts, %(what)s, was declined. "
                "Your account manager can tell you why."
            )
        return subject, body % {"what": _what(request)}

    localized_notify(
        readers=[contact_reader(lead, work_order)],
        render=render,
        webhook=False,
        event=Event.CONTACT_CHANGE_DECIDED,
        key=f"contact_change:{request.pk}:decided",
        customer=work_order.customer,
        payload={"work_order": work_order.pk, "contact_change": request.pk, "state": request.state},
    )
