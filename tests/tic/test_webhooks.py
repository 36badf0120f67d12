"""Outgoing webhooks: signature, acknowledgement, retries."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import httpx
import pytest

from hub.services import webhooks as hub_webhooks
from tests.conftest import Tenant
from tic import webhooks
from tic.models import DeliveryStatus, TicEvent, TicMeter, TicPort, TicWebhook, TicWebhookDelivery

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 5, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def delivery(tenant: Tenant, tic_port: TicPort) -> TicWebhookDelivery:
    meter = TicMeter.objects.create(
        organisation=tenant.organisation, port=tic_port, metering_point=_point(tenant),
        identifier="041436028024", family="pmepmi",
    )  # fmt: skip
    TicWebhook.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="k3y"
    )
    event = TicEvent.objects.create(
        organisation=tenant.organisation, meter=meter, kind="preavis_start", at=NOW, value=93.0
    )
    [created] = webhooks.create_deliveries(event=event, meter=meter)
    return created


def _point(tenant: Tenant):  # type: ignore[no-untyped-def]
    from hub.models import MeteringPoint

    return MeteringPoint.objects.create(
        organisation=tenant.organisation, kind="tic_meter", identifier="041436028024"
    )


def test_signed_post_acknowledged(delivery: TicWebhookDelivery) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    assert hub_webhooks.attempt(delivery=delivery, now=NOW, transport=httpx.MockTransport(handler))
    [request] = seen
    timestamp = request.headers[webhooks.TIMESTAMP_HEADER]
    expected = hmac.new(b"k3y", f"{timestamp}.".encode() + request.content, hashlib.sha256)
    assert request.headers[webhooks.SIGNATURE_HEADER] == f"sha256={expected.hexdigest()}"
    assert json.loads(request.content)["event"] == "tic.preavis_start"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED and delivery.attempts == 1


def test_failures_are_retried_then_given_up(delivery: TicWebhookDelivery) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(503))
    for _ in range(hub_webhooks.MAX_ATTEMPTS - 1):
        assert not hub_webhooks.attempt(delivery=delivery, now=NOW, transport=transport)
        assert delivery.status == DeliveryStatus.PENDING
    assert not hub_webhooks.attempt(delivery=delivery, now=NOW, transport=transport)
    assert delivery.status == DeliveryStatus.FAILED and delivery.last_status_code == 503
    assert hub_webhooks.retry_delay(1) < hub_webhooks.retry_delay(3) <= hub_webhooks.MAX_DELAY


def test_secret_is_encrypted_at_rest(delivery: TicWebhookDelivery) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM tic_ticwebhook")
        (stored,) = cursor.fetchone()
    assert "k3y" not in stored


def test_a_host_resolving_to_a_private_address_is_not_called(
    delivery: TicWebhookDelivery, settings
) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False
    called: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: called.append(request) or httpx.Response(204))
    sent = hub_webhooks.attempt(
        delivery=delivery, now=NOW, transport=transport, resolver=lambda host, port: ["10.0.0.8"]
    )
    assert not sent and called == []
    assert "adresse privée" in delivery.last_error
    assert delivery.status == DeliveryStatus.PENDING


def test_the_request_goes_to_the_checked_address(delivery: TicWebhookDelivery) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: seen.append(request) or httpx.Response(204))
    assert hub_webhooks.attempt(delivery=delivery, now=NOW, transport=transport)
    assert seen[0].url.host == "93.184.216.34" and seen[0].headers["Host"] == "plant.example"


@pytest.mark.parametrize(
    "url", ["http://plant.example/hook", "https://127.0.0.1/hook", "https://169.254.169.254/x"]
)
def test_unsafe_urls_are_refused_when_saved(tenant: Tenant, settings, url: str) -> None:
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOW_PRIVATE = False
    hook = TicWebhook(organisation=tenant.organisation, url=url, secret="k")
    with pytest.raises(ValidationError) as refused:
        hook.full_clean()
    assert "url" in refused.value.message_dict


def test_the_admin_form_takes_an_address_without_scheme_as_https(tenant: Tenant) -> None:
    """Django 5 assumes http:// for an address typed without its scheme (and warns that 6.0
    will assume https://): the form of the other apps' webhooks already assumed https, which is
    the only scheme a webhook's address may have."""
    from tic.admin import TicWebhookForm

    form = TicWebhookForm(
        data={"organisation": tenant.organisation.pk, "url": "plant.example/hook", "secret": "k"}
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == "https://plant.example/hook"


def test_the_admin_form_keeps_the_secret_left_empty_and_requires_one_for_a_new_hook(
    tenant: Tenant,
) -> None:
    from tic.admin import TicWebhookForm

    data = {"organisation": tenant.organisation.pk, "url": "https://plant.example/hook"}
    assert "secret" in TicWebhookForm(data=data).errors
    created = TicWebhookForm(data={**data, "secret": "first"})
    assert created.is_valid(), created.errors
    hook = created.save()
    edited = TicWebhookForm(data={**data, "enabled": False}, instance=hook)
    assert edited.is_valid(), edited.errors
    edited.save()
    hook.refresh_from_db()
    assert (hook.secret, hook.enabled) == ("first", False)
    assert "first" not in TicWebhookForm(instance=hook).as_p()
