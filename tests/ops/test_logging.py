"""Structured JSON logs with request ids."""

import logging

from tests.ops.logcapture import configured_log_output, json_lines


def test_a_request_logs_a_json_access_line_carrying_its_request_id(client_a):
    with configured_log_output() as out:
        response = client_a.get("/", HTTP_X_REQUEST_ID="ops-test-rid-1")
    assert response["X-Request-ID"] == "ops-test-rid-1"
    lines = [line for line in json_lines(out) if line.get("request_id") == "ops-test-rid-1"]
    access = [line for line in lines if line["logger"] == "portal.request"]
    assert len(access) == 1, lines
    line = access[0]
    assert line["level"] == "INFO" and line["method"] == "GET" and line["path"] == "/"
    assert line["status"] == response.status_code and line["duration_ms"] >= 0
    assert {"time", "message", "logger"} <= set(line)


def test_log_lines_written_while_serving_carry_the_request_id_and_others_a_dash(client):
    with configured_log_output() as out:
        client.get("/no-such-page-for-logging/", HTTP_X_REQUEST_ID="ops-test-rid-404")
        logging.getLogger("portal.test").info("outside any request")
    lines = json_lines(out)
    not_found = [x for x in lines if x["logger"] == "django.request"]
    assert not_found and all(x["request_id"] == "ops-test-rid-404" for x in not_found)
    assert [x for x in lines if x["message"] == "outside any request"][0]["request_id"] == "-"


def test_a_request_without_an_id_gets_a_fresh_one(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second
