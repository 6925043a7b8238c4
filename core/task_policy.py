"""How our Celery tasks are declared: one retry policy for all, in this one place.

Every task of the project is idempotent and touches the database, so every task:

* is acked late (a crashed worker's task runs again);
* is retried when the database connection drops (OperationalError, InterfaceError),
  with exponential backoff (`retry_backoff` seconds, doubled each time, capped at
  `retry_backoff_max`, jittered) up to `max_retries` times; anything else is logged
  by Celery and the next beat tick (or the caller) tries again.

A task states only what is its own: its name, its time limits and how soon a retry
comes; fewer retries where a later beat tick comes sooner than a long retry would.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

#: The errors worth a retry: the database went away for a moment.
RETRY_ON = (OperationalError, InterfaceError)
MAX_RETRIES = 3
#: Celery's own default cap on the backoff (seconds).
RETRY_BACKOFF_MAX = 600


def db_task(
    *,
    name: str,
    soft_time_limit: int,
    time_limit: int,
    retry_backoff: int,
    retry_backoff_max: int = RETRY_BACKOFF_MAX,
    max_retries: int = MAX_RETRIES,
):
    """`shared_task` with the project's retry policy (see the module's docstring)."""
    return shared_task(
        name=name,
        acks_late=True,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        autoretry_for=RETRY_ON,
        retry_backoff=retry_backoff,
        retry_backoff_max=retry_backoff_max,
        retry_jitter=True,
        max_retries=max_retries,
    )
