"""The client's address, believing ``X-Forwarded-For`` only from the proxies we were told about."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class InvalidNetwork(ValueError):
    pass


def parse_networks(values: Iterable[str]) -> list[Network]:
    """CIDR strings (or bare addresses) to networks; raises InvalidNetwork naming the bad one."""
    networks: list[Network] = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(value.strip(), strict=False))
        except ValueError:
            raise InvalidNetwork(f"not an IP network: {value!r}") from None
    return networks


@cache
def _trusted(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(parse_networks(proxies))


def _in_any(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in networks)


def client_ip(request: HttpRequest) -> str:
    """Walk X-Forwarded-For from the right while the hop is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    trusted = _trusted(tuple(settings.TRUSTED_PROXIES))
    if not trusted or not _in_any(remote, trusted):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    client = remote
    for hop in reversed(hops):
        client = hop
        if not _in_any(hop, trusted):
            break
    try:
        ipaddress.ip_address(client)
    except ValueError:
        return remote
    return client


def address_allowed(address: str, networks: Iterable[str]) -> bool:
    return _in_any(address, parse_networks(networks))
