"""Settings of bench/scale.py: the portal's, plus a response header with the server time
and one with the SQL count (bench only; production never loads this)."""

from portal.settings import *  # noqa: F403
from portal.settings import MIDDLEWARE

MIDDLEWARE = ["bench.scalesite.middleware.ServerTimeMiddleware", *MIDDLEWARE]
BENCH = True
# The bench signs in many times a second from one address.
AXES_ENABLED = False
