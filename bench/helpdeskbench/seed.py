"""Migrate-ready seed for the helpdesk comparison: a staff user, its token, a queue."""

import json

import django

django.setup()
from django.contrib.auth import get_user_model  # noqa: E402
from helpdesk.models import Queue  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

User = get_user_model()
user, _ = User.objects.get_or_create(
    username="bench", defaults={"is_staff": True, "is_superuser": True, "email": "b@x.example"}
)
token, _ = Token.objects.get_or_create(user=user)
queue, _ = Queue.objects.get_or_create(
    slug="bench", defaults={"title": "Bench", "email_address": "q@x.example"}
)
print(json.dumps({"token": token.key, "queue": queue.pk}))
