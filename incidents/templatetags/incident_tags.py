"""Template helpers of incident pages: the timeline's text in the viewer's language."""

from django import template

from incidents.timeline import describe as _describe

register = template.Library()


@register.filter
def describe(event) -> str:
    """An IncidentEvent as a sentence in the active language and zone (incidents.timeline)."""
    return _describe(event)
