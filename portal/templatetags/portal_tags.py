"""Template helpers of the web portal: query strings, SLA states, numbers."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from incidents.display import sla_label, sla_state

register = template.Library()


@register.simple_tag(takes_context=True)
def query_replace(context, **changes):
    """The current query string with some parameters replaced (keeps filters when paging)."""
    params = context["request"].GET.copy()
    for key, value in changes.items():
        params[key] = value
    return params.urlencode()


# The SLA clock's colour and words, from incidents (the CSV export uses them too).
register.filter("sla_state", sla_state)
register.filter("sla_label", sla_label)


@register.filter
def num(value):
    """A decimal without trailing zeros (12.50 -> 12.5, 8.00 -> 8)."""
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        value = value.normalize()
        return f"{value:f}"
    return value


@register.filter
def minutes_human(minutes):
    """240 -> '4 h', 30 -> '30 min', 90 -> '1 h 30 min'."""
    if minutes in (None, ""):
        return ""
    minutes = int(minutes)
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


@register.filter
def get_item(mapping, key):
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def percent(part, whole):
    try:
        return int(round(100 * float(part) / float(whole))) if whole else 0
    except (TypeError, ValueError):
        return 0


@register.filter
def wo_status(code):
    """The translated label of a work order's derived status."""
    from contracts.choices import WorkOrderStatus

    try:
        return WorkOrderStatus(code).label
    except ValueError:
        return code


@register.filter
def avail(service, package):
    """A service's availability code in a package (included, add_on, limited, unavailable)."""
    return service.availability_for(package)


@register.filter
def avail_label(code):
    from services.choices import Availability

    try:
        return Availability(code).label
    except ValueError:
        return code
