"""Pieces of ./scripts/run that need no running portal (issue #14).

Static files are collected on a fresh clone and again only when what they come from
changed: collecting compresses them, which made every restart take a minute or more
on a busy 2-core machine. A stand-in for the virtualenv's python records each call.
"""

import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from whitenoise.compress import Compressor

ROOT = Path(__file__).resolve().parents[2]

FAKE_PYTHON = """#!/bin/sh
echo "$*" >> "$CALLS"
mkdir -p "$STATIC_ROOT"
"""


def _tree(tmp_path: Path) -> Path:
    tree = tmp_path / "clone"
    (tree / "scripts").mkdir(parents=True)
    shutil.copy2(ROOT / "scripts/_static.sh", tree / "scripts/_static.sh")
    shutil.copy2(ROOT / "pyproject.toml", tree / "pyproject.toml")
    shutil.copytree(ROOT / "static", tree / "static")
    python = tmp_path / "python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tree


def _start(tree: Path, tmp_path: Path, **env) -> list[str]:
    """Source the script as ./scripts/run does; the collectstatic calls made so far."""
    calls = tmp_path / "calls"
    environ = {
        "PATH": os.environ["PATH"],
        "PY": str(tmp_path / "python"),
        "CALLS": str(calls),
        "STATIC_ROOT": str(tmp_path / "staticfiles"),
        "STATICFILES_BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage",
        **env,
    }
    subprocess.run(
        ["bash", "-euo", "pipefail", "-c", "source scripts/_static.sh"],
        cwd=tree,
        env=environ,
        check=True,
        capture_output=True,
        timeout=30,
    )
    return calls.read_text().splitlines() if calls.exists() else []


def test_a_restart_skips_collecting_static_files_nothing_changed(tmp_path):
    tree = _tree(tmp_path)
    assert _start(tree, tmp_path) == ["manage.py collectstatic --noinput --verbosity 0"]
    assert len(_start(tree, tmp_path)) == 1


def test_a_changed_static_file_the_backend_or_a_removed_folder_collects_again(tmp_path):
    tree = _tree(tmp_path)
    _start(tree, tmp_path)
    css = next((tree / "static").rglob("*.css"))
    css.write_text(css.read_text() + "\n/* changed */\n")
    assert len(_start(tree, tmp_path)) == 2
    storage = "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    assert len(_start(tree, tmp_path, STATICFILES_BACKEND=storage)) == 3
    shutil.rmtree(tmp_path / "staticfiles")
    assert len(_start(tree, tmp_path, STATICFILES_BACKEND=storage)) == 4
    assert len(_start(tree, tmp_path, STATICFILES_BACKEND=storage)) == 4


def test_source_maps_are_not_compressed_the_bundles_are():
    compressor = Compressor(extensions=settings.WHITENOISE_SKIP_COMPRESS_EXTENSIONS, quiet=True)
    assert not compressor.should_compress("redoc.standalone.js.map")
    assert compressor.should_compress("redoc.standalone.js")
    assert not compressor.should_compress("logo.png")
