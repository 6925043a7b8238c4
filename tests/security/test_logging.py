"""Nothing secret in logs: the Authorization header, API keys, passwords, cookies are
redacted by core.logging whatever logs them."""

import logging

from tests.ops.logcapture import configured_log_output, json_lines

RAW_KEY = "sp_acme_" + "a" * 40  # key_a's raw key (tests/conftest.py)


def test_a_bearer_header_logged_by_any_code_is_redacted():
    with configured_log_output() as out:
        logging.getLogger("some.library").warning(
            "calling with headers %s", {"Authorization": f"Bearer {RAW_KEY}"}
        )
    text = out.getvalue()
    assert RAW_KEY not in text and "aaaaaaaaaa" not in text
    assert "[REDACTED]" in text


def test_api_keys_passwords_and_cookies_in_messages_and_extras_are_redacted():
    with configured_log_output() as out:
        log = logging.getLogger("portal.test")
        log.info("key %s used", RAW_KEY)
        log.info(
            "login attempt",
            extra={
                "password": "hunter2-secret",
                "form": {"username": "bob", "password": "pw-9876"},
            },
        )
        log.info("query: /api/v1/x?api_key=zz-secret-zz&page=2")
        log.info("Cookie: sessionid=sess-secret-123; csrftoken=csrf-secret-456")
        log.info('body {"password": "json-secret", "name": "Acme"}')
    text = out.getvalue()
    for secret in (
        RAW_KEY,
        "hunter2-secret",
        "pw-9876",
        "zz-secret-zz",
        "sess-secret-123",
        "csrf-secret-456",
        "json-secret",
    ):
        assert secret not in text, secret
    lines = json_lines(out)
    assert lines[1]["form"]["username"] == "bob"  # what is not secret stays readable
    assert "page=2" in lines[2]["message"] and "Acme" in lines[4]["message"]


def test_a_traceback_carrying_a_secret_is_redacted_too():
    with configured_log_output(fmt="plain") as out:
        try:
            raise ValueError(f"bad credentials Bearer {RAW_KEY}")
        except ValueError:
            logging.getLogger("portal.test").exception("failed")
    assert RAW_KEY not in out.getvalue()
    assert "ValueError" in out.getvalue()


def test_a_request_with_an_api_key_in_header_and_query_logs_no_key(api_a):
    with configured_log_output(level="DEBUG") as out:
        api_a.get(
            f"/api/v1/no-such-endpoint/?api_key={RAW_KEY}", HTTP_X_REQUEST_ID="req-secret-test"
        )
        api_a.get("/api/v1/services/", HTTP_X_REQUEST_ID="req-secret-test-2")
    text = out.getvalue()
    assert "req-secret-test" in text  # the requests were logged ...
    assert RAW_KEY not in text  # ... without the key
