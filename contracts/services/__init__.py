"""Writes for customers, support locations, work orders, lines and named contacts.

Every function is keyword-only, runs inside `transaction.atomic()` and raises
`RuleViolation` (bad input) or `Conflict` (limit or state) naming the rule before
anything is written. The checks live in `contracts.rules`, shared with the admin forms,
so the admin cannot bypass a rule. History rows record `by` (an ApiKeyActor records
the staff member who made the key). A package (NetBox's pattern) only to stay short:
import from `contracts.services`, never from its modules.
"""

from contracts.rules import stamp as _stamp
from contracts.services.lifecycle import (
    CUSTOMER_FIELDS,
    EXTEND_EXPIRE,
    EXTEND_KEEP,
    contact_change_decide,
    contact_change_propose,
    contact_invitation_accept,
    contacts_csv_parse,
    customer_update,
    invitation_for_token,
    named_contact_deactivate,
    named_contact_invite,
    named_contacts_import,
    unused_entitlements,
    work_order_extend,
    work_order_renew,
)
from contracts.services.locations import (
    CALENDAR_FIELDS,
    HOLIDAY_YEARS,
    LOCATION_FIELDS,
    check_opening_hours,
    closure_day_set,
    customer_create,
    support_location_create,
    support_location_sync_holidays,
    support_location_update,
    timezone_now_year,
    weekday_hours_from,
)
from contracts.services.work_orders import (
    CONTACT_FIELDS,
    WORK_ORDER_FIELDS,
    named_contact_add,
    named_contact_update,
    work_order_create,
    work_order_line_add,
    work_order_line_remove,
    work_order_line_update,
    work_order_terminate,
    work_order_update,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "EXTEND_EXPIRE",
    "EXTEND_KEEP",
    "contact_change_decide",
    "contact_change_propose",
    "contact_invitation_accept",
    "contacts_csv_parse",
    "customer_update",
    "invitation_for_token",
    "named_contact_deactivate",
    "named_contact_invite",
    "named_contacts_import",
    "unused_entitlements",
    "work_order_extend",
    "work_order_renew",
    "CALENDAR_FIELDS",
    "CONTACT_FIELDS",
    "HOLIDAY_YEARS",
    "LOCATION_FIELDS",
    "WORK_ORDER_FIELDS",
    "check_opening_hours",
    "_stamp",
    "closure_day_set",
    "customer_create",
    "named_contact_add",
    "named_contact_update",
    "support_location_create",
    "support_location_sync_holidays",
    "support_location_update",
    "weekday_hours_from",
    "timezone_now_year",
    "work_order_create",
    "work_order_line_add",
    "work_order_line_remove",
    "work_order_line_update",
    "work_order_terminate",
    "work_order_update",
]
