"""The signed-webhook channel: hub's signature, the receiver answers with the applied state."""

from __future__ import annotations

import datetime as dt
import hmac
import json

import httpx
import pytest

from hub.control import services
from hub.control.drivers.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, WebhookDriver
from hub.control.models import (
    ActuatorChannel,
    CommandStatus,
    ControllableLoad,
    ManualOverride,
    SiteControl,
)
from hub.models import Site

NOW = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(monkeypatch):  # type: ignore[no-untyped-def]
    """A receiver that checks the signature and applies what it is told (or refuses 42)."""
    state = {"boiler": 1.0}
    seen: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        stamp = request.headers[TIMESTAMP_HEADER]
        mac = hmac.new(b"shared-secret", f"{stamp}.".encode() + request.content, "sha256")
        if request.headers[SIGNATURE_HEADER] != f"sha256={mac.hexdigest()}":
            return httpx.Response(401)
        body = json.loads(request.content)
        seen.append(body)
        if body["action"] == "write" and body["value"] != 42:
            state[body["load"]] = body["value"]
        if body["action"] == "heartbeat":
            return httpx.Response(204)
        return httpx.Response(200, json={"value": state.get(body.get("load", ""), 0)})

    monkeypatch.setattr(WebhookDriver, "transport", httpx.MockTransport(handle))
    monkeypatch.setattr(
        WebhookDriver, "resolver", staticmethod(lambda host, port: ["93.184.216.34"])
    )
    return state, seen


def test_a_webhook_command_is_signed_and_acknowledged_by_the_applied_state(tenant, receiver):
    state, seen = receiver
    site = Site.objects.create(organisation=tenant.organisation, name="Hôtel")
    channel = ActuatorChannel.objects.create(
        organisation=tenant.organisation,
        site=site,
        name="GTB",
        kind="webhook",
        url="https://gtb.example/hook",
        secret="shared-secret",
    )
    boiler = ControllableLoad.objects.create(
        organisation=tenant.organisation,
        site=site,
        channel=channel,
        name="Chaudière",
        kind="sheddable",
        nominal_power_w=50_000,
        address="boiler",
    )
    SiteControl.objects.create(organisation=tenant.organisation, site=site, dry_run=False)
    ManualOverride.objects.create(
        organisation=tenant.organisation,
        load=boiler,
        value=0,
        reason="test",
        starts_at=NOW,
        ends_at=NOW + dt.timedelta(hours=1),
        created_by="x",
    )
    (command,) = services.evaluate_site(site=site, now=NOW)
    assert command.status == CommandStatus.ACKNOWLEDGED and state["boiler"] == 0
    assert [s["action"] for s in seen] == ["read", "write"]  # read back first, then write
    assert services.heartbeat(channel=channel, counter=3, now=NOW)
    ManualOverride.objects.update(value=42)  # the receiver refuses: the ack says so
    (refused,) = services.evaluate_site(site=site, now=NOW + dt.timedelta(minutes=1))
    assert refused.status == CommandStatus.FAILED and refused.acked_value == 0
