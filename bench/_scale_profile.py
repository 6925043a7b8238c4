"""Where the time goes: each page and list of bench/scale.py requested in-process (Django's
test client) against a bench database, with every SQL statement slower than --slow ms
printed with its time.

    .venv/bin/python bench/_scale_profile.py portal_bench_scale [--slow 10] [--match queue]
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("--slow", type=float, default=10)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    from bench import _scale_measure as m
    from bench.scale import SERVER

    os.environ.update(
        DATABASE_URL=f"{SERVER}/{args.db}",
        DJANGO_SETTINGS_MODULE="bench.scalesite.settings",
        LOG_LEVEL="ERROR",
        LOG_FORMAT="plain",
    )
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/7")
    out = subprocess.run(
        [m.PY, "-c", m.PREPARE],
        cwd=ROOT,
        env=os.environ,
        check=True,
        capture_output=True,
        text=True,
    )
    ids = json.loads(out.stdout.strip().splitlines()[-1])
    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    clients = {}
    for who in ("manager", "contact"):
        c = Client()
        c.cookies["sessionid"] = ids[who]
        clients[who] = c
    for who in ("staff_key", "acme_key"):
        clients[who] = Client(HTTP_AUTHORIZATION=f"Bearer {ids[who]}")
    for label, who, path in m.requests_for(ids):
        if args.match not in label or path.startswith("CURSOR:"):
            continue
        slow = []

        def timer(execute, sql, params, many, context, slow=slow):
            t = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                ms = (time.perf_counter() - t) * 1000
                if ms >= args.slow:
                    slow.append((ms, sql % tuple(repr(p) for p in params) if params else sql))

        clients[who].get(path)  # warm
        t = time.perf_counter()
        with connection.execute_wrapper(timer):
            r = clients[who].get(path)
        print(
            f"{(time.perf_counter() - t) * 1000:8.1f} ms {r.status_code} {label} {path}", flush=True
        )
        for ms, sql in slow:
            shown = sql if len(sql) <= 900 else sql[:300] + " ... " + sql[-600:]
            print(f"      {ms:8.1f} ms  {shown}")


if __name__ == "__main__":
    main()
