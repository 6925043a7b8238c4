"""The processes a load run stands on, all on loopback and all its own: a redis-server and
gunicorn on free ports, and a PostgreSQL database the bench may drop (its name starts
with portal_bench). bench/load.py and bench/faults.py start and stop them."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HOST = "127.0.0.1"  # loopback only, always


# --- processes ----------------------------------------------------------------------


def free_port() -> int:
    """A port nobody listens on now (the kernel's pick): fixed ports clashed with
    processes other runs left on the machine."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((HOST, port)) == 0


def wait_until(predicate, timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except Exception:
            pass
        time.sleep(interval)
    return False


class RedisServer:
    """Our own redis-server on a spare port: never the shared one on 6379."""

    def __init__(self, port: int):
        assert port != 6379, "never touch the shared Redis"
        self.port = port
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        if shutil.which("redis-server") is None:
            raise SystemExit("redis-server is not installed")
        if port_in_use(self.port):
            # Another process's Redis would answer our ping and take our jobs.
            raise SystemExit(f"port {self.port} is taken by another process")
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not wait_until(self.ping, 10):
            raise SystemExit(f"redis-server on {self.port} did not start")

    def ping(self) -> bool:
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5).ping()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None


class Gunicorn:
    def __init__(self, env: dict, port: int, workers: int, log_path: Path):
        self.env, self.port, self.workers, self.log_path = env, port, workers, log_path
        self.proc: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> None:
        if port_in_use(self.port):
            raise SystemExit(f"port {self.port} is taken by another process")
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "portal.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        if not wait_until(
            lambda: requests.get(self.base + "/healthz", timeout=2).status_code in (200, 503), 30
        ):
            raise SystemExit(f"gunicorn did not come up; see {self.log_path}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc = None
        self.log.close()


def database_url(name: str, port: int = 5432) -> str:
    return f"postgres://postgres@{HOST}:{port}/{name}"


def recreate_database(name: str, port: int = 5432) -> None:
    assert name.startswith("portal_bench"), "the bench only drops its own databases"
    for sql in (f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"'):
        subprocess.run(
            ["psql", "-h", HOST, "-p", str(port), "-U", "postgres", "-qc", sql], check=True
        )


def app_env(*, db_url: str, redis_url: str, extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST"))}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DATABASE_URL=db_url,
        REDIS_URL=redis_url,
        LOG_LEVEL="WARNING",
        LOG_FORMAT="json",
        DEBUG="0",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        # The bench measures the portal, not the throttle.
        API_THROTTLE_RATE="1000000/min",
        PORTAL_VAR_DIR=str(Path(tempfile.gettempdir()) / "portal-bench-var"),
    )
    env.update(extra or {})
    return env


def migrate(env: dict) -> None:
    subprocess.run(
        [PY, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True
    )
