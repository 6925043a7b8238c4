"""Benchmark of every page and list at a vendor's real volume (issue #20).

    .venv/bin/python bench/scale.py [--factor 1] [--rebuild] [--repeat 15] [--build-only]
    .venv/bin/python bench/scale.py --smoke          # = --factor 0.001 --repeat 3 (CI, seconds)

Builds (or reuses, when its recorded factor matches) the database portal_bench_scale
(`portal_bench_scale_<factor>` for another factor) with COPY at the issue's shape
(bench/_scale_build.py: 5,000 customers, 15,000 work orders, 150,000 named contacts,
3,000,000 incidents of which 50,000 open, history and timeline rows, 1,000,000 ledger
entries, 300,000 redemptions, 200,000 webhook deliveries; times --factor), on top of the
demo data set (its logins and passwords; Acme the largest customer), and the database
portal_bench_demo with the demo data set alone. Then it serves each with gunicorn
(2 workers, loopback, its own port) and requests every staff page, customer page and
API list (first page, a deep page or cursor, each documented filter) as the demo
`manager` and `contact@acme.example`: the first request (cold: a fresh server) and
--repeat more (warm), p50 and p95 of the server time (the X-Server-Time header the bench
settings add: the view's wall time inside the worker, no network or client), side by side
with the same request on the demo data set and the ratio. Aims (issue #20): p95 < 150 ms
and at most 2x the demo's, at the full scale. Ends with the deadline sweep with nothing
due (aim < 20 ms at the full scale).

The server is BENCH_SERVER_URL (default postgres://postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PY = str(ROOT / ".venv" / "bin" / "python")
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
HOST = "127.0.0.1"
DEMO_DB = "portal_bench_demo"
PASSWORDS = {
    "manager": "demo-manager-2026",
    "auditor": "demo-auditor-2026",
    "contact@acme.example": "demo-contact-2026",
}


def db_name(factor: float) -> str:
    if factor == 1:
        return "portal_bench_scale"
    return "portal_bench_scale_" + re.sub(r"[^0-9]", "_", f"{factor:g}")


def psql(db: str, sql: str, params=None):
    import psycopg2

    conn = psycopg2.connect(f"{SERVER}/{db}")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def env_for(db: str, settings: str = "portal.settings") -> dict:
    e = dict(os.environ)
    e.update(
        DATABASE_URL=f"{SERVER}/{db}",
        DJANGO_SETTINGS_MODULE=settings,
        LOG_LEVEL="ERROR",
        LOG_FORMAT="plain",
    )
    e.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    return e


def recorded_factor(db: str) -> float | None:
    if not psql("postgres", "SELECT 1 FROM pg_database WHERE datname = %s", [db]):
        return None
    rows = psql(db, "SELECT to_regclass('bench_scale_meta') IS NOT NULL")
    if not rows or not rows[0][0]:
        return None
    got = psql(db, "SELECT factor FROM bench_scale_meta WHERE complete")
    return got[0][0] if got else None


def build_database(db: str, factor: float | None) -> None:
    """Drop and create `db`, migrate, seed the demo set, and (factor) add the volume.

    A scale database starts as a copy of the demo one (CREATE DATABASE ... TEMPLATE):
    one migrate for both."""
    psql("postgres", f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    e = env_for(db)
    started = time.perf_counter()
    if factor is None:
        psql("postgres", f'CREATE DATABASE "{db}"')
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=e, check=True)
        subprocess.run(
            [PY, "manage.py", "seed_demo"], cwd=ROOT, env=e, check=True, stdout=subprocess.DEVNULL
        )
        psql(
            db, "CREATE TABLE bench_scale_meta (factor float, complete bool, built_at timestamptz)"
        )
    else:
        psql("postgres", f'CREATE DATABASE "{db}" TEMPLATE "{DEMO_DB}"')
        psql(db, "DELETE FROM bench_scale_meta")
    if factor is not None:
        print(f"building {db} at factor {factor:g} with COPY ...", flush=True)
        subprocess.run(
            [PY, str(ROOT / "bench" / "_scale_build.py"), f"{SERVER}/{db}", str(factor)],
            cwd=ROOT,
            env=e,
            check=True,
        )
    # The worker's precomputed aggregates, as its beat would have made them.
    subprocess.run([PY, "manage.py", "refresh_aggregates"], cwd=ROOT, env=e, check=False)
    psql(db, "VACUUM ANALYZE")
    psql(db, "INSERT INTO bench_scale_meta VALUES (%s, true, now())", [factor or 0])
    print(f"built {db} in {time.perf_counter() - started:.0f} s", flush=True)


def ensure(db: str, factor: float | None, rebuild: bool) -> None:
    want = factor or 0
    have = recorded_factor(db)
    if rebuild or have is None or abs(have - want) > 1e-12:
        build_database(db, factor)
    else:
        print(f"reusing {db} (factor {want:g}); migrating it to this checkout", flush=True)
        e = env_for(db)
        subprocess.run([PY, "manage.py", "migrate", "-v0"], cwd=ROOT, env=e, check=True)
        subprocess.run([PY, "manage.py", "refresh_aggregates"], cwd=ROOT, env=e, check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=1.0)
    parser.add_argument("--smoke", action="store_true", help="--factor 0.001 --repeat 3")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--port", type=int, default=8720)
    parser.add_argument("--json", help="also write every figure to this file")
    parser.add_argument(
        "--match", default="", help="only the requests whose label holds one of these (a,b,c)"
    )
    args = parser.parse_args()
    if args.smoke:
        args.factor, args.repeat = 0.001, 3
    db = db_name(args.factor)
    ensure(DEMO_DB, None, False)  # the template of the scale database and the baseline
    ensure(db, args.factor, args.rebuild)
    if args.build_only:
        return 0
    from bench import _scale_measure

    return _scale_measure.run(db, DEMO_DB, args)


if __name__ == "__main__":
    sys.exit(main())
