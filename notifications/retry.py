"""The wait between delivery attempts, shared by the outbox (notifications.delivery) and
the webhook deliveries (notifications.webhooks): 30 s, 1 min, 2 min ... doubling up
to a cap each of them sets."""

import datetime as dt

BACKOFF_BASE_SECONDS = 30


def backoff(attempts: int, *, cap_seconds: int) -> dt.timedelta:
    """Wait after failed attempt number `attempts` (1-based) before the next one."""
    return dt.timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), cap_seconds))
