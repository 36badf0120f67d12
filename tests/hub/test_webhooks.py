"""One signed webhook POST: signature, pinned address, refusals reported rather than raised."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

import httpx

from hub.http import webhooks

NOW = dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
PUBLIC = lambda host, port: ["93.184.216.34"]  # noqa: E731 - a resolver without DNS


def _post(transport, *, url="https://receiver.example/hook", resolver=PUBLIC):
    return webhooks.post_signed(
        url=url,
        secret="s3cret",
        payload={"event": "x"},
        now=NOW,
        provider="test",
        signature_header="X-Sig",
        timestamp_header="X-Ts",
        transport=transport,
        resolver=resolver,
    )


def test_signed_and_sent_to_the_checked_address():
    seen: list[httpx.Request] = []
    outcome = _post(httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)))
    assert outcome == webhooks.Attempt(True, 200, "")
    [request] = seen
    assert request.url.host == "93.184.216.34" and request.headers["Host"] == "receiver.example"
    mac = hmac.new(b"s3cret", f"{int(NOW.timestamp())}.".encode() + request.content, "sha256")
    assert request.headers["X-Sig"] == f"sha256={mac.hexdigest()}"
    assert request.headers["X-Ts"] == str(int(NOW.timestamp()))
    assert hashlib.sha256(request.content).hexdigest()  # a body was sent


def test_refusals_and_failures_are_outcomes(settings):
    settings.WEBHOOK_ALLOW_PRIVATE = False
    never = httpx.MockTransport(lambda r: httpx.Response(500))
    private = _post(never, resolver=lambda host, port: ["192.168.1.10"])
    assert not private.acknowledged and "adresse privée" in private.error

    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    failed = _post(httpx.MockTransport(down))
    assert not failed.acknowledged and failed.status_code is None and "ConnectError" in failed.error
    busy = _post(httpx.MockTransport(lambda r: httpx.Response(503)))
    assert busy == webhooks.Attempt(False, 503, "Service Unavailable")
