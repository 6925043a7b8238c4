"""Where attachments are stored (issue #17): Django's storage API, local files by
default, an S3-compatible store by configuration (django-storages); never a public URL."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import django
django.setup()
from django.core.files.storage import storages
s = storages["attachments"]
print(type(s).__module__ + "." + type(s).__name__)
print(getattr(s, "bucket_name", ""))
if not hasattr(s, "bucket_name"):
    try:
        s.url("x")
    except NotImplementedError:
        print("no-url")
"""


def _probe(**env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ATTACHMENT_")} | {
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "LOG_LEVEL": "WARNING",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_local_files_by_default_with_no_url():
    result = _probe()
    assert result.returncode == 0, result.stderr
    backend, _bucket, url = result.stdout.split("\n")[:3]
    assert backend == "incidents.storage.PrivateFileSystemStorage"
    assert url == "no-url"  # no public path: only the scoped views serve files


def test_an_s3_compatible_store_by_configuration():
    result = _probe(
        ATTACHMENT_STORAGE="s3",
        ATTACHMENT_S3_BUCKET="portal-attachments",
        ATTACHMENT_S3_ENDPOINT_URL="http://127.0.0.1:9000",
    )
    assert result.returncode == 0, result.stderr
    backend, bucket = result.stdout.split("\n")[:2]
    assert backend == "storages.backends.s3.S3Storage" and bucket == "portal-attachments"


def test_a_wrong_storage_setting_stops_the_start():
    assert "ATTACHMENT_STORAGE" in _probe(ATTACHMENT_STORAGE="ftp").stderr
    assert "ATTACHMENT_S3_BUCKET" in _probe(ATTACHMENT_STORAGE="s3").stderr
