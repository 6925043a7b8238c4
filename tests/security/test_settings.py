"""Production settings: `check --deploy` clean, secure cookies, HSTS, CSP, frame
protection, secrets from the environment or *_FILE paths."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.env import env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parents[2]


def _production_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DEBUG", "SECRET_KEY_FILE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        PORTAL_PRODUCTION="1",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="portal.example.com",
        LOG_LEVEL="WARNING",
        STATICFILES_BACKEND="whitenoise.storage.CompressedManifestStaticFilesStorage",
    )
    env.pop("STATICFILES_BACKEND", None)  # production uses its own default
    env.update(extra)
    return env


def _run(args, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_reports_no_issue_at_all_in_production():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, (
        result.stdout + result.stderr
    )


PRINT_SETTINGS = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({
    "SECRET_KEY": s.SECRET_KEY, "DEBUG": s.DEBUG,
    "SESSION_COOKIE_SECURE": s.SESSION_COOKIE_SECURE, "CSRF_COOKIE_SECURE": s.CSRF_COOKIE_SECURE,
    "SESSION_COOKIE_HTTPONLY": s.SESSION_COOKIE_HTTPONLY, "SECURE_HSTS_SECONDS": s.SECURE_HSTS_SECONDS,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "SECURE_SSL_REDIRECT": s.SECURE_SSL_REDIRECT,
    "X_FRAME_OPTIONS": s.X_FRAME_OPTIONS, "ALLOWED_HOSTS": s.ALLOWED_HOSTS,
    "CSP": s.CONTENT_SECURITY_POLICY["DIRECTIVES"],
}))
"""


def test_production_cookies_are_secure_and_hsts_is_a_year_with_subdomains():
    result = _run(["-c", PRINT_SETTINGS], _production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert (
        values["SESSION_COOKIE_SECURE"]
        and values["CSRF_COOKIE_SECURE"]
        and values["SESSION_COOKIE_HTTPONLY"]
    )
    assert values["SECURE_HSTS_SECONDS"] >= 31536000 and values["SECURE_HSTS_INCLUDE_SUBDOMAINS"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["ALLOWED_HOSTS"] == ["portal.example.com"]
    assert values["CSP"]["frame-ancestors"] == ["'none'"] and values["CSP"]["default-src"] == [
        "'self'"
    ]


def test_production_reads_the_secret_key_from_a_file(tmp_path):
    key = secrets.token_urlsafe(64)
    path = tmp_path / "secret_key"
    path.write_text(key + "\n")
    env = _production_env(SECRET_KEY_FILE=str(path))
    env.pop("SECRET_KEY")
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1])["SECRET_KEY"] == key


def test_production_refuses_to_start_without_a_secret_key():
    env = _production_env()
    env.pop("SECRET_KEY")
    result = _run(["-c", PRINT_SETTINGS], env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_production_refuses_to_run_with_debug_on():
    result = _run(["-c", PRINT_SETTINGS], _production_env(DEBUG="1"))
    assert result.returncode != 0
    assert "DEBUG must be off" in result.stderr


def test_production_pages_carry_hsts_csp_frame_and_secure_cookie_headers():
    script = """
import json, django
django.setup()
from django.test import Client
r = Client().get("/accounts/login/", secure=True, HTTP_HOST="portal.example.com")
csrf = r.cookies.get("csrftoken")
print(json.dumps({"status": r.status_code, "headers": dict(r.headers),
                  "csrf_secure": bool(csrf and csrf["secure"])}))
"""
    # Pages render static URLs: without collectstatic's manifest, plain storage.
    env = _production_env(
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    result = _run(["-c", script], env)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["status"] == 200, out
    headers = out["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "includeSubDomains" in headers["Strict-Transport-Security"]
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert out["csrf_secure"] is True


def test_production_redirects_plain_http_to_https():
    script = """
import django
django.setup()
from django.test import Client
r = Client().get("/accounts/login/", HTTP_HOST="portal.example.com")
print(r.status_code, r.headers.get("Location"))
"""
    result = _run(["-c", script], _production_env())
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1] == "301 https://portal.example.com/accounts/login/"
    )


def test_production_health_checks_over_plain_http_are_not_redirected():
    # docker-compose's healthcheck and load balancers probe /healthz inside the network.
    script = """
import django
django.setup()
from django.test import Client
r = Client().get("/healthz", HTTP_HOST="portal.example.com")
print(r.status_code)
"""
    result = _run(["-c", script], _production_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] in ("200", "503")


# --- env readers ----------------------------------------------------------------------


def test_env_str_reads_name_file_when_name_is_unset(monkeypatch, tmp_path):
    path = tmp_path / "db_password"
    path.write_text("s3cr3t-from-file\n")
    monkeypatch.delenv("PORTAL_TEST_SECRET", raising=False)
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(path))
    assert env_str("PORTAL_TEST_SECRET") == "s3cr3t-from-file"


def test_env_str_prefers_the_variable_itself_over_its_file(monkeypatch, tmp_path):
    path = tmp_path / "value"
    path.write_text("from-file")
    monkeypatch.setenv("PORTAL_TEST_SECRET", "from-env")
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(path))
    assert env_str("PORTAL_TEST_SECRET") == "from-env"


def test_env_str_fails_loudly_on_an_unreadable_file(monkeypatch, tmp_path):
    monkeypatch.delenv("PORTAL_TEST_SECRET", raising=False)
    monkeypatch.setenv("PORTAL_TEST_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="PORTAL_TEST_SECRET_FILE"):
        env_str("PORTAL_TEST_SECRET")


def test_env_readers_fail_loudly_on_bad_values(monkeypatch):
    monkeypatch.setenv("PORTAL_TEST_BOOL", "maybe")
    monkeypatch.setenv("PORTAL_TEST_INT", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_bool("PORTAL_TEST_BOOL")
    with pytest.raises(ImproperlyConfigured):
        env_int("PORTAL_TEST_INT", 1)


# --- CSP and frame protection on ordinary (test) pages ---------------------------------


def test_login_page_has_a_content_security_policy_and_frame_protection(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert (
        "default-src 'self'" in csp
        and "script-src 'self'" in csp
        and "frame-ancestors 'none'" in csp
    )
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"


def test_signed_in_pages_and_api_answers_have_the_csp_header(client_a, api_a):
    assert "Content-Security-Policy" in client_a.get("/").headers
    assert "Content-Security-Policy" in api_a.get("/api/v1/services/").headers


def test_the_api_docs_page_needs_no_inline_script_under_the_csp(api_staff):
    import re

    page = api_staff.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>\s*\S", html)
    assert not inline, "an inline <script> is blocked by script-src 'self'"
    script = re.search(r'<script src="([^"]*redoc[^"]*)"', html).group(1)
    assert script.startswith("/static/"), script  # served from this host (the sidecar)
