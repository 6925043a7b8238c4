"""Template helpers of the web portal: query strings, SLA states, numbers."""

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from core import formatting
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


# ---- the formatting layer (core/formatting.py) as filters -----------------------------------


@register.filter
def num(value, decimals=None):
    """A localized number, trailing zeros dropped, never E-notation (12.50 -> 12.5 / 12,5)."""
    return formatting.number(value, None if decimals in (None, "") else int(decimals))


@register.filter
def about(value):
    """An estimated count to two figures, localized (48022 -> 48,000 / 48.000)."""
    return formatting.approximately(value)


@register.filter
def qty(value, unit):
    """A quantity with its unit in singular or plural: {{ line.quantity|qty:line.unit }}."""
    return formatting.quantity(value, unit)


@register.filter
def unit_name(unit, value=2):
    return formatting.unit_name(unit, value)


@register.filter
def credits(value):
    return formatting.credits(value)


@register.filter
def hours(value):
    return formatting.hours(value)


@register.filter
def money(value, currency="EUR"):
    return formatting.money(value, currency or "EUR")


@register.filter
def pct(value):
    return formatting.percent(value)


@register.filter
def day(value):
    return formatting.fmt_date(value, "day")


@register.filter
def moment(value):
    return formatting.fmt_date(value, "moment")


@register.filter
def short_moment(value):
    return formatting.fmt_date(value, "short_moment")


@register.filter
def long_day(value):
    return formatting.fmt_date(value, "long_day")


class PlainWordsNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        html = self.nodelist.render(context)
        user = context.get("user")
        if user is not None and getattr(user, "is_staff", False):
            return html
        return mark_safe(formatting.plain_words(html))


@register.tag
def plainwords(parser, token):
    """{% plainwords %}...{% endplainwords %}: rule numbers (R1..R27) taken out for customers;
    staff keep them (their explanations cite the rules)."""
    nodelist = parser.parse(("endplainwords",))
    parser.delete_first_token()
    return PlainWordsNode(nodelist)


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


@register.filter
def plain(value):
    """Digits for an <input type=number> value (never localized, never E-notation)."""
    return formatting.plain_decimal(value)
