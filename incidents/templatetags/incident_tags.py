"""Template helpers of incident pages: the timeline's text in the viewer's language."""

from django import template

from incidents.timeline import describe as _describe

register = template.Library()


@register.filter
def describe(event) -> str:
    """An IncidentEvent as a sentence in the active language and zone (incidents.timeline)."""
    return _describe(event)


@register.filter
def target_rule(incident) -> str:
    """The incident's response-target rule in the reader's language (stored text is English)."""
    from incidents.explain import shown_rule

    return shown_rule(
        stored=incident.target_rule,
        package=incident.work_order.package,
        severity=incident.severity,
        minutes=incident.target_minutes,
        clock=incident.target_clock,
        around_the_clock=incident.around_the_clock,
    )
