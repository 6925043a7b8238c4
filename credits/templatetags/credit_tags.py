"""Template helpers of the credit pages."""

from django import template

from credits.display import entry_text

register = template.Library()


@register.filter
def ledger_text(entry) -> str:
    """A ledger entry's reason in the reader's language (credits.display)."""
    return entry_text(entry)
