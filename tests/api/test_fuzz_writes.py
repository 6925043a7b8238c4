"""Fuzz (#22): hostile input on the API's write endpoints (the pages' forms:
tests/web/test_fuzz_forms.py).

Hypothesis puts NUL, control characters, 10,000-character words, RTL marks, deeply
nested JSON, extreme dates and numbers into one field at a time (or the whole body)
and asserts: no 5xx, a JSON body (never an HTML error page) under /api/v1/, and
nothing written when the request is refused. Examples per endpoint are kept small so
the module runs in about a minute; FUZZ_CASES counts what ran.
"""

import json

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts.models import Customer, WorkOrder
from incidents.models import Incident
from tests.api.test_contract_idempotency import CREATES, _fill

EXAMPLES = 25
FUZZ_CASES = {"count": 0}

HOSTILE_TEXT = st.one_of(
    st.sampled_from(
        [
            "\x00",
            "a\x00b",
            "line\r\nBcc: x@example.com",
            "\x1b[31m",
            "\u202eevil\u202c",
            "\u200f\u200e",
            "\u2028",
            "\ud800",
            "x" * 10_000,
            " ",
            "",
            "0001-01-01",
            "9999-12-31",
            "0001-01-01T00:00:00Z",
            "-1",
            "1e309",
            "NaN",
            "99999999999999999999999",
            "http://[::1]:65536/",
        ]
    ),
    st.text(
        alphabet=st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Lo", "Nd"]),
        max_size=40,
    ),
)
HOSTILE_VALUE = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([None, True, [], {}, [None], {"a": "\x00"}]),
)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def counts():
    return (
        Customer.objects.count(),
        WorkOrder.objects.count(),
        Incident.objects.count(),
        *(model.objects.count() for *_, model in CREATES),
    )


def check_api(response, before):
    FUZZ_CASES["count"] += 1
    assert response.status_code < 500, response.content[:300]
    if response.status_code != 204:
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
    if response.status_code >= 400:
        assert counts() == before


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture
def ready(credits_a, contact_a, rate_workshops):
    return credits_a


@pytest.mark.parametrize(
    ("name", "persona", "path", "body", "change", "model"), CREATES, ids=[c[0] for c in CREATES]
)
def test_api_writes_survive_hostile_fields(
    request, ready, name, persona, path, body, change, model
):
    client = request.getfixturevalue(persona)
    url = path.format(wo=ready.pk)
    base = _fill(body, ready.pk)

    @FUZZ
    @given(field=st.sampled_from(sorted(base)), value=HOSTILE_VALUE)
    def one(field, value):
        cache.clear()  # the API throttle counts are not what is tested here
        before = counts()
        try:
            payload = json.dumps({**base, field: value})
        except (UnicodeEncodeError, ValueError):
            return
        check_api(client.generic("POST", url, payload, content_type="application/json"), before)

    one()
    for depth in (100, 1000, 5000):
        before = counts()
        check_api(client.generic("POST", url, deep(depth), content_type="application/json"), before)


def test_api_patch_of_a_work_order_survives_hostile_fields(api_staff, work_order_a):
    @FUZZ
    @given(
        field=st.sampled_from(["number", "start_date", "end_date", "notes", "products", "lines"]),
        value=HOSTILE_VALUE,
    )
    def one(field, value):
        cache.clear()
        before = counts()
        payload = json.dumps({field: value})
        check_api(
            api_staff.generic(
                "PATCH",
                f"/api/v1/work-orders/{work_order_a.pk}/",
                payload,
                content_type="application/json",
            ),
            before,
        )

    one()


# The pages' forms: tests/web/test_fuzz_forms.py (every form that writes, discovered).
