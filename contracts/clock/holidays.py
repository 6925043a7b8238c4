"""Public holidays for closed dates (R5), from the pinned ``holidays`` package.

The package is imported inside the functions: only calendar set-up needs its tables,
not the clock arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from contracts.clock.base import CalendarError


def holiday_language(country: str, language: str | None) -> str | None:
    """The ``holidays`` language code for names in `language` ("nl", "en"), or None.

    The package names each country's holidays in its own language by default and
    offers a few translations (``supported_languages``: "nl", "en_US", "fr", ...).
    `language` is used when offered (exactly, or as its regional variant), else
    English; None (the package default) when the country offers neither.
    """
    import holidays

    try:
        supported = holidays.country_holidays(country).supported_languages
    except NotImplementedError:
        return None
    for wanted in (language or "", "en"):
        if not wanted:
            continue
        if wanted in supported:
            return wanted
        variants = sorted(s for s in supported if s.split("_")[0] == wanted)
        if variants:
            # en_GB before en_US: European customers write the day-month way.
            return variants[0]
    return None


def public_holidays(
    country: str,
    subdivision: str | None,
    years: Iterable[int],
    *,
    language: str | None = None,
) -> dict[date, str]:
    """Public holidays of a country (and subdivision) in the given years (R5).

    Straight from the pinned ``holidays`` package, public category only, with its
    default ``observed=True``: substitute days ("Christmas Day (observed)" on a
    Monday in NSW, Mondayised days in NZ, US federal observed days) are included,
    because in those countries they are the statutory days off and the office is
    closed on them. A date can carry several names, joined by "; ".

    Observed days of one year's holiday can fall in the year before (US New Year's
    Day 2028 is observed on Friday 31 December 2027, listed with 2027), so ask for
    one year either side of the span you care about.

    ``language`` ("nl", "en"; see holiday_language) names them in that language where
    the package offers it; None keeps the country's own language.
    """
    import holidays  # imported here: only calendar set-up needs the holiday tables

    try:
        found = holidays.country_holidays(
            country,
            subdiv=subdivision,
            years=list(years),
            language=holiday_language(country, language) if language else None,
        )
    except NotImplementedError as exc:
        raise CalendarError(str(exc)) from exc
    return dict(sorted(found.items()))
