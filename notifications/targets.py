"""Where webhooks may be sent.

A customer's key can subscribe any URL, so without a guard the portal could be made
to POST to hosts inside its own network (server-side request forgery). In production
(WEBHOOK_ALLOW_PRIVATE_TARGETS off) a URL whose host resolves to a loopback, private,
link-local, reserved or multicast address is refused when subscribing and again at
every delivery (the name may resolve differently later). Local runs and tests allow
them, so a ticketing tool on 127.0.0.1 can be tried out.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def url_target_error(url: str) -> str | None:
    """Why webhooks may not go to this URL, or None when they may."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Only http and https URLs with a host name.")
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return None
    try:
        infos = socket.getaddrinfo(
            parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
        )
    except (socket.gaierror, UnicodeError):
        return _("The host %(host)s cannot be resolved.") % {"host": parts.hostname}
    if any(_forbidden(info[4][0]) for info in infos):
        return _("Webhooks cannot be sent to private, loopback or link-local addresses.")
    return None
