from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import httpx
import pytest
from kombu.exceptions import OperationalError

from hub import tasks as hub_tasks
from hub.http import urlsafety
from hub.services import webhooks as hub_webhooks
from smartoa import simulator, webhooks
from smartoa.client import SmartOAClient
from smartoa.models import (
    Contract,
    DeliveryStatus,
    ScheduleVersion,
    StopEpisode,
    WebhookDelivery,
    WebhookEndpoint,
)
from smartoa.polling import poll_contract
from tests.conftest import Tenant

from .conftest import paris

NOW = paris(2025, 9, 22, 8, 0)
SECRET = "whsec-test"
PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture(autouse=True)
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """plant.example resolves to a public address; no test needs real DNS."""
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        return [PUBLIC_ADDRESS]

    monkeypatch.setattr(urlsafety, "system_resolver", resolve)
    return asked


@pytest.fixture
def endpoint(tenant: Tenant) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret=SECRET
    )


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: calls.append(o))
    return calls


def _poll_and_notify(contract: Contract, client: SmartOAClient, now: dt.datetime) -> None:
    # The poll itself tells of a new version: notice and webhook deliveries.
    result = poll_contract(contract=contract, now=now, client=client)
    assert result.outcome == "new_version"


def test_signature_is_hmac_sha256_over_timestamp_and_body() -> None:
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert webhooks.sign(secret="k", timestamp=1_700_000_000, body=b"{}") == f"sha256={expected}"


def test_retry_delays_grow_and_are_capped() -> None:
    assert [hub_webhooks.retry_delay(n) for n in (1, 2, 3)] == [10, 20, 40]
    assert hub_webhooks.retry_delay(20) == hub_webhooks.MAX_DELAY


def test_new_and_changed_stops_are_notified_once_per_endpoint(
    contract: Contract,
    endpoint: WebhookEndpoint,
    oa_client: SmartOAClient,
    sim: simulator.SimulatorState,
    sent: list[dict[str, object]],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        _poll_and_notify(contract, oa_client, NOW)
        sim.clock = lambda: paris(2025, 9, 22, 9, 35)
        _poll_and_notify(contract, oa_client, paris(2025, 9, 22, 9, 35))
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.payload["event"] for d in deliveries] == [
        "smartoa.schedule.published",
        "smartoa.schedule.changed",
    ]
    assert deliveries[1].payload["diff"]["added"] == [
        {"start": "2025-09-22T17:00:00Z", "end": "2025-09-22T18:00:00Z"}
    ]
    assert sent == [
        {"kwargs": {"channel": "smartoa.schedule", "delivery_pk": d.pk}} for d in deliveries
    ]


def test_endpoint_limited_to_other_contracts_hears_nothing(
    tenant: Tenant, contract: Contract, endpoint: WebhookEndpoint, oa_client: SmartOAClient
) -> None:
    other = Contract.objects.create(
        organisation=tenant.organisation, contract_id="BOA-OTHER", account_id="x", api_token="t"
    )
    endpoint.contracts.add(other)
    result = poll_contract(contract=contract, now=NOW, client=oa_client)
    assert result.version is not None
    assert webhooks.create_deliveries(version=result.version) == []


def _delivery(
    contract: Contract, endpoint: WebhookEndpoint, client: SmartOAClient
) -> WebhookDelivery:
    result = poll_contract(contract=contract, now=NOW, client=client)
    assert result.version is not None
    [delivery] = webhooks.create_deliveries(version=result.version)
    return delivery


def test_acknowledged_delivery_is_signed_and_stored(
    contract: Contract, endpoint: WebhookEndpoint, oa_client: SmartOAClient
) -> None:
    delivery = _delivery(contract, endpoint, oa_client)
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    assert hub_webhooks.attempt(delivery=delivery, now=NOW, transport=httpx.MockTransport(receiver))
    [request] = seen
    timestamp = request.headers[webhooks.TIMESTAMP_HEADER]
    expected = webhooks.sign(secret=SECRET, timestamp=int(timestamp), body=request.content)
    assert request.headers[webhooks.SIGNATURE_HEADER] == expected
    assert json.loads(request.content)["contract_id"] == contract.contract_id
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.DELIVERED,
        1,
        204,
    )


def test_unacknowledged_delivery_is_retried_then_abandoned(
    contract: Contract, endpoint: WebhookEndpoint, oa_client: SmartOAClient
) -> None:
    delivery = _delivery(contract, endpoint, oa_client)
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    for _ in range(hub_webhooks.MAX_ATTEMPTS - 1):
        assert not hub_webhooks.attempt(delivery=delivery, now=NOW, transport=transport)
        assert delivery.status == DeliveryStatus.PENDING
    assert not hub_webhooks.attempt(delivery=delivery, now=NOW, transport=transport)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        DeliveryStatus.FAILED,
        hub_webhooks.MAX_ATTEMPTS,
        500,
    )


def test_broker_outage_leaves_deliveries_pending_until_the_sweep_sends_them(
    contract: Contract,
    endpoint: WebhookEndpoint,
    oa_client: SmartOAClient,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    """A delivery the broker never got stays pending; beat's sweep sends it once due for longer
    than the grace (``hub.services.webhooks``: "re-queues every pending delivery overdue")."""

    def broker_down(**options: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        _poll_and_notify(contract, oa_client, NOW)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 0)

    received: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: received.append(r) or httpx.Response(204))
    real_attempt = hub_webhooks.attempt
    monkeypatch.setattr(
        hub_webhooks, "attempt", lambda **kw: real_attempt(**{**kw, "transport": transport})
    )
    # The broker is back: a queued task runs (here, at once, in this process).
    monkeypatch.setattr(
        hub_tasks.deliver_webhook, "apply_async", lambda kwargs: hub_tasks.deliver_webhook(**kwargs)
    )
    created = delivery.created_at
    assert hub_webhooks.sweep(now=created + dt.timedelta(seconds=30)) == 0  # within the grace
    assert hub_webhooks.sweep(now=created + dt.timedelta(minutes=3)) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 1)
    [request] = received
    assert json.loads(request.content)["contract_id"] == contract.contract_id
    assert request.headers[webhooks.SIGNATURE_HEADER].startswith("sha256=")
    assert hub_webhooks.sweep(now=created + dt.timedelta(minutes=10)) == 0  # delivered: done


def test_a_versions_stops_are_read_in_order_once(
    contract: Contract, django_assert_num_queries
) -> None:
    version = ScheduleVersion.objects.create(
        contract=contract,
        application_date=dt.date(2025, 9, 22),
        update_date=NOW,
        fetched_at=NOW,
        raw_body="{}",
        periods=[],
    )
    late, early = paris(2025, 9, 22, 18, 0), paris(2025, 9, 22, 11, 0)
    for start in (late, early):
        StopEpisode.objects.create(version=version, start=start, end=start + dt.timedelta(hours=1))
    version = ScheduleVersion.objects.select_related("contract").get(pk=version.pk)
    with django_assert_num_queries(1):
        assert [e.start for e in webhooks.episodes_of(version)] == [early, late]
        assert webhooks.needs_notice(version)
        payload = webhooks.payload_for(version)
    assert [dt.datetime.fromisoformat(e["start"]) for e in payload["episodes"]] == [early, late]
