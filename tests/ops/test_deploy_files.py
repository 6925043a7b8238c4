"""The production shape (docker-compose.yml, Dockerfile) checked without a Docker engine:
the compose file against the Compose Specification's JSON schema (check-jsonschema's
vendored copy), the Dockerfile by hadolint, and the shape README.md promises."""

import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def check_compose(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_compose_file_follows_the_compose_specification():
    result = check_compose(ROOT / "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_refuses_a_broken_compose_file(tmp_path):
    broken = tmp_path / "docker-compose.yml"
    # A misspelt key, as a hand edit would leave it.
    broken.write_text("services:\n  web:\n    image: portal\n    comand: [gunicorn]\n")
    assert check_compose(broken).returncode != 0


def test_the_compose_file_has_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis", "migrate"} <= set(services)
    assert services["web"]["command"][0] == "gunicorn"
    assert services["worker"]["command"][:4] == ["celery", "-A", "portal", "worker"]
    # One beat: the schedule must not run twice.
    beats = [s for s in services.values() if "beat" in (s.get("command") or [])]
    assert len(beats) == 1 and "deploy" not in services["beat"]
    for name in ("web", "postgres", "redis"):
        assert "healthcheck" in services[name], name
    # Secrets come from files, never from the compose file itself.
    assert set(compose["secrets"]) >= {"django_secret_key", "email_password"}
    env = services["web"]["environment"]
    assert "SECRET_KEY" not in env and env["SECRET_KEY_FILE"].startswith("/run/secrets/")


def test_the_dockerfile_passes_hadolint():
    result = subprocess.run(
        [str(BIN / "hadolint"), "--no-color", str(ROOT / "Dockerfile")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
