"""Webhook URL checks (hub.http.urlsafety): IPv6 ways around the address rules are closed too."""

from __future__ import annotations

import ipaddress

import pytest

from hub.http import urlsafety


@pytest.fixture(autouse=True)
def strict(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_PRIVATE = False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        # RFC 3056 6to4: 2002:7f00:0001:: relays to 127.0.0.1.
        ("https://[2002:7f00:1::1]/hook", "6to4"),
        ("https://[2002:0808:0808::1]/hook", "6to4"),
        # RFC 3879 site-local, deprecated but still routed inside some networks.
        ("https://[fec0::1]/hook", "site-local"),
        # RFC 6052 NAT64 with a private or loopback IPv4 embedded in the last 32 bits.
        ("https://[64:ff9b::10.0.0.1]/hook", "privée derrière NAT64"),
        ("https://[64:ff9b::127.0.0.1]/hook", "bouclage"),
        ("https://[64:ff9b::169.254.169.254]/hook", "lien-local"),
        ("https://[64:ff9b:1::a00:1]/hook", "NAT64 locale"),
        # RFC 6761: every name under .localhost is loopback.
        ("https://api.localhost/hook", "bouclage"),
        ("https://LOCALHOST./hook", "bouclage"),
    ],
)
def test_refused_when_saved(url: str, reason: str) -> None:
    """Finding: "refuse 6to4 (2002::/16), site-local (fec0::/10), NAT64 with private
    embedded v4, and names under `.localhost`"."""
    with pytest.raises(urlsafety.UnsafeWebhookURL, match=reason):
        urlsafety.check_url(url)


def test_nat64_of_a_public_address_is_allowed() -> None:
    assert urlsafety.refused_address(ipaddress.ip_address("64:ff9b::8.8.8.8")) == ""


@pytest.mark.parametrize("address", ["2002:a00:1::1", "fec0::5", "64:ff9b::c0a8:1"])
def test_a_name_resolving_to_such_an_address_is_refused_at_delivery(address: str) -> None:
    with pytest.raises(urlsafety.UnsafeWebhookURL, match="refusée"):
        urlsafety.resolve_target("https://hooks.example/x", resolver=lambda host, port: [address])


def test_delivery_stays_pinned_to_the_checked_address() -> None:
    target = urlsafety.resolve_target(
        "https://hooks.example:8443/x?a=1", resolver=lambda host, port: ["2001:4860::8888"]
    )
    assert target.url == "https://[2001:4860::8888]:8443/x?a=1"
    assert (target.host, target.hostname) == ("hooks.example:8443", "hooks.example")
