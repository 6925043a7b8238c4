"""Where webhooks may be sent, and the one address a delivery connects to.

A customer's key can subscribe any URL, so without a guard the portal could be made
to POST to hosts inside its own network (server-side request forgery). In production
(WEBHOOK_ALLOW_PRIVATE_TARGETS off) only globally routable addresses may be targets:
`ipaddress`'s `is_global`, minus multicast and the special blocks it still counts as
global, and an IPv6 address that embeds an IPv4 one (IPv4-mapped, 6to4, Teredo, NAT64)
only when the embedded IPv4 address is global too. The check runs when subscribing
and again at every delivery, after resolving the name, and `resolve_target` returns
the addresses it checked: the delivery connects to one of those (with the name as
Host header and TLS server name), never resolving again, so the name cannot be
re-pointed at an internal host between the check and the send (DNS rebinding).
Local runs and tests allow private targets, so a ticketing tool on 127.0.0.1 can be
tried out; even then the delivery connects to the address resolved here.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

# Blocks that `is_global` lets through (depending on the Python version) but that are
# no place for a webhook: IETF protocol assignments, benchmarking, the 6to4 relay
# anycast, reserved and broadcast space, documentation, multicast.
_NOT_TARGETS = [
    ipaddress.ip_network(block)
    for block in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",  # local-use NAT64 (RFC 8215)
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "ff00::/8",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class TargetRefused(Exception):
    """A webhook URL that may not be sent to; the message says why, in plain words."""


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]  # the client's address
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def is_public_address(address: str) -> bool:
    """True only for a globally routable unicast address (and what an IPv6 one embeds)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_v4(ip)
        if embedded is not None:
            if embedded == ip.ipv4_mapped:
                return is_public_address(str(embedded))
            if not is_public_address(str(embedded)):
                return False
    if not ip.is_global or ip.is_multicast:
        return False
    return not any(ip.version == net.version and ip in net for net in _NOT_TARGETS)


@dataclass(frozen=True)
class Target:
    """A webhook URL resolved once: connect to `addresses`, name the host `host`."""

    parts: SplitResult
    host: str
    port: int
    addresses: tuple[str, ...]

    @property
    def https(self) -> bool:
        return self.parts.scheme == "https"

    @property
    def path(self) -> str:
        path = self.parts.path or "/"
        return f"{path}?{self.parts.query}" if self.parts.query else path


def resolve_target(url: str, *, resolve: bool = True) -> Target | None:
    """Resolve a webhook URL once and check every address; raises TargetRefused.
    With resolve=False only the URL's form is checked."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused(_("The URL's port must be a number from 1 to 65535.")) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("Only http and https URLs with a host name."))
    if port == 0:
        raise TargetRefused(_("The URL's port must be a number from 1 to 65535."))
    port = port or (443 if parts.scheme == "https" else 80)
    if not resolve:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, ValueError, OSError):
        raise TargetRefused(
            _("The host %(host)s cannot be resolved.") % {"host": parts.hostname}
        ) from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise TargetRefused(_("The host %(host)s cannot be resolved.") % {"host": parts.hostname})
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS and not all(
        is_public_address(a) for a in addresses
    ):
        raise TargetRefused(
            _(
                "Webhooks can only be sent to public addresses, not private, loopback or link-local ones."
            )
        )
    return Target(parts=parts, host=parts.hostname, port=port, addresses=addresses)


def url_target_error(url: str) -> str | None:
    """Why webhooks may not go to this URL, or None when they may."""
    try:
        # Locally (private targets allowed) a name need not resolve yet to subscribe.
        resolve_target(url, resolve=not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS)
    except TargetRefused as exc:
        return str(exc)
    return None
