"""Telling plants of a new or changed stop: signed webhooks, retried until acknowledged.

Each body is signed with the endpoint's secret: ``X-SmartOA-Signature: sha256=<hex>`` is
HMAC-SHA256 over ``<timestamp>.<body>``, with the timestamp (Unix seconds) in
``X-SmartOA-Timestamp``, so a receiver can refuse replays. A 2xx answer acknowledges; anything
else is retried by the task with a growing delay, up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any

import httpx
from django.db.models import Q

from hub.http import build_client
from smartoa.models import (
    DeliveryStatus,
    ScheduleVersion,
    WebhookDelivery,
    WebhookEndpoint,
)

SIGNATURE_HEADER = "X-SmartOA-Signature"
TIMESTAMP_HEADER = "X-SmartOA-Timestamp"
MAX_ATTEMPTS = 10
FIRST_DELAY = 30  # seconds, doubled at each failure
MAX_DELAY = 3600


def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def retry_delay(attempts: int) -> int:
    """Seconds to wait after ``attempts`` failed attempts."""
    return int(min(FIRST_DELAY * 2 ** max(attempts - 1, 0), MAX_DELAY))


def payload_for(version: ScheduleVersion) -> dict[str, Any]:
    return {
        "event": "smartoa.schedule.changed" if version.diff else "smartoa.schedule.published",
        "contract_id": version.contract.contract_id,
        "application_date": version.application_date.isoformat(),
        "update_date": version.update_date.isoformat(),
        "episodes": [
            {"start": e.start.isoformat(), "end": e.end.isoformat()}
            for e in version.episodes.order_by("start")
        ],
        "diff": version.diff,
    }


def needs_notice(version: ScheduleVersion) -> bool:
    """A first version with stops, or a version whose stops changed."""
    if version.diff is None:
        return version.episodes.exists()
    return bool(version.diff["added"] or version.diff["removed"] or version.diff["moved"])


def create_deliveries(*, version: ScheduleVersion) -> list[WebhookDelivery]:
    """One pending delivery per enabled endpoint listening to the version's contract."""
    if not needs_notice(version):
        return []
    contract = version.contract
    endpoints = (
        WebhookEndpoint.objects.filter(organisation_id=contract.organisation_id, enabled=True)
        .filter(Q(contracts=contract) | Q(contracts__isnull=True))
        .distinct()
    )
    payload = payload_for(version)
    return [
        WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, version=version, defaults={"payload": payload}
        )[0]
        for endpoint in endpoints
    ]


def attempt(
    *, delivery: WebhookDelivery, now: dt.datetime, transport: httpx.BaseTransport | None = None
) -> bool:
    """POST the delivery once; records the outcome and returns whether it was acknowledged."""
    endpoint = delivery.endpoint
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret=endpoint.secret, timestamp=timestamp, body=body),
    }
    delivery.attempts += 1
    delivery.last_attempt_at = now
    try:
        # No transport-level retries: the task spaces the attempts out.
        with build_client(
            base_url=endpoint.url, provider="smartoa-webhook", retries=0, transport=transport
        ) as client:
            response = client.post("", content=body, headers=headers)
        delivery.last_status_code = response.status_code
        delivery.last_error = "" if response.is_success else response.reason_phrase[:300]
        acknowledged = response.is_success
    except httpx.HTTPError as exc:
        delivery.last_status_code = None
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:300]
        acknowledged = False
    if acknowledged:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.FAILED
    delivery.save()
    return acknowledged
