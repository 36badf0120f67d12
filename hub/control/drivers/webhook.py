"""A signed webhook (hub's webhook signing): the receiver applies the value and answers
``{"value": <applied>}``; a read is the same call with ``"action": "read"``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
from django.utils import timezone

from hub.control.drivers.base import Ack, DriverError
from hub.http import urlsafety, webhooks

if TYPE_CHECKING:
    from hub.control.models import ActuatorChannel, ControllableLoad

SIGNATURE_HEADER = "X-Hub-Signature"
TIMESTAMP_HEADER = "X-Hub-Timestamp"


class WebhookDriver:
    # Tests inject a transport and a resolver; production resolves and checks for real.
    transport: httpx.BaseTransport | None = None
    resolver: urlsafety.Resolver | None = None

    def __init__(self, channel: ActuatorChannel) -> None:
        self.url = channel.url
        self.secret = channel.secret or ""

    def _call(self, payload: dict[str, object]) -> float:
        body = self._post(payload)
        try:
            return float(body["value"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DriverError("réponse sans valeur appliquée") from exc

    def _post(self, payload: dict[str, object]) -> Any:
        attempt = webhooks.post_signed(
            url=self.url,
            secret=self.secret,
            payload=payload,
            now=timezone.now(),
            provider="control",
            signature_header=SIGNATURE_HEADER,
            timestamp_header=TIMESTAMP_HEADER,
            transport=self.transport,
            resolver=self.resolver,
        )
        if not attempt.acknowledged:
            raise DriverError(attempt.error or f"HTTP {attempt.status_code}")
        try:
            return json.loads(attempt.body or b"{}")
        except ValueError as exc:
            raise DriverError("réponse illisible") from exc

    def write(self, load: ControllableLoad, value: float) -> Ack:
        return Ack(self._call({"action": "write", "load": load.address, "value": value}))

    def read(self, load: ControllableLoad) -> float:
        return self._call({"action": "read", "load": load.address})

    def heartbeat(self, counter: int) -> None:
        self._post({"action": "heartbeat", "counter": counter})

    def close(self) -> None:
        return None
