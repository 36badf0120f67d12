"""Sending one signed webhook: the part every app's webhook deliveries share.

The body is signed with HMAC-SHA256 over ``<timestamp>.<body>`` (``sha256=<hex>``), the Unix
timestamp in its own header, so a receiver can check the sender and refuse replays. The URL is
checked again after DNS resolution and the request goes to the checked address
(``hub.http.urlsafety``). The delivery rows, their retries and re-sending are
``hub.services.webhooks``'s.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from hub.http import build_client, urlsafety


@dataclass(frozen=True)
class Attempt:
    acknowledged: bool  # a 2xx answer
    status_code: int | None
    error: str  # empty when acknowledged; else why, for the delivery's status
    body: bytes = b""  # the receiver's answer, for the callers that read it


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def post_signed(
    *,
    url: str,
    secret: str,
    payload: Mapping[str, Any],
    now: dt.datetime,
    provider: str,
    signature_header: str,
    timestamp_header: str,
    transport: httpx.BaseTransport | None = None,
    resolver: urlsafety.Resolver | None = None,
) -> Attempt:
    """POST ``payload`` once, signed; never raises for a network or address problem."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        timestamp_header: str(timestamp),
        signature_header: sign(secret=secret, timestamp=timestamp, body=body),
    }
    try:
        target = urlsafety.resolve_target(url, resolver=resolver or urlsafety.system_resolver)
        # No transport-level retries: the callers space their attempts out.
        with build_client(
            base_url=target.url, provider=provider, retries=0, transport=transport
        ) as client:
            response = client.post(
                "",
                content=body,
                headers={**headers, "Host": target.host},
                # TLS still checks the certificate against the name, not the pinned address.
                extensions={"sni_hostname": target.hostname},
            )
    except urlsafety.UnsafeWebhookURL as exc:
        return Attempt(False, None, f"adresse refusée : {exc.reason}"[:300])
    except httpx.HTTPError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}"[:300])
    error = "" if response.is_success else response.reason_phrase[:300]
    return Attempt(response.is_success, response.status_code, error, response.content)
