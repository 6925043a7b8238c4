"""Time to compute and render a quarter's service review (issue #21), read-only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portal_bench_scale \\
        .venv/bin/python bench/reviews.py [--work-order ID] [--period 2026-Q3] [--png out.png]
    .venv/bin/python bench/reviews.py --smoke   # after bench/scale.py --smoke (CI)

Picks the work order with the most incidents (or --work-order) and the quarter with the
most of its incidents (or --period), then times, each --repeat times: the figures
(reviews.figures.review_figures), the PDF (reviews.render.render_pdf, WeasyPrint) and
the CSV of every table. It stores nothing (the figures are computed, not kept), so it can
run against another engineer's data set. --png writes the PDF's first page (pdftoppm,
Debian poppler-utils) for docs/screenshots/.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work-order", type=int)
    parser.add_argument("--period")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--png", help="write the PDF's first page here as PNG")
    parser.add_argument("--pdf", help="keep the PDF here")
    parser.add_argument("--language", default="en")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="once, on the smoke-scale database bench/scale.py --smoke builds (CI)",
    )
    args = parser.parse_args()
    if args.smoke:
        args.repeat = 1
        server = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432")
        os.environ["DATABASE_URL"] = f"{server}/portal_bench_scale_0_001"

    import django

    django.setup()
    from django.db import connection
    from django.db.models import Count
    from django.utils import translation

    from contracts.models import WorkOrder
    from incidents.models import Incident
    from reviews.figures import review_figures
    from reviews.periods import parse_period
    from reviews.render import render_pdf, review_context
    from reviews.selectors import business_today
    from reviews.tables import build_tables, to_csv

    translation.activate(args.language)
    if args.work_order:
        wo = WorkOrder.objects.select_related("customer", "support_location").get(
            pk=args.work_order
        )
    else:
        top = (
            Incident.objects.values("work_order_id").annotate(n=Count("id")).order_by("-n").first()
        )
        wo = WorkOrder.objects.select_related("customer", "support_location").get(
            pk=top["work_order_id"]
        )
    today = business_today()
    if args.period:
        key = args.period
    else:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT to_char(opened_at AT TIME ZONE %s, 'YYYY') || '-Q' || "
                "extract(quarter FROM opened_at AT TIME ZONE %s)::int AS q, count(*) "
                "FROM incidents_incident WHERE work_order_id = %s GROUP BY q ORDER BY 2 DESC LIMIT 1",
                ["Europe/Amsterdam", "Europe/Amsterdam", wo.pk],
            )
            key = cursor.fetchone()[0]
    period = parse_period(key, term_start=wo.start_date, term_end=wo.end_date, today=today)
    total = Incident.objects.filter(work_order=wo).count()
    print(
        f"database {connection.settings_dict['NAME']}: work order {wo.number} (id {wo.pk}), "
        f"{total} incidents in all; period {period.key}"
    )

    times = {"figures": [], "pdf": [], "csv": []}
    # CPU seconds of this process too: the shared machine's load moves wall time a lot,
    # the Python work much less (the database's own time is only in the wall figure).
    cpu = {"figures": [], "pdf": [], "csv": []}
    pdf = b""
    for _ in range(args.repeat):
        started, cpu0 = time.perf_counter(), time.process_time()
        figures = review_figures(
            work_orders=[wo], customer=wo.customer, period=period, scope="work_order", today=today
        )
        times["figures"].append(time.perf_counter() - started)
        cpu["figures"].append(time.process_time() - cpu0)
        started, cpu0 = time.perf_counter(), time.process_time()
        pdf = render_pdf(review_context(figures, staff=True))
        times["pdf"].append(time.perf_counter() - started)
        cpu["pdf"].append(time.process_time() - cpu0)
        started, cpu0 = time.perf_counter(), time.process_time()
        to_csv(build_tables(figures, staff=True))
        times["csv"].append(time.perf_counter() - started)
        cpu["csv"].append(time.process_time() - cpu0)
    print(
        f"incidents in the period {figures['incidents']['total']}, breaches "
        f"{len(figures['breaches'])}, escalations {len(figures['escalations'])}, "
        f"credit entries redeemed {figures['credits']['redeemed']}, hour blocks {len(figures['hours'])}"
    )
    for name, values in times.items():
        print(
            f"{name:8s} median {statistics.median(values):7.2f} s  (min {min(values):.2f}, "
            f"max {max(values):.2f}, n={len(values)}); CPU {statistics.median(cpu[name]):.2f} s"
        )
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.pdf) if args.pdf else Path(tmp) / "review.pdf"
        path.write_bytes(pdf)
        pages = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True).stdout
        print(
            next((line for line in pages.splitlines() if line.startswith("Pages")), "Pages: ?"),
            f"· {len(pdf) / 1024:.0f} KiB",
        )
        if args.png:
            out = Path(args.png)
            subprocess.run(
                [
                    "pdftoppm",
                    "-png",
                    "-r",
                    "110",
                    "-f",
                    "1",
                    "-l",
                    "1",
                    "-singlefile",
                    str(path),
                    str(out.with_suffix("")),
                ],
                check=True,
            )
            print(f"wrote {out}")


if __name__ == "__main__":
    main()
