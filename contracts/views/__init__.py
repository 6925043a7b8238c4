"""Staff pages of the contracts app: customers, work orders, the work-order editor
(header, term, lines, named contacts, support location) and its history.

Reads go through `visible_to(request.user)`; every write calls contracts.services, and
a RuleViolation/Conflict is shown next to the field it names (or above the form).
Split into modules by page so none grows past ~600 lines.
"""

from contracts.views.common import put_error
from contracts.views.customers import customer_create, customer_detail, customer_list
from contracts.views.editor import (
    calendar_preview,
    closure_set,
    contact_add,
    contact_edit,
    editor_context,
    line_add,
    line_remove,
    line_update,
    location_preview,
    location_update,
    work_order_edit,
    work_order_terminate,
)
from contracts.views.work_orders import work_order_create, work_order_history, work_order_list

__all__ = [
    "calendar_preview",
    "closure_set",
    "contact_add",
    "contact_edit",
    "customer_create",
    "customer_detail",
    "customer_list",
    "editor_context",
    "line_add",
    "line_remove",
    "line_update",
    "location_preview",
    "location_update",
    "put_error",
    "work_order_create",
    "work_order_edit",
    "work_order_history",
    "work_order_list",
    "work_order_terminate",
]
