"""Password reset with a throttle: past PASSWORD_RESET_PER_HOUR requests for one
address, or from one client, in an hour the answer is 429 and nothing is sent (a
reset form is otherwise a way to flood someone's mailbox)."""

import hashlib

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext as _

HOUR = 3600


def _over_limit(kind: str, value: str) -> bool:
    """Count one request for (kind, value) in the current hour; True past the limit."""
    key = f"pwreset:{kind}:{hashlib.sha256(value.encode()).hexdigest()[:32]}"
    cache.add(key, 0, HOUR)  # the hour starts at the first request
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr (or the cache is down)
        cache.set(key, 1, HOUR)
        count = 1
    return count > getattr(settings, "PASSWORD_RESET_PER_HOUR", 5)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "").strip().lower()
        client = request.META.get("REMOTE_ADDR", "")
        # Both counted on every request, so one cannot be used to dodge the other.
        by_address = _over_limit("email", email)
        by_client = _over_limit("client", client)
        if by_address or by_client:
            return HttpResponse(
                _("Too many password reset requests. Try again in an hour."),
                status=429,
                content_type="text/plain; charset=utf-8",
                headers={"Retry-After": str(HOUR)},
            )
        return super().post(request, *args, **kwargs)
