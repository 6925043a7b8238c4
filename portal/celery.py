"""The Celery app. The beat schedule lives in one place: portal/schedule.py."""

import os

from celery import Celery

from portal import kombu_fix

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
kombu_fix.install()  # the worker survives a Redis restart (see portal/kombu_fix.py)

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _install_beat_schedule(sender, **kwargs):
    from portal.schedule import beat_schedule

    sender.conf.beat_schedule = beat_schedule()
