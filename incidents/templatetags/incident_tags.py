"""Template helpers of incident pages: the timeline's text in the viewer's language."""

from django import template
from django.utils.translation import gettext as _

from incidents.timeline import describe as _describe

register = template.Library()

#: The labels core.actors stores for who is not a person, as the reader's words.
_ACTOR_WORDS = {
    "system": lambda: _("system"),
    "staff": lambda: _("staff"),
    "customer": lambda: _("customer"),
}


@register.filter
def author(event) -> str:
    """Who wrote a timeline entry, in the reader's language: a person's or a key's name as
    stored, the stored word "system" (or no author at all) translated."""
    label = event.author_label or (str(event.author) if event.author_id else "system")
    word = _ACTOR_WORDS.get(label)
    return word() if word else label


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
