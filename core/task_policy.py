"""How our Celery tasks that touch the database are declared: one retry policy for all."""

from celery import shared_task
from django.db import InterfaceError, OperationalError


def db_task(*, name: str, soft_time_limit: int, time_limit: int, retry_backoff: int):
    """`shared_task` acked late (a crashed worker's task runs again) and retried up to three
    times with backoff when the database connection drops; the task must be idempotent."""
    return shared_task(
        name=name,
        acks_late=True,
        soft_time_limit=soft_time_limit,
        time_limit=time_limit,
        autoretry_for=(OperationalError, InterfaceError),
        retry_backoff=retry_backoff,
        max_retries=3,
    )
