"""Which webhook targets the hub may call: public https addresses only, unless allowed otherwise.

Shared by every app that calls a URL its customers typed (Smart OA site controllers, TIC
PREAVIS receivers).

A webhook URL is typed by a customer, so without a check the hub could be made to POST to its
own loopback, to the cloud metadata address (169.254.169.254) or to anything on the private
network it runs in. Two checks:

* at save time (:func:`check_url`): the scheme and, when the host is an IP literal, the address;
* at delivery time (:func:`resolve_target`): every address the host name resolves to. The
  request is then sent to the checked address itself (the URL's host stays in ``Host`` and in
  TLS's server name), so a DNS answer that changes between the check and the connection (DNS
  rebinding) cannot redirect it.

``WEBHOOK_ALLOW_PRIVATE`` (on by default only with ``HUB_SIMULATORS``, i.e. on the
embedded local run and in tests) lifts both rules: http:// and non-public addresses are allowed.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses it resolves to (a seam so tests need no DNS).
Resolver = Callable[[str, int], list[str]]


class UnsafeWebhookURL(ValueError):
    """The URL may not be called; ``reason`` says why (French, shown in the portal and admin)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """Where to send: ``url`` has the checked address as host; ``host`` is the name it replaced."""

    url: str
    host: str  # the Host header: name[:port]
    hostname: str  # the name alone, for TLS
    address: str


def allow_private() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_PRIVATE", False))


# IPv6 prefixes that reach IPv4 hosts or a site's own network whatever Python calls them.
SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")  # RFC 3056: a relay to the embedded v4
SITE_LOCAL = ipaddress.IPv6Network("fec0::/10")  # RFC 3879: deprecated, still routed inside
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")  # RFC 6052: the last 32 bits are v4
NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")  # RFC 8215: an operator's own NAT64


def refused_address(address: IPAddress) -> str:
    """Why ``address`` may not be called, or "" if it may."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
        elif address in SIX_TO_FOUR:
            return "adresse 6to4 (2002::/16)"
        elif address in SITE_LOCAL:
            return "adresse site-local (fec0::/10)"
        elif address in NAT64_LOCAL:
            return "adresse NAT64 locale (64:ff9b:1::/48)"
        elif address in NAT64_WELL_KNOWN:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
            reason = refused_address(embedded)
            if reason:
                return f"{reason} derrière NAT64 ({embedded})"
            return ""
    if address.is_loopback:
        return "adresse de bouclage (loopback)"
    if address.is_link_local:
        return "adresse lien-local"
    if address.is_multicast:
        return "adresse multicast"
    # Before "private": Python counts 0.0.0.0/8 and 240.0.0.0/4 as private too.
    if address.is_reserved or address.is_unspecified:
        return "adresse réservée"
    if address.is_private:
        return "adresse privée"
    if not address.is_global:  # shared address space (100.64.0.0/10) and the like
        return "adresse réservée"
    return ""


def _parts(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeWebhookURL("seules les adresses https:// sont acceptées")
    if scheme != "https" and not allow_private():
        raise UnsafeWebhookURL("seules les adresses https:// sont acceptées")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("pas d'identifiants dans l'adresse")
    host = parts.hostname or ""
    if not host:
        raise UnsafeWebhookURL("l'adresse n'a pas d'hôte")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UnsafeWebhookURL("port invalide") from None
    return scheme, host, port


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def check_url(url: str) -> None:
    """Refuse, before saving, a URL whose scheme or literal address may not be called."""
    _scheme, host, _port = _parts(url)
    address = _literal(host)
    if address is not None and not allow_private():
        reason = refused_address(address)
        if reason:
            raise UnsafeWebhookURL(f"{reason} refusée : {host}")
    name = host.lower().rstrip(".")
    # RFC 6761: localhost and every name under .localhost resolve to loopback.
    if (
        name in ("localhost", "localhost.localdomain") or name.endswith(".localhost")
    ) and not allow_private():
        raise UnsafeWebhookURL(f"adresse de bouclage (loopback) refusée : {host}")


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise UnsafeWebhookURL(f"nom d'hôte introuvable : {host} ({exc})") from None
    return sorted({str(info[4][0]) for info in infos})


def resolve_target(url: str, *, resolver: Resolver = system_resolver) -> Target:
    """Check ``url`` again, resolve its host and check every address; pin the first one."""
    check_url(url)
    scheme, host, port = _parts(url)
    literal = _literal(host)
    addresses = [str(literal)] if literal is not None else resolver(host, port)
    if not addresses:
        raise UnsafeWebhookURL(f"nom d'hôte introuvable : {host}")
    if not allow_private():
        for candidate in addresses:
            reason = refused_address(ipaddress.ip_address(candidate))
            if reason:
                # Any refused address refuses the host: a resolver may hand out either.
                raise UnsafeWebhookURL(f"{reason} refusée : {host} → {candidate}")
    address = addresses[0]
    netloc = f"[{address}]" if ":" in address else address
    parts = urlsplit(url)
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    pinned = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    return Target(url=pinned, host=parts.netloc.rsplit("@", 1)[-1], hostname=host, address=address)
