"""The README's path, end to end, as a newcomer takes it (issue #14).

A copy of the tree, `./scripts/run` with DATABASE_URL and REDIS_URL unset (so the
embedded PostgreSQL server and the filesystem broker), `manage.py create_api_key`, a
webhook to a local receiver, a critical incident opened two hours ago, and the signed
`incident.response_breached` delivery arriving within two sweep intervals, its links on
the port the portal was given. Then SIGTERM: the worker stops its own pool, and nothing
of it may be left running.

Also: beat started from a tree without var/ ticks (it used to lose its schedule file).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent
SWEEP_SECONDS = 5

pytestmark = pytest.mark.worker


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _copy_tree(dest: Path) -> Path:
    """The repository's files as a fresh clone has them (tracked and new, not ignored)."""
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for name in filter(None, files):
        source = ROOT / name.decode()
        if source.is_file():
            target = dest / name.decode()
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    assert not (dest / "var").exists()
    return dest


def _newcomer_env(**extra) -> dict:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "PORTAL_VAR_DIR", "PORTAL_REQUIRE_POSTGRES")
    }
    env.update(VENV=str(VENV), LOG_FORMAT="plain", LOG_LEVEL="WARNING", **extra)
    return env


class Receiver(ThreadingHTTPServer):
    """A ticketing tool's webhook endpoint: keeps what arrives."""

    def __init__(self):
        self.received: list[tuple[dict, bytes]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805 - the server is `self` here
                body = handler.rfile.read(int(handler.headers["Content-Length"]))
                self.received.append((dict(handler.headers), body))
                handler.send_response(204)
                handler.end_headers()

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def _call(base: str, key: str, method: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        f"{base}/api/v1{path}",
        data=json.dumps(body).encode() if body is not None else None,
        method=method,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"{}")


def _wait(predicate, timeout: float, what: str, logs) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{logs()}")


def _tree_processes(tree: Path) -> list[psutil.Process]:
    """Processes started from the copy: web, worker, beat and the embedded database."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            text = " ".join(proc.info["cmdline"] or []) + " " + (proc.info["cwd"] or "")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if str(tree) in text:
            found.append(proc)
    return found


def test_the_readme_path_detects_a_breach_and_delivers_the_signed_webhook(tmp_path):
    from notifications.webhooks import verify

    tree = _copy_tree(tmp_path / "clone")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = _newcomer_env(PORT=str(port), SWEEP_INTERVAL_SECONDS=str(SWEEP_SECONDS))
    log = open(tmp_path / "run.log", "wb")
    run = subprocess.Popen(
        ["./scripts/run"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip

    def logs() -> str:
        parts = [(tmp_path / "run.log").read_text(errors="replace")[-4000:]]
        for name in ("worker.log", "beat.log"):
            path = tree / "var" / name
            if path.exists():
                parts.append(f"--- {name}\n" + path.read_text(errors="replace")[-3000:])
        return "\n".join(parts)

    receiver = Receiver()
    try:
        started = time.monotonic()

        def serving() -> bool:
            assert run.poll() is None, logs()
            try:
                with urllib.request.urlopen(f"{base}/accounts/login/", timeout=2) as response:
                    return response.status == 200
            except OSError:
                return False

        _wait(serving, 240, "the first page", logs)
        first_page = time.monotonic() - started
        print(f"first page after {first_page:.1f} s")

        # The README: make a key with manage.py, while the portal runs (same database).
        key = subprocess.run(
            [str(VENV / "bin/python"), "manage.py", "create_api_key", "--name", "newcomer"],
            cwd=tree, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert key.returncode == 0, key.stderr
        key = key.stdout.strip().splitlines()[-1]

        hook = _call(base, key, "POST", "/webhooks/", {
            "url": f"http://127.0.0.1:{receiver.server_address[1]}/hook",
            "events": ["incident.response_breached"],
        })  # fmt: skip
        secret = hook["secret"]

        orders = _call(base, key, "GET", "/work-orders/?status=active")["results"]
        order = next(o for o in orders if o["package"] in ("advanced", "performance"))
        contacts = _call(base, key, "GET", f"/work-orders/{order['id']}/contacts/")["results"]
        contact = next(c for c in contacts if c["active"])
        opened = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 2 * 3600))
        incident = _call(base, key, "POST", "/incidents/", {
            "work_order": order["id"], "contact": contact["email"], "severity": "critical",
            "title": "Production down since two hours ago", "opened_at": opened,
        })  # fmt: skip
        filed = time.monotonic()

        def breached() -> bool:
            for headers, body in receiver.received:
                event = json.loads(body)
                if (
                    event.get("event") == "incident.response_breached"
                    and str(incident["id"]) in body.decode()
                ):
                    signature = headers.get("X-Portal-Signature", "")
                    assert verify(secret, signature, body), "a delivery with a bad signature"
                    # Links point at this server, on the port it was given (not 8000).
                    assert event["detail"]["url"].startswith(f"{base}/incidents/"), event
                    return True
            return False

        # Two sweep intervals, plus the delivery tick that sends it.
        _wait(breached, 2 * SWEEP_SECONDS + 20, "the signed response_breached webhook", logs)
        print(f"breach delivered {time.monotonic() - filed:.1f} s after filing")

        # Healthy on the embedded database. Under CI's load (two test workers and browsers
        # beside this portal) a check can be behind for a moment, e.g. the sweep that just
        # ran long: /healthz must come back to 200, and its body says which check was not.
        seen = {}

        def healthy() -> bool:
            try:
                answer = urllib.request.urlopen(f"{base}/healthz", timeout=10)
            except urllib.error.HTTPError as error:
                seen["last"] = f"{error.code} {error.read().decode(errors='replace')}"
                return False
            seen["health"] = json.loads(answer.read())
            return True

        _wait(healthy, 60, "/healthz 200", lambda: f"last answer: {seen.get('last')}\n{logs()}")
        if seen.get("last"):
            print(f"/healthz was {seen['last']} once before 200")
        assert seen["health"]["checks"]["database"]["vendor"] == "postgresql"
    finally:
        receiver.shutdown()
        if run.poll() is None:
            os.kill(run.pid, signal.SIGTERM)  # the script, as Ctrl-C or a service manager would
        stopping = time.monotonic()
        try:
            run.wait(20)
        except subprocess.TimeoutExpired:
            pass
        left = []
        deadline = stopping + 15
        while time.monotonic() < deadline:
            left = _tree_processes(tree)
            if not left:
                break
            time.sleep(0.5)
        for proc in left:  # never leave them behind, even when the test fails
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
    stopped = time.monotonic() - stopping
    assert not left, f"still running after 15 s: {[p.info['cmdline'] for p in left]}"
    print(f"stopped everything in {stopped:.1f} s")
    # Celery stopped its own pool (a warm shutdown), no child killed from outside.
    worker_log = (tree / "var" / "worker.log").read_text(errors="replace")
    assert "exited with 'signal" not in worker_log, worker_log[-3000:]
    assert "No hostname was supplied" not in (tmp_path / "run.log").read_text(errors="replace")
    # Data survives: the embedded database's files stay for the next start.
    assert (tree / "var" / "postgres" / "PG_VERSION").exists()


@pytest.mark.django_db(transaction=True)
def test_beat_started_from_a_tree_without_var_ticks(tmp_path):
    from django.db import connection

    from notifications.models import SweepRun
    from notifications.selectors import BEAT_JOB

    tree = _copy_tree(tmp_path / "clone")
    s = connection.settings_dict
    env = _newcomer_env(
        DATABASE_URL=f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        REDIS_URL=os.environ.get("WORKER_TEST_BROKER_URL", "redis://127.0.0.1:6379/6"),
        DB_CONN_MAX_AGE="0",
    )
    # `celery -A portal worker -B` from a fresh checkout: var/ does not exist.
    proc = subprocess.Popen(
        [str(VENV / "bin/celery"), "-A", "portal", "worker", "-B", "-l", "WARNING",
         "--concurrency=1", "--without-mingle", "--without-gossip"],
        cwd=tree, env=env, stdout=open(tmp_path / "worker.log", "wb"),
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        _wait(
            lambda: SweepRun.objects.filter(job=BEAT_JOB).exists(),
            60,
            "a beat tick",
            lambda: (tmp_path / "worker.log").read_text(errors="replace")[-4000:],
        )
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        connection.close()
    assert (tree / "var").is_dir()
    assert "FileNotFoundError" not in (tmp_path / "worker.log").read_text(errors="replace")
