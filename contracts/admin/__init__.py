"""Admin for account managers: customers, locations, work orders with lines and contacts.

Saves go through contracts.services, and every form's clean() calls the same rule
checks (contracts.rules) first, so R1, R12 and R13 show as form errors and the admin
cannot bypass them. A rule that still fails at save time (a concurrent change) rolls
the whole save back and is shown as an error message.

Django's admin autodiscovery imports this package; importing its modules registers
their models.
"""

from contracts.admin import contacts, customers, work_orders

__all__ = ["contacts", "customers", "work_orders"]
