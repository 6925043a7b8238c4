"""The measuring half of bench/scale.py: serve a database with gunicorn, request every
page and list, cold and warm, and print them beside the demo data set."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
HOST = "127.0.0.1"
SETTINGS = "bench.scalesite.settings"

# What each database is asked, resolved in it (ids differ between the two databases).
PREPARE = r"""
import json
import django
django.setup()
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from django.db.models import Max
from accounts.models import ApiKey, User
from contracts.models import Customer, WorkOrder
from incidents.models import Incident

def session(username):
    user = User.objects.get(username=username)
    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key

def key(name, customer=None):
    raw = ApiKey.generate_raw_key()
    ApiKey.objects.create(name=name, customer=customer, key_hash=ApiKey.hash_key(raw), prefix=raw[:8])
    return raw

acme = Customer.objects.get(code="acme")
# Acme's busiest work order (by the work-order index), and its newest incident.
wo = max(WorkOrder.objects.filter(customer=acme), key=lambda w: w.incidents.count())
latest = Incident.objects.filter(work_order=wo).order_by("-opened_at").first()
print(json.dumps({
    "manager": session("manager"),
    "contact": session("contact@acme.example"),
    "staff_key": key("bench-staff"),
    "acme_key": key("bench-acme", acme),
    "acme": acme.pk,
    "wo": wo.pk,
    "incident": latest.pk,
    "number": latest.number,
    "external_reference": Incident.objects.filter(work_order__customer=acme).exclude(
        external_reference="").order_by("-opened_at").values_list("external_reference", flat=True).first() or "none",
}))
"""


def requests_for(ids: dict) -> list[tuple[str, str, str]]:
    """(label, who, path): who is manager, contact, staff_key or acme_key."""
    wo, inc, acme = ids["wo"], ids["incident"], ids["acme"]
    staff_pages = [
        ("dashboard", "/"),
        ("queue", "/incidents/"),
        ("queue page 20", "/incidents/?page=20"),
        ("queue all statuses", "/incidents/?all=1"),
        ("queue all, page 20", "/incidents/?all=1&page=20"),
        ("queue critical", "/incidents/?severity=critical"),
        ("queue breached", "/incidents/?breached=true"),
        ("queue customer=acme", "/incidents/?customer=acme"),
        ("queue search", "/incidents/?q=Mail"),
        ("queue closed", "/incidents/?status=closed"),
        ("incident detail", f"/incidents/{inc}/"),
        ("work orders", "/work-orders/"),
        ("work orders page 20", "/work-orders/?page=20"),
        ("work order overview", f"/work-orders/{wo}/"),
        ("work order history", f"/work-orders/{wo}/history/"),
        ("customers", "/customers/"),
        ("customer detail", f"/customers/{acme}/"),
        ("rates", f"/credits/customers/{acme}/rates/"),
        ("ops", "/ops/"),
    ]
    customer_pages = [
        ("home", "/"),
        ("incidents", "/incidents/"),
        ("incidents all", "/incidents/?all=1"),
        ("incidents all, page 20", "/incidents/?all=1&page=20"),
        ("incident detail", f"/incidents/{inc}/"),
        ("work order overview", f"/work-orders/{wo}/"),
    ]
    api = [
        ("incidents", "/api/v1/incidents/"),
        ("incidents last page", "/api/v1/incidents/?page=last"),
        ("incidents cursor x20", "CURSOR:/api/v1/incidents/?ordering=updated_at"),
        ("incidents status=new", "/api/v1/incidents/?status=new"),
        ("incidents severity", "/api/v1/incidents/?severity=critical"),
        ("incidents work_order", f"/api/v1/incidents/?work_order={wo}"),
        (
            "incidents external_reference",
            f"/api/v1/incidents/?external_reference={ids['external_reference']}",
        ),
        ("incidents breached", "/api/v1/incidents/?response_breached=true"),
        ("incidents customer", "/api/v1/incidents/?customer=acme"),
        ("incidents opened_after", "/api/v1/incidents/?opened_after=2026-01-01T00:00:00Z"),
        ("incidents number", f"/api/v1/incidents/?number={ids['number']}"),
        ("incidents language", "/api/v1/incidents/?language=nl"),
        ("incidents is_cloud", "/api/v1/incidents/?is_cloud=true"),
        ("incidents q", "/api/v1/incidents/?q=Mail"),
        ("work orders", "/api/v1/work-orders/"),
        ("work orders last page", "/api/v1/work-orders/?page=last"),
        ("customers", "/api/v1/customers/"),
        ("customers last page", "/api/v1/customers/?page=last"),
        ("rates", "/api/v1/rates/"),
        ("services", "/api/v1/services/"),
        ("credits of a work order", f"/api/v1/work-orders/{wo}/credits/"),
        ("redemptions of a work order", f"/api/v1/work-orders/{wo}/redemptions/"),
        ("contacts of a work order", f"/api/v1/work-orders/{wo}/contacts/"),
        ("webhooks", "/api/v1/webhooks/"),
    ]
    out = [(f"staff {label}", "manager", path) for label, path in staff_pages]
    out += [(f"customer {label}", "contact", path) for label, path in customer_pages]
    out += [(f"api staff {label}", "staff_key", path) for label, path in api]
    out += [
        (f"api acme {label}", "acme_key", path)
        for label, path in api
        if "customer" not in label and "webhooks" not in label
    ]
    return out


class Server:
    def __init__(self, db: str, port: int, env: dict):
        self.db, self.port, self.env = db, port, env
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [
                GUNICORN,
                "portal.wsgi",
                "-b",
                f"{HOST}:{self.port}",
                "-w",
                "2",
                "--timeout",
                "120",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(300):
            try:
                c = HTTPConnection(HOST, self.port, timeout=2)
                c.request("GET", "/healthz")
                c.getresponse().read()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def fetch(port, path, headers):
    c = HTTPConnection(HOST, port, timeout=300)
    started = time.perf_counter()
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    wall = (time.perf_counter() - started) * 1000
    server = float(r.getheader("X-Server-Time") or wall)
    return r.status, server, wall, int(r.getheader("X-Query-Count") or 0), body


def _next_link(body: bytes, path: str) -> str | None:
    """The `next` of an API page, or the "older" keyset link of a page (rel="next")."""
    if path.startswith("/api/"):
        nxt = json.loads(body).get("next")
        if not nxt:
            return None
        return nxt[nxt.index("/api/") :]
    import re

    m = re.search(rb'<a[^>]*rel="next"[^>]*href="([^"]+)"', body) or re.search(
        rb'<a[^>]*href="([^"]+)"[^>]*rel="next"', body
    )
    if not m:
        return None
    href = m.group(1).decode().replace("&amp;", "&")
    base = path.split("?")[0]
    return href if href.startswith("/") else base + href


def measure(port: int, ids: dict, repeat: int, log, match: str = "") -> dict:
    headers = {
        "manager": {"Cookie": f"sessionid={ids['manager']}"},
        "contact": {"Cookie": f"sessionid={ids['contact']}"},
        "staff_key": {"Authorization": f"Bearer {ids['staff_key']}"},
        "acme_key": {"Authorization": f"Bearer {ids['acme_key']}"},
    }
    results = {}
    for label, who, path in requests_for(ids):
        if match and not any(m.strip() in label for m in match.split(",")):
            continue
        h = headers[who]
        if path.startswith("CURSOR:"):
            # Follow `next` 20 times (a deep page by cursor); time the 20th.
            first = path[len("CURSOR:") :]
            deep = first
            for _ in range(20):
                status, *_rest, body = fetch(port, deep, h)
                nxt = _next_link(body, deep) if status == 200 else None
                if not nxt:
                    break
                deep = nxt
            path = deep
        times, status, queries = [], None, 0
        cold = None
        for i in range(repeat + 1):
            status, server, wall, queries, _ = fetch(port, path, h)
            if i == 0:
                cold = server
            else:
                times.append(server)
        times.sort()
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        results[label] = {
            "status": status,
            "cold": cold,
            "p50": statistics.median(times),
            "p95": p95,
            "queries": queries,
            "path": path,
        }
        log(
            f"    {label:<44} {status} cold {cold:8.1f} p50 {results[label]['p50']:8.1f} p95 {p95:8.1f} ms  q={queries}"
        )
    return results


def serve_and_measure(
    db: str, port: int, repeat: int, server_url: str, log, match: str = ""
) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{server_url}/{db}",
        DJANGO_SETTINGS_MODULE=SETTINGS,
        LOG_LEVEL="ERROR",
        LOG_FORMAT="plain",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{port}")
    subprocess.run(
        [PY, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    out = subprocess.run(
        [PY, "-c", PREPARE], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    server = Server(db, port, env)
    server.start()
    try:
        log(f"  {db} on port {port} (load average {_load()}):")
        results = measure(port, ids, repeat, log, match)
        log(f"  done (load average {_load()})")
        return results
    finally:
        server.stop()


def _load() -> str:
    """The machine's 1/5/15-minute load average (it is shared: every figure comes with it)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def sweep_nothing_due(db: str, server_url: str) -> float:
    code = r"""
import time, django
django.setup()
from django.utils import timezone
from incidents.sweep import run_deadline_sweep
runs = []
for _ in range(7):
    t = time.perf_counter(); run_deadline_sweep(now=timezone.now()); runs.append(time.perf_counter() - t)
runs.sort(); print(runs[len(runs) // 2] * 1000)
"""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=f"{server_url}/{db}",
        DJANGO_SETTINGS_MODULE="portal.settings",
        LOG_LEVEL="ERROR",
        LOG_FORMAT="plain",
    )
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    out = subprocess.run(
        [PY, "-c", code], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    return float(out.stdout.strip().splitlines()[-1])


def run(db: str, demo_db: str, args) -> int:
    from bench.scale import SERVER

    def log(msg):
        print(msg, flush=True)

    log(f"measuring (each request once cold, then {args.repeat} times warm; server time in ms)")
    match = getattr(args, "match", "") or ""
    scale = serve_and_measure(db, args.port, args.repeat, SERVER, log, match)
    demo = serve_and_measure(demo_db, args.port + 1, args.repeat, SERVER, log, match)
    log("")
    log(f"{'request':<46}{'scale p50':>10}{'p95':>8}{'cold':>9}{'demo p95':>10}{'ratio':>7}  aims")
    failed = []
    for label, s in scale.items():
        d = demo.get(label)
        ratio = s["p95"] / d["p95"] if d and d["p95"] else float("nan")
        ok = s["p95"] < 150 and ratio <= 2 and s["status"] == 200
        note = "ok" if ok else "MISSED"
        if not ok:
            failed.append(label)
        if s["status"] != 200:
            note += f" (HTTP {s['status']})"
        log(
            f"{label:<46}{s['p50']:10.1f}{s['p95']:8.1f}{s['cold']:9.1f}{(d or {}).get('p95', 0):10.1f}{ratio:7.2f}  {note}"
        )
    sweep = sweep_nothing_due(db, SERVER)
    log("")
    log(f"deadline sweep, nothing due, on {db}: {sweep:.1f} ms (aim < 20 ms)")
    log(f"load average at the end: {_load()} (2 cores, shared)")
    log(
        f"requests over an aim (p95 >= 150 ms or > 2x demo or not 200): {len(failed)} of {len(scale)}"
    )
    for label in failed:
        log(f"  {label}")
    if args.json:
        Path(args.json).write_text(
            json.dumps({"scale": scale, "demo": demo, "sweep_ms": sweep}, indent=1)
        )
    plans_ok = query_plans(db, SERVER, log)
    bad_status = [k for k, v in {**scale, **demo}.items() if v["status"] != 200]
    return 1 if bad_status or not plans_ok else 0


def query_plans(db: str, server_url: str, log) -> bool:
    """The hot queries' plans on this database (bench/_scale_plans.py): each reads its index."""
    env = dict(os.environ, DATABASE_URL=f"{server_url}/{db}", LOG_LEVEL="ERROR", LOG_FORMAT="plain")
    env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    out = subprocess.run(
        [PY, str(ROOT / "bench" / "_scale_plans.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    log("")
    log(f"query plans on {db} (sequential scans off, as on a big table):")
    for line in (out.stdout + out.stderr).strip("\n").splitlines():
        log(line)
    return out.returncode == 0


if __name__ == "__main__":
    sys.exit("run bench/scale.py")
