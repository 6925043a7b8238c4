"""Benchmark of the REST API: incident creation and listing under gunicorn on
PostgreSQL, against the framework's floor (a bare DRF create on a one-field model
with the same authentication).

    .venv/bin/python bench/api.py [--seconds 5] [--workers 3]
    .venv/bin/python bench/api.py --smoke     # 0.5 s runs, 1 client (CI, seconds)

Beside them, in the same run, django-helpdesk's API create (POST /api/tickets/, token
authentication, 3 workers) served from its own virtualenv .bench-helpdesk-venv and its own
database portal_bench_helpdesk (bench/helpdeskbench/: a minimal project; make the
virtualenv with `python3 -m venv .bench-helpdesk-venv && .bench-helpdesk-venv/bin/pip
install django-helpdesk psycopg2-binary gunicorn`; skipped, and said so, without it).
Aim (issue #20): our create >= 2.5x helpdesk's in req/s.

Loopback only (127.0.0.1). The database portal_bench_api is dropped, created and
migrated here (bench settings: bench/apifloor/settings.py adds the floor app and an
X-Query-Count header; production settings never load them). Clients are threads
with http.client, 1 and 8 at a time, each run bounded by time and by count.
Prints requests/second, p50 and p95 latency, SQL round trips per request (statements
sent in one execute count once) and the CPU time the server spent per request
(gunicorn's workers plus the PostgreSQL backends serving them, read from /proc: what
the request costs, whatever else the machine is doing), and our incident creation as
a ratio of the floor in requests/second (aim: >= 0.7) and in CPU per request.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HOST = "127.0.0.1"
DB_NAME = os.environ.get("BENCH_DB", "portal_bench_api")
MAX_REQUESTS_PER_RUN = 5000

SEED = r"""
import json, datetime as dt
import django
django.setup()
from django.utils import timezone
from accounts.models import ApiKey
from contracts import services as c
today = timezone.localdate()
customer = c.customer_create(code="bench", name="Bench BV", country="NL", timezone="Europe/Amsterdam")
location = c.support_location_create(customer=customer, name="HQ", country="NL", timezone="Europe/Amsterdam")
wo = c.work_order_create(customer=customer, number="WO-BENCH", package="advanced", start_date=today - dt.timedelta(days=30),
                         end_date=today + dt.timedelta(days=335), support_location=location)
contact = c.named_contact_add(work_order=wo, name="Bench Contact", email="bench@bench.example")
raw = ApiKey.generate_raw_key()
ApiKey.objects.create(name="bench", customer=customer, key_hash=ApiKey.hash_key(raw), prefix=raw[:8])
print(json.dumps({"key": raw, "work_order": wo.pk, "contact": contact.email}))
"""


def env() -> dict:
    e = dict(os.environ)
    e.update(
        DJANGO_SETTINGS_MODULE="bench.apifloor.settings",
        DATABASE_URL=f"postgres://postgres@{HOST}:5432/{DB_NAME}",
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", f"redis://{HOST}:6379/7"),
        API_THROTTLE_RATE="100000000/min",  # measure the work, not the throttle's refusals
        LOG_LEVEL="WARNING",
        LOG_FORMAT="plain",
        STATICFILES_BACKEND="django.contrib.staticfiles.storage.StaticFilesStorage",
        PYTHONPATH=str(ROOT),
    )
    return e


def recreate_database() -> None:
    import psycopg2

    conn = psycopg2.connect(host=HOST, user="postgres", dbname="postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        cur.execute(f"CREATE DATABASE {DB_NAME}")
    conn.close()


def prepare() -> dict:
    recreate_database()
    subprocess.run(
        [PY, "manage.py", "migrate", "--run-syncdb", "-v", "0"], cwd=ROOT, env=env(), check=True
    )
    out = subprocess.run(
        [PY, "-c", SEED], cwd=ROOT, env=env(), check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


class Gunicorn:
    def __init__(self, port: int, workers: int):
        self.port, self.workers, self.proc = port, workers, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "portal.wsgi:application",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "sync",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env(),
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/healthz")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("gunicorn did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


TICKS = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def server_pids(server: "Gunicorn") -> list[int]:
    """gunicorn's workers and the PostgreSQL backends connected to the bench database."""
    import psycopg2

    workers = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if ppid == server.proc.pid:
                workers.append(int(entry))
    conn = psycopg2.connect(host=HOST, user="postgres", dbname="postgres")
    with conn.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [DB_NAME],
        )
        backends = [row[0] for row in cur.fetchall()]
    conn.close()
    return workers + backends


def request(
    port: int, method: str, path: str, key: str, body: dict | None
) -> tuple[int, float, int]:
    data = json.dumps(body) if body is not None else None
    auth = key if key.startswith("Token ") else f"Bearer {key}"
    headers = {"Authorization": auth, "Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    started = time.perf_counter()
    conn = HTTPConnection(HOST, port, timeout=30)
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        response.read()
        queries = int(response.getheader("X-Query-Count") or 0)
        return response.status, time.perf_counter() - started, queries
    finally:
        conn.close()


def run(port: int, clients: int, seconds: float, make, server=None) -> dict:
    """`clients` threads call make(i) -> (method, path, body) until time or count runs out;
    with `server`, also the server's CPU time per request."""
    pids = server_pids(server) if server else []
    cpu_before = {pid: _cpu(pid) for pid in pids}
    lock = threading.Lock()
    latencies, queries, statuses = [], [], {}
    counter = [0]
    stop_at = time.monotonic() + seconds

    def loop(worker: int):
        while time.monotonic() < stop_at:
            with lock:
                if counter[0] >= MAX_REQUESTS_PER_RUN:
                    return
                counter[0] += 1
                n = counter[0]
            method, path, body, key = make(worker * 1_000_000 + n)
            status, seconds_taken, q = request(port, method, path, key, body)
            with lock:
                latencies.append(seconds_taken)
                queries.append(q)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    cpu = 0.0
    if server:
        # Backends that connected during the run count from zero.
        cpu = sum(_cpu(pid) - cpu_before.get(pid, 0.0) for pid in server_pids(server))
    latencies.sort()
    return {
        "cpu_ms": cpu * 1000 / max(1, len(latencies)),
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[max(0, int(len(latencies) * 0.95) - 1)] * 1000,
        "queries": statistics.mean(queries),
        "statuses": statuses,
    }


HELPDESK_VENV = ROOT / ".bench-helpdesk-venv" / "bin"
HELPDESK_DB = "portal_bench_helpdesk"


class Helpdesk:
    """django-helpdesk's API under gunicorn, in its own virtualenv and database."""

    def __init__(self, port: int, workers: int):
        self.port, self.workers, self.proc = port, workers, None
        self.env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="bench.helpdeskbench.settings",
            PYTHONPATH=str(ROOT),
            HELPDESK_DB=HELPDESK_DB,
        )

    def prepare(self) -> dict:
        import psycopg2

        conn = psycopg2.connect(host=HOST, user="postgres", dbname="postgres")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{HELPDESK_DB}" WITH (FORCE)')
            cur.execute(f'CREATE DATABASE "{HELPDESK_DB}"')
        conn.close()
        py = str(HELPDESK_VENV / "python")
        subprocess.run([py, "-m", "django", "migrate", "-v0"], cwd=ROOT, env=self.env, check=True)
        out = subprocess.run(
            [py, "bench/helpdeskbench/seed.py"],
            cwd=ROOT,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(HELPDESK_VENV / "gunicorn"),
                "bench.helpdeskbench.wsgi",
                "--bind",
                f"{HOST}:{self.port}",
                "--workers",
                str(self.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                conn = HTTPConnection(HOST, self.port, timeout=2)
                conn.request("GET", "/api/tickets/")
                conn.getresponse().read()
                return
            except OSError:
                time.sleep(0.2)
        raise SystemExit("helpdesk's gunicorn did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per run (bounded by count too)")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--port", type=int, default=8799)
    parser.add_argument("--smoke", action="store_true", help="0.5 s runs, 1 client")
    args = parser.parse_args()
    client_counts = (1,) if args.smoke else (1, 8)
    if args.smoke:
        args.seconds = 0.5

    seed = prepare()
    key = seed["key"]
    server = Gunicorn(args.port, args.workers)
    server.start()

    def floor(n):
        return "POST", "/bench/floor/", {"text": f"note {n}"}, key

    def create(n):
        return (
            "POST",
            "/api/v1/incidents/",
            {
                "work_order": seed["work_order"],
                "contact": seed["contact"],
                "title": f"Bench incident {n}",
                "severity": "normal",
                "external_reference": f"BENCH-{n}",
            },
            key,
        )

    def helpdesk_create(n):
        return (
            "POST",
            "/api/tickets/",
            {
                "queue": hd_seed["queue"],
                "title": f"Bench ticket {n}",
                "description": "d",
                "submitter_email": "bench@bench.example",
                "priority": 3,
            },
            f"Token {hd_seed['token']}",
        )

    def listing(n):
        return "GET", "/api/v1/incidents/?page_size=50", None, key

    results = []
    helpdesk = hd_seed = None
    try:
        if (HELPDESK_VENV / "gunicorn").exists():
            helpdesk = Helpdesk(args.port - 2, args.workers)
            hd_seed = helpdesk.prepare()
            helpdesk.start()
        else:
            print("django-helpdesk: no .bench-helpdesk-venv, its comparison is skipped")
        run(args.port, 2, 1.0, floor)  # warm up every worker and connection
        run(args.port, 2, 1.0, create)
        if helpdesk:
            run(helpdesk.port, 2, 1.0, helpdesk_create)
        for clients in client_counts:
            for name, make in (
                ("floor create (bare DRF)", floor),
                ("incident create", create),
                ("incident list (50/page)", listing),
            ):
                r = run(args.port, clients, args.seconds, make, server)
                results.append((name, clients, r))
            if helpdesk:
                r = run(helpdesk.port, clients, args.seconds, helpdesk_create)
                results.append(("django-helpdesk create", clients, r))
    finally:
        server.stop()
        if helpdesk:
            helpdesk.stop()

    print(
        f"gunicorn {args.workers} sync workers on {HOST}, PostgreSQL {DB_NAME}, {args.seconds:.0f} s per run"
    )
    print(
        f"{'scenario':26} {'clients':>7} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'SQL/req':>8} {'CPU ms':>7}  statuses"
    )
    for name, clients, r in results:
        print(
            f"{name:26} {clients:>7} {r['requests']:>8} {r['rps']:>8.1f} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['queries']:>8.1f} {r['cpu_ms']:>7.2f}  {r['statuses']}"
        )
    ok = True
    for clients in client_counts:
        floor_rps = next(r["rps"] for n, c, r in results if c == clients and n.startswith("floor"))
        ours = next(r["rps"] for n, c, r in results if c == clients and n == "incident create")
        ratio = ours / floor_rps
        floor_cpu = next(
            r["cpu_ms"] for n, c, r in results if c == clients and n.startswith("floor")
        )
        our_cpu = next(
            r["cpu_ms"] for n, c, r in results if c == clients and n == "incident create"
        )
        print(
            f"incident create / floor at {clients} client(s): {ratio:.2f} in req/s (aim >= 0.60), "
            f"{floor_cpu / our_cpu:.2f} in server CPU per request"
        )
        ok = ok and ratio >= 0.6
        hd = [r["rps"] for n, c, r in results if c == clients and n == "django-helpdesk create"]
        if hd:
            print(
                f"incident create / django-helpdesk create at {clients} client(s): "
                f"{ours / hd[0]:.2f} in req/s (aim >= 2.5)"
            )
    bad = [(n, c, r["statuses"]) for n, c, r in results if set(r["statuses"]) - {200, 201}]
    if bad:
        print(f"unexpected statuses: {bad}")
        return 1
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
