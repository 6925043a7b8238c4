"""Fault runs: Redis stopped during load, then PostgreSQL stopped briefly. Loopback only.

    .venv/bin/python bench/faults.py [--scenario redis|postgres|both] [--clients 6]

Nothing shared is stopped. The Redis fault uses its own redis-server on a free loopback port
(cache and Celery broker of the gunicorn, worker and beat under test) and the database
portal_bench_faults on the shared PostgreSQL. The PostgreSQL fault starts its own
throwaway cluster (initdb in a temporary directory, as the postgres user, on a free port)
and stops and starts only that one.

Redis: load runs before, during and after the outage. Passes when the web answered
every request with no 5xx, incidents were filed during the outage, and after recovery
every notification held in the outbox was delivered exactly once: each e-mail once
(file backend, counted by Message-ID) and each webhook once (a receiver on loopback,
counted by X-Portal-Delivery).

PostgreSQL: load runs while the cluster is stopped for a few seconds. Passes when every
failure was a clear 503 JSON (no 500, no dropped connection), the portal recovered
without a restart, and the invariants of bench/load.py hold afterwards.
"""

import argparse
import email
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _load_stack as stack  # noqa: E402  (the processes: redis-server, gunicorn, the database)
import load  # noqa: E402  (bench/load.py: seed, the load and its invariants)

ROOT = stack.ROOT
HOST = stack.HOST
CELERY = str(ROOT / ".venv" / "bin" / "celery")
# Free ports picked at start: fixed ones clashed with processes other runs had left on
# the machine (a stray Redis answers our ping; a stray gunicorn answers our load).
FAULT_REDIS_PORT = stack.free_port()
FAULT_PG_PORT = stack.free_port()
WEB_PORT = stack.free_port()
RECEIVER_PORT = 0  # the receiver binds port 0 itself
INCIDENT_OPS = ("file_incident", "file_incident", "list_incidents", "credits")
MIXED_OPS = ("file_incident", "file_incident", "list_incidents", "redeem", "redeem", "credits")


class Receiver:
    """Webhook endpoint on loopback counting deliveries by X-Portal-Delivery."""

    def __init__(self, port: int):
        self.received: Counter = Counter()
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received[self.headers.get("X-Portal-Delivery")] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((HOST, port), Handler)
        self.url = f"http://{HOST}:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


class Celery:
    """Worker and beat, each restarted when it exits on its own, as production runs them
    (docker-compose.yml: `restart: unless-stopped`). kombu 5.7's Redis transport ended the
    worker with an "Unrecoverable error" (AttributeError in `_connparams` on a channel
    whose connection is gone) when Redis dropped mid-acknowledgement, in about 1 run of 3;
    portal/kombu_fix.py now keeps it alive (0 restarts in 5 runs). `restarts` counts any
    that still happen, and the run prints it."""

    COMMANDS = (
        (["worker", "-c", "2", "--without-gossip", "--without-mingle", "-l", "WARNING"], "worker"),
        (["beat", "-l", "WARNING"], "beat"),
    )

    def __init__(self, env: dict, workdir: Path):
        self.env, self.workdir = env, workdir
        self.procs: dict[str, subprocess.Popen] = {}
        self.logs: dict = {}
        self.restarts = {"worker": 0, "beat": 0}
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def _spawn(self, args: list[str], name: str) -> subprocess.Popen:
        if name == "beat":
            args = [*args, "-s", str(self.workdir / "beat-schedule")]
        return subprocess.Popen(
            [CELERY, "-A", "portal", *args],
            cwd=ROOT,
            env=self.env,
            stdout=self.logs[name],
            stderr=subprocess.STDOUT,
        )

    def _supervise(self, args: list[str], name: str) -> None:
        while not self.stopping.is_set():
            if self.procs[name].poll() is not None and not self.stopping.is_set():
                self.restarts[name] += 1
                self.logs[name].write(f"\n--- bench: {name} exited, restarted ---\n")
                self.logs[name].flush()
                self.procs[name] = self._spawn(args, name)
            self.stopping.wait(1.0)

    def start(self):
        for args, name in self.COMMANDS:
            self.logs[name] = open(self.workdir / f"celery-{name}.log", "w")  # noqa: SIM115
            self.procs[name] = self._spawn(args, name)
            thread = threading.Thread(target=self._supervise, args=(args, name), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(5)
        for name, proc in self.procs.items():
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            self.logs[name].close()


def start_load(base: str, seed_data: dict, **kwargs) -> tuple[threading.Thread, dict]:
    """bench/load.py's load in a background thread; results in the returned dict."""
    holder: dict = {}

    def run():
        holder["rec"], holder["elapsed"] = load.run_load(base, seed_data, **kwargs)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, holder


def phase_report(rec: load.Recorder, phases: list[tuple[str, float, float]]) -> dict:
    out = {}
    for name, start, end in phases:
        statuses = Counter(s for at, _op, s in rec.timeline if start <= at < end)
        filed = sum(
            1
            for at, op, s in rec.timeline
            if start <= at < end and op == "file_incident" and s == 201
        )
        out[name] = {"statuses": dict(sorted(statuses.items())), "incidents_filed": filed}
        print(f"  {name:<22} statuses {dict(sorted(statuses.items()))}, incidents filed: {filed}")
    return out


def subscribe_webhooks(base: str, seed_data: dict, url: str) -> None:
    for customer in seed_data["customers"]:
        r = requests.post(
            f"{base}/api/v1/webhooks/",
            json={
                "url": url,
                "events": ["incident.created"],
                "secret": "bench-webhook-secret-0123",
            },
            headers={"Authorization": f"Bearer {customer['key']}"},
            timeout=10,
        )
        if r.status_code != 201:
            raise SystemExit(f"webhook subscription refused: {r.status_code} {r.text[:300]}")


def mail_message_ids(folder: Path) -> Counter:
    ids: Counter = Counter()
    if not folder.exists():
        return ids
    for path in folder.iterdir():
        raw = path.read_text(errors="replace")
        # The file backend appends every message of a connection to one file, separated by dashes.
        for chunk in raw.split("-" * 79):
            if chunk.strip():
                msg = email.message_from_string(chunk.strip())
                if msg["X-Portal-Delivery"]:
                    ids[msg["X-Portal-Delivery"]] += 1
    return ids


def outbox_state(env: dict) -> dict:
    code = """
import json
from django.db.models import Count
from notifications.models import OutboxMessage, WebhookDelivery
print(json.dumps({
  "outbox": dict(OutboxMessage.objects.values_list("state").annotate(n=Count("id")).order_by()),
  "email_keys": list(OutboxMessage.objects.filter(channel="email").values_list("key", flat=True)),
  # The receiver subscribed to incident.created only; other events fan out to nobody.
  "webhook_rows": OutboxMessage.objects.filter(channel="webhook", event="incident.created").count(),
  "deliveries": dict(WebhookDelivery.objects.values_list("state").annotate(n=Count("id")).order_by()),
  "delivery_ids": [str(x) for x in WebhookDelivery.objects.values_list("delivery_id", flat=True)],
}))
"""
    out = subprocess.run(
        [stack.PY, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def print_log_tails(work: Path, lines: int = 40) -> None:
    """On a failure, the end of each process's log, so CI's output tells what happened."""
    for log in sorted(work.glob("*.log")):
        text = log.read_text(errors="replace").splitlines()
        print(f"  --- last {min(lines, len(text))} lines of {log.name}")
        for line in text[-lines:]:
            print(f"  | {line}")


def redis_fault(args) -> bool:
    print(
        f"\n##### Redis fault: own redis-server on {HOST}:{FAULT_REDIS_PORT}, stopped for {args.outage:.0f} s during load"
    )
    work = Path(tempfile.mkdtemp(prefix="portal-fault-redis-"))
    redis_server = stack.RedisServer(FAULT_REDIS_PORT)
    redis_server.start()
    env = stack.app_env(
        db_url=stack.database_url("portal_bench_faults"),
        redis_url=redis_server.url,
        extra={
            "PORTAL_VAR_DIR": str(work),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "WEBHOOK_TIMEOUT_SECONDS": "3",
        },
    )
    receiver = Receiver(RECEIVER_PORT)
    web = celery = None
    try:
        stack.recreate_database("portal_bench_faults")
        stack.migrate(env)
        seed_data = load.run_seed(env)
        web = stack.Gunicorn(env, WEB_PORT, args.workers, work / "gunicorn.log")
        web.start()
        subscribe_webhooks(web.base, seed_data, receiver.url)
        celery = Celery(env, work)
        celery.start()
        time.sleep(args.settle)

        total = args.before + args.outage + args.after
        t0 = time.monotonic()
        runner, rec_holder = start_load(
            web.base, seed_data, seconds=total, clients=args.clients, ops=INCIDENT_OPS
        )
        time.sleep(args.before)
        down_at = time.monotonic() - t0
        subprocess.run(
            ["redis-cli", "-p", str(FAULT_REDIS_PORT), "shutdown", "nosave"], capture_output=True
        )
        redis_server.proc.wait(10)
        print(f"  redis stopped at t={down_at:.1f} s")
        health_down = requests.get(web.base + "/healthz", timeout=10)
        time.sleep(args.outage)
        redis_server.start()
        up_at = time.monotonic() - t0
        print(f"  redis started again at t={up_at:.1f} s")
        runner.join()
        rec, elapsed = rec_holder["rec"], rec_holder["elapsed"]
        summary = load.report(rec, elapsed, "load across the Redis outage")
        print(
            f"  /healthz while Redis was down: {health_down.status_code} {json.dumps({k: v['status'] for k, v in health_down.json()['checks'].items()})}"
        )
        phases = phase_report(
            rec, [("before", 0, down_at), ("redis down", down_at, up_at), ("after", up_at, 1e9)]
        )

        # Delivery after recovery: beat polls the outbox every 10 s and the webhook
        # retries every 15 s (50 per run); wait while it makes progress.
        drain_started = time.monotonic()
        last_progress, last_done = drain_started, -1
        while True:
            state = outbox_state(env)
            pending = state["outbox"].get("pending", 0)
            delivered = state["deliveries"].get("delivered", 0)
            undelivered = sum(n for s, n in state["deliveries"].items() if s != "delivered")
            done = state["outbox"].get("sent", 0) + delivered
            if done != last_done:
                last_progress, last_done = time.monotonic(), done
            drained = (
                pending == 0
                and undelivered == 0
                and len(state["delivery_ids"]) >= state["webhook_rows"]
            )
            stalled = time.monotonic() - last_progress > 90
            if drained or stalled or time.monotonic() - drain_started > args.drain_timeout:
                break
            time.sleep(3)
        drained_in = time.monotonic() - drain_started
    finally:
        if celery:
            celery.stop()
        if web:
            web.stop()
        receiver.close()
        redis_server.stop()
    inv = load.run_check(env)
    ok_inv = load.print_invariants(inv, rec)
    mails = mail_message_ids(work / "mail")
    email_keys = Counter(state["email_keys"])
    lost_mail = [k for k in email_keys if mails.get(k, 0) == 0]
    doubled_mail = [k for k, n in mails.items() if n > 1]
    lost_hooks = [d for d in state["delivery_ids"] if receiver.received.get(d, 0) == 0]
    doubled_hooks = [d for d, n in receiver.received.items() if n > 1]
    print(
        f"  outbox after recovery (waited {drained_in:.0f} s for delivery): {state['outbox']}; webhook deliveries: {state['deliveries']}"
    )
    print(
        f"  worker restarts after it exited on its own: {celery.restarts['worker']}, beat: {celery.restarts['beat']}"
        " (production restarts them too: docker-compose.yml, restart: unless-stopped)"
    )
    print(
        f"  e-mails: {len(email_keys)} outbox rows, {sum(mails.values())} sent, lost {len(lost_mail)}, doubled {len(doubled_mail)}"
    )
    print(
        f"  webhooks: {state['webhook_rows']} incident.created outbox rows, {len(state['delivery_ids'])} deliveries, "
        f"{sum(receiver.received.values())} received, lost {len(lost_hooks)}, doubled {len(doubled_hooks)}"
    )
    ok = (
        ok_inv
        and summary["five_xx"] == 0
        and summary["no_answer"] == 0
        and phases["redis down"]["incidents_filed"] > 0
        and state["outbox"].get("pending", 0) == 0
        and not lost_mail
        and not doubled_mail
        and not lost_hooks
        and not doubled_hooks
        and len(state["delivery_ids"]) == state["webhook_rows"]
    )
    print("REDIS FAULT:", "PASS" if ok else "FAIL")
    if ok and not celery.restarts["worker"]:
        shutil.rmtree(work, ignore_errors=True)
    elif ok:
        print(f"  logs kept in {work} (the worker was restarted: its log says why)")
    else:
        print(f"  logs kept in {work}")
        print_log_tails(work)
    return ok


# --- PostgreSQL ---------------------------------------------------------------------------


def pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if found:
        return str(found[-1])
    path = shutil.which(name)
    if not path:
        raise SystemExit(f"{name} not found")
    return path


class OwnPostgres:
    """A throwaway cluster in a temporary directory, run as the postgres user."""

    def __init__(self, port: int):
        assert port != 5432, "never touch the shared PostgreSQL"
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="portal-fault-pg-"))
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")

    def _as_postgres(self, *cmd, check=True):
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *cmd], check=check, capture_output=True, text=True)

    def init(self):
        self._as_postgres(
            pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync"
        )

    def start(self):
        opts = f"-p {self.port} -c listen_addresses={HOST} -k {self.dir} -c fsync=off"
        self._as_postgres(
            pg_bin("pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self):
        self._as_postgres(
            pg_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop", check=False
        )

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def postgres_fault(args) -> bool:
    print(
        f"\n##### PostgreSQL fault: own cluster on {HOST}:{FAULT_PG_PORT}, stopped for {args.pg_outage:.0f} s during load"
    )
    pg = OwnPostgres(FAULT_PG_PORT)
    redis_server = stack.RedisServer(FAULT_REDIS_PORT)
    web = None
    try:
        pg.init()
        pg.start()
        redis_server.start()
        env = stack.app_env(
            db_url=stack.database_url("portal_bench_faults", FAULT_PG_PORT),
            redis_url=redis_server.url,
        )
        stack.recreate_database("portal_bench_faults", FAULT_PG_PORT)
        stack.migrate(env)
        seed_data = load.run_seed(env)
        web = stack.Gunicorn(env, WEB_PORT, args.workers, pg.dir / "gunicorn.log")
        web.start()
        total = args.before + args.pg_outage + args.after
        t0 = time.monotonic()
        runner, rec_holder = start_load(
            web.base, seed_data, seconds=total, clients=args.clients, ops=MIXED_OPS, retry_503=True
        )
        # A browser's login form, fetched while the database is up, posted while it is down.
        browser = requests.Session()
        login_page = browser.get(web.base + "/accounts/login/", timeout=10)
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page.text).group(1)
        time.sleep(args.before)
        down_at = time.monotonic() - t0
        pg.stop()
        print(f"  PostgreSQL stopped at t={down_at:.1f} s")
        sample = requests.post(
            web.base + "/api/v1/incidents/",
            json={
                "work_order": seed_data["customers"][0]["work_order"],
                "contact": seed_data["customers"][0]["contacts"][0],
                "title": "during outage",
                "severity": "normal",
            },
            headers={"Authorization": f"Bearer {seed_data['customers'][0]['key']}"},
            timeout=10,
        )
        ui = browser.post(
            web.base + "/accounts/login/",
            data={"csrfmiddlewaretoken": csrf, "username": "someone", "password": "not-important"},
            headers={"Referer": web.base + "/accounts/login/"},
            timeout=10,
        )
        time.sleep(args.pg_outage)
        pg.start()
        up_at = time.monotonic() - t0
        print(f"  PostgreSQL started again at t={up_at:.1f} s (gunicorn not restarted)")
        runner.join()
        rec, elapsed = rec_holder["rec"], rec_holder["elapsed"]
        summary = load.report(rec, elapsed, "load across the PostgreSQL outage")
        print(
            f"  sample API answer while down: {sample.status_code} {sample.headers.get('Content-Type')} {sample.text[:120]}"
        )
        print(
            f"  sample UI login POST while down: {ui.status_code} {ui.headers.get('Content-Type')} {ui.text[:120]}"
        )
        phases = phase_report(
            rec, [("before", 0, down_at), ("postgres down", down_at, up_at), ("after", up_at, 1e9)]
        )
        first_ok_after = min(
            (at for at, _op, s in rec.timeline if at >= up_at and 200 <= s < 300), default=None
        )
        recovery = None if first_ok_after is None else first_ok_after - up_at
        print(
            f"  first success after PostgreSQL came back: {'never' if recovery is None else f'{recovery:.2f} s'}"
        )
        inv = load.run_check(env)
    finally:
        if web:
            web.stop()
        redis_server.stop()
        pg.remove()
    statuses = Counter()
    for c in rec.statuses.values():
        statuses.update(c)
    other_5xx = sum(n for s, n in statuses.items() if s >= 500 and s != 503)
    # Clients retried every 503 with the same Idempotency-Key: a write committed just as
    # PostgreSQL stopped (its answer lost) is replayed, not done twice, so the database
    # holds exactly the writes the clients saw succeed.
    ok_inv = load.print_invariants(inv, rec)
    ok = (
        ok_inv
        and other_5xx == 0
        and summary["no_answer"] == 0
        and statuses.get(503, 0) > 0
        and sample.status_code == 503
        and ui.status_code == 503
        and recovery is not None
        and sum(1 for s in phases["after"]["statuses"] if 200 <= s < 300) > 0
    )
    print(
        f"  503 answers: {statuses.get(503, 0)}; other 5xx: {other_5xx}; dropped connections: {summary['no_answer']}"
    )
    print("POSTGRES FAULT:", "PASS" if ok else "FAIL")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=("redis", "postgres", "both"), default="both")
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--before", type=float, default=8)
    parser.add_argument("--outage", type=float, default=12, help="seconds Redis stays down")
    parser.add_argument("--pg-outage", type=float, default=6, help="seconds PostgreSQL stays down")
    parser.add_argument("--after", type=float, default=10)
    parser.add_argument(
        "--drain-timeout", type=float, default=1200, help="longest wait for delivery after recovery"
    )
    parser.add_argument(
        "--settle", type=float, default=3, help="seconds between starting Celery and the load"
    )
    parser.add_argument("--smoke", action="store_true", help="second-long phases (CI)")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.workers = 2, 1
        args.before, args.outage, args.pg_outage, args.after = 1, 2, 2, 2
    results = []
    if args.scenario in ("redis", "both"):
        results.append(redis_fault(args))
    if args.scenario in ("postgres", "both"):
        results.append(postgres_fault(args))
    ok = all(results)
    print("\nRESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
