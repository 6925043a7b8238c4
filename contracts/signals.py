"""Signals contracts sends so that apps depending on it can keep in step.

Dependencies point one way (services <- contracts <- credits, incidents), so contracts
cannot call credits or incidents. Both signals are sent by contracts' service functions
inside their transaction; see docs/ARCHITECTURE.md.
"""

from django.dispatch import Signal

#: A work-order line was added, its quantity changed, or it is about to be removed:
#: kwargs line, created, by, and removed=True (sent before the delete, in its transaction).
line_changed = Signal()
#: A support location's hours or closed days changed: kwargs location, by.
calendar_changed = Signal()
#: A term is extended and its unused entitlements expire now (R14): kwargs work_order, by.
term_extended = Signal()
#: The customer's lead contact proposed a contact change (R25): kwargs request, by.
contact_change_proposed = Signal()
#: Staff accepted or declined a proposed contact change (R25): kwargs request, by.
contact_change_decided = Signal()
