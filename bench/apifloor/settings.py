"""Settings of bench/api.py: the portal's, plus the floor app, its URL and a
response header counting SQL queries (BENCH only; production never loads this)."""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS, MIDDLEWARE

INSTALLED_APPS = [*INSTALLED_APPS, "bench.apifloor"]
MIDDLEWARE = ["bench.apifloor.middleware.QueryCountMiddleware", *MIDDLEWARE]
ROOT_URLCONF = "bench.apifloor.urls"
BENCH = True
