"""Fuzz (#22): hostile strings in every web form that writes, as staff and as a customer.

The forms are discovered, not listed: every named URL pattern of the UI (the URLconf,
filled with customer A's objects as tests/security/test_isolation.py does) is opened
with GET by staff and by customer A's contact, and every `<form method="post">` on those
pages is read (its action, its fields and their values as shown). A URL pattern that
accepts POST (an empty POST is not 405) is a form that writes; each one must have been
found on a page, or be named in POST_WITHOUT_A_FORM with its fields.

Each form is then posted with the values it showed and one field replaced by a hostile
string (NUL, control characters, a 10,000-character word, RTL and bidi marks, line and
paragraph separators, extreme dates and numbers), chosen by hypothesis, by every persona
who saw it (staff; customer A where A's pages show it). Asserted per case: no 5xx; the
answer is a redirect (done), a 4xx, or the page again with an error shown; and when it
is not a redirect nothing was written (every table of the project's apps, history tables
included, counted in one query). Each case runs in a savepoint rolled back afterwards,
so every form starts from the same data. FORM_CASES counts what ran.
"""

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.urls import Resolver404, get_resolver, resolve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.security.test_isolation import (
    SKIPPED_PREFIXES,
    _fill,
    _url_for,
    _walk,
    world,  # noqa: F401 (the fixture, shared)
)

pytestmark = pytest.mark.django_db

EXAMPLES = 4
FORM_CASES = {"count": 0, "forms": 0}

#: Not fuzzed: logging out ends the session every other case runs in; the API has its
#: own fuzz (tests/api/test_fuzz_writes.py); Django's login and password-reset views
#: are fuzzed, but anonymously they are not this test's concern.
NOT_FUZZED = {"logout"}

#: POST views with no <form> on any page (htmx or script posts): their fields, so they
#: are fuzzed all the same. A new POST view without a form and not listed here fails.
POST_WITHOUT_A_FORM = {
    "incidents:queue_marker": {"incidents": "{incident}", "marker": "seen"},
    "incidents:marker": {"marker": "seen"},
    "contracts:location_preview": {
        "timezone": "Europe/Amsterdam",
        "opens_at": "09:00",
        "closes_at": "17:30",
    },
    "incidents:preview": {"title": "Printer", "description": "It is down", "severity": "B"},
}

#: Steps that answer a valid POST with a page, writing nothing: a quote to confirm, a preview.
PREVIEWS = {"credits:redeem", "incidents:preview", "contracts:location_preview"}

HOSTILE = [
    "\x00",
    "a\x00b",
    "line\r\nBcc: x@example.com",
    "\x1b[31m\x07\x08",
    "\u202eevil\u202c",
    "\u200f\u200e\u2066\u2069",
    "\u2028\u2029",
    "\ufeff",
    "x" * 10_000,
    " ",
    "",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2026-02-30",
    "-1",
    "0",
    "1e309",
    "NaN",
    "-Infinity",
    "99999999999999999999999",
    "2147483648",
    "-9223372036854775809",
    "0.0000000000000000000001",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
]
# Form encoding cannot carry lone surrogates; every other code point may come.
HOSTILE_TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(
        alphabet=st.characters(
            codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Lo", "Nd", "Mn"]
        ),
        max_size=30,
    ),
)

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
    database=None,
)

ERROR_SHOWN = re.compile(
    rb'class="errorlist|role="alert"|class="[^"]*\berror\b|aria-invalid="true"'
)


class _Forms(HTMLParser):
    """Every <form method=post>: (action, {field: value}) as the page shows it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[tuple[str, dict]] = []
        self._form = None
        self._select = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                self._form = (a.get("action") or "", {})
                self.forms.append(self._form)
            else:
                self._form = None
            return
        if self._form is None:
            return
        fields = self._form[1]
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                if kind == "submit" and a.get("value") is not None:
                    fields.setdefault(name, a.get("value"))
                return
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    fields[name] = a.get("value") or "on"
                else:
                    fields.setdefault(name, None)  # known, not sent unless chosen
                return
            fields.setdefault(name, a.get("value") or "")
        elif tag == "select" and name:
            self._select = name
            fields.setdefault(name, "")
        elif tag == "option" and self._select:
            if "selected" in a or fields.get(self._select) in ("", None):
                if a.get("value"):
                    fields[self._select] = a["value"]
        elif tag == "textarea" and name:
            self._textarea = name
            fields.setdefault(name, "")
        elif tag == "button" and name and a.get("value") is not None:
            fields.setdefault(name, a["value"])

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form[1][self._textarea] = (self._form[1][self._textarea] or "") + data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _ui_patterns():
    out = []
    for route, name, _p in _walk(get_resolver().url_patterns):
        if not name or route.startswith(SKIPPED_PREFIXES) or route.startswith("api/"):
            continue
        out.append((route, name))
    return out


def _tables() -> list[str]:
    ours = {"accounts", "services", "contracts", "notifications", "credits", "incidents"}
    ours |= {"reviews", "portal"}
    return sorted(
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label in ours and m._meta.managed
    )


def _counts(tables) -> tuple:
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()


def _name_of(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


def _clients(world, staff_user):  # noqa: F811
    staff = Client(raise_request_exception=False)
    staff.force_login(staff_user)
    customer = Client(raise_request_exception=False)
    customer.force_login(world["user_a"])
    return {"staff": staff, "customer": customer}


def _discover(urls, clients):
    """{(url name, action path): {persona: fields}} from every page, and {url name: path}
    of the patterns that accept POST."""
    found: dict[tuple[str, str], dict[str, dict]] = {}
    for persona, client in clients.items():
        for url in urls.values():
            response = client.get(url)
            if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                continue
            parser = _Forms()
            parser.feed(response.content.decode("utf-8", "replace"))
            for action, fields in parser.forms:
                path = urlsplit(action).path or urlsplit(url).path
                target = _name_of(path)
                if target is None:
                    continue
                found.setdefault((target, path), {}).setdefault(persona, fields)
    # POST-only views (GET is 405): each must be fuzzed. Views answering GET and POST
    # alike are covered through the forms their pages show.
    post_only = {}
    for name, url in urls.items():
        if name not in NOT_FUZZED and clients["staff"].get(url).status_code == 405:
            post_only[name] = url
    return found, post_only


TEMPLATE_FORM = re.compile(
    r"<form\b[^>]*\bmethod=\"post\"[^>]*\baction=\"\{% url '([\w:]+)'(.*?)</form>", re.S | re.I
)


def _template_forms() -> dict[str, set[str]]:
    """{url name: field names} of every POST form written in a template: the forms a
    page shows only in some states (a closed incident's rating, a Performance work
    order's critical situation) are fuzzed with these names when no page showed them."""
    from pathlib import Path

    from django.conf import settings as dj

    out: dict[str, set[str]] = {}
    roots = [Path(d) for t in dj.TEMPLATES for d in t.get("DIRS", [])]
    for root in roots:
        for html in root.rglob("*.html"):
            for name, body in TEMPLATE_FORM.findall(html.read_text()):
                names = set(re.findall(r'\bname="([\w-]+)"', body)) - {"csrfmiddlewaretoken"}
                out.setdefault(name, set()).update(names)
    return out


def _fuzz_one_form(client, path, fields, tables):
    preview = _name_of(path) in PREVIEWS
    sendable = {k: v for k, v in fields.items() if v is not None}

    @FUZZ
    @given(field=st.sampled_from(sorted(fields)), value=HOSTILE_TEXT)
    def one(field, value):
        cache.clear()  # throttles count requests; they are not what is tested here
        FORM_CASES["count"] += 1
        with transaction.atomic():
            before = _counts(tables)
            response = client.post(path, {**sendable, field: value})
            status = response.status_code
            assert status < 500, (path, field, value[:40], status)
            if not 300 <= status < 400:
                assert _counts(tables) == before, f"{path}: {field}={value[:40]!r} wrote"
                if status == 200 and not preview:
                    assert ERROR_SHOWN.search(response.content), (
                        f"{path}: {field}={value[:40]!r} answered 200 with no error shown"
                    )
            transaction.set_rollback(True)

    one()


def test_every_web_form_that_writes_survives_hostile_strings(world, staff):  # noqa: F811
    urls = {}
    for route, name in _ui_patterns():
        kwargs, _owned = _fill(route, name, world)
        urls[name] = _url_for(route, name, kwargs)
    clients = _clients(world, staff)
    found, accepting = _discover(urls, clients)

    forms: list[tuple[str, str, dict]] = []  # (persona, path, fields)
    covered = set()
    for (name, path), by_persona in sorted(found.items()):
        if name in NOT_FUZZED:
            continue
        for persona, fields in by_persona.items():
            fields = {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"}
            forms.append((persona, path, fields or {"confirm": "1"}))
            covered.add(name)
    written = _template_forms()
    for name in sorted(set(accepting) - covered):
        if name in written and name not in POST_WITHOUT_A_FORM:
            fields = dict.fromkeys(sorted(written[name]) or ["confirm"], "")
            forms.append(("staff", urls[name], fields))
            forms.append(("customer", urls[name], fields))
            covered.add(name)
    for name, fields in POST_WITHOUT_A_FORM.items():
        filled = {
            k: (str(world[v[1:-1]].pk) if v.startswith("{") else v) for k, v in fields.items()
        }
        forms.append(("staff", urls[name], filled))
        covered.add(name)
    missing = sorted(set(accepting) - covered)
    assert not missing, (
        f"POST-only views with no form on any page or template: {missing}. Show the "
        "form, or name its fields in POST_WITHOUT_A_FORM."
    )

    tables = _tables()
    for persona, path, fields in forms:
        FORM_CASES["forms"] += 1
        _fuzz_one_form(clients[persona], path, fields, tables)
    print(
        f"web forms fuzzed: {FORM_CASES['forms']} forms ({len(covered)} views), "
        f"{FORM_CASES['count']} cases"
    )
    assert len(covered) >= 50
