"""Access-right alerts delivered to the organisation's signed webhook, besides the dashboard."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from grdf_access import simulator, webhooks
from grdf_access.admin import AlertWebhookForm
from grdf_access.models import AlertDelivery, AlertDeliveryStatus, AlertWebhook
from grdf_access.services import sync_rights
from hub import tasks as hub_tasks
from hub.http.webhooks import sign
from hub.models import Notification
from hub.services import webhooks as hub_webhooks
from tests.conftest import make_tenant
from tests.grdf_access.conftest import NOW, PCE_ID, active_right

pytestmark = pytest.mark.django_db

SECRET = "s3cret-du-client"
PUBLIC = ["93.184.216.34"]


@pytest.fixture
def queued(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(hub_tasks.deliver_webhook, "apply_async", lambda **o: sent.append(o))
    return sent


def hook(tenant, url: str = "https://alertes.example/grdf") -> AlertWebhook:
    return AlertWebhook.objects.create(organisation=tenant.organisation, url=url, secret=SECRET)


def test_a_revoked_right_is_posted_once_signed(
    tenant, gateway, queued, settings, django_capture_on_commit_callbacks
) -> None:
    """Lifecycle alerts go to the dashboard and by e-mail, "webhook optional": an organisation
    that set one receives each new alert there, signed with HMAC-SHA256 over
    ``<timestamp>.<body>`` as every webhook of the hub, and a repeat is not sent again."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    endpoint = hook(tenant)
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    with django_capture_on_commit_callbacks(execute=True):
        sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    [delivery] = AlertDelivery.objects.all()
    assert queued == [{"kwargs": {"channel": "grdf_access.alert", "delivery_pk": delivery.pk}}]
    alert = Notification.objects.get(kind="right_revoked")
    assert delivery.webhook == endpoint and delivery.notification == alert
    assert delivery.payload["event"] == "grdf.alert.right_revoked"
    assert delivery.payload["pce"] == PCE_ID and delivery.payload["alert_id"] == alert.pk
    # Seen again an hour later: the alert counts a repeat, the webhook is not called again.
    with django_capture_on_commit_callbacks(execute=True):
        sync_rights(
            organisation=tenant.organisation, gateway=gateway, now=NOW + dt.timedelta(hours=1)
        )
    assert AlertDelivery.objects.count() == 1 and len(queued) == 1

    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204))
    assert hub_webhooks.attempt(
        delivery=delivery, now=NOW, transport=transport, resolver=lambda h, p: PUBLIC
    )
    [request] = sent
    assert request.headers["Host"] == "alertes.example"
    timestamp = int(request.headers[webhooks.TIMESTAMP_HEADER])
    assert timestamp == int(NOW.timestamp())
    expected = sign(secret=SECRET, timestamp=timestamp, body=request.content)
    assert request.headers[webhooks.SIGNATURE_HEADER] == expected
    assert json.loads(request.content)["kind"] == "right_revoked"
    delivery.refresh_from_db()
    assert delivery.status == AlertDeliveryStatus.DELIVERED and delivery.delivered_at == NOW


def test_a_failed_delivery_is_retried_then_given_up(tenant, gateway, queued, settings) -> None:
    """Anything but a 2xx is retried with a growing delay, up to a bounded number of tries."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    hook(tenant)
    right = active_right(tenant)
    simulator.make_obsolete(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    [delivery] = AlertDelivery.objects.all()
    transport = httpx.MockTransport(lambda r: httpx.Response(503))
    for attempt in range(1, hub_webhooks.MAX_ATTEMPTS + 1):
        assert not hub_webhooks.attempt(
            delivery=delivery, now=NOW, transport=transport, resolver=lambda h, p: PUBLIC
        )
        assert delivery.attempts == attempt and delivery.last_status_code == 503
    assert delivery.status == AlertDeliveryStatus.FAILED
    assert hub_webhooks.retry_delay(1) < hub_webhooks.retry_delay(2) <= hub_webhooks.retry_delay(30)


def test_a_webhook_resolving_to_a_private_address_is_not_called(tenant, gateway, queued, settings):
    """The address is checked again after DNS resolution (hub.http.urlsafety)."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    hook(tenant, url="https://rebind.example/hook")
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    [delivery] = AlertDelivery.objects.all()
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(204))
    assert not hub_webhooks.attempt(
        delivery=delivery, now=NOW, transport=transport, resolver=lambda h, p: ["10.0.0.7"]
    )
    assert sent == [] and delivery.status == AlertDeliveryStatus.PENDING


def test_no_webhook_another_tenants_or_disabled_sends_nothing(
    tenant, gateway, queued, django_capture_on_commit_callbacks
) -> None:
    """Tenant scoping: another organisation's webhook never receives this one's alerts."""
    other = make_tenant("autre")
    hook(other)
    AlertWebhook.objects.create(
        organisation=tenant.organisation, url="https://off.example/", secret="x", enabled=False
    )
    right = active_right(tenant)
    simulator.revoke_by_holder(right.grdf_id)
    with django_capture_on_commit_callbacks(execute=True):
        sync_rights(organisation=tenant.organisation, gateway=gateway, now=NOW)
    assert Notification.objects.filter(kind="right_revoked").exists()
    assert not AlertDelivery.objects.exists() and queued == []


def test_url_is_checked_and_secret_encrypted(tenant, settings) -> None:
    """An unsafe URL (not https, a private literal address) is refused before saving; the
    secret is stored encrypted and left unchanged when the admin form leaves it empty."""
    settings.WEBHOOK_ALLOW_PRIVATE = False
    for url in ("http://alertes.example/", "https://127.0.0.1/hook", "https://10.1.2.3/"):
        with pytest.raises(ValidationError):
            AlertWebhook(organisation=tenant.organisation, url=url, secret="x").full_clean()
    endpoint = hook(tenant)
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM grdf_access_alertwebhook WHERE id = %s", [endpoint.pk])
        [raw] = cursor.fetchone()
    assert SECRET not in raw
    form = AlertWebhookForm(
        data={"organisation": tenant.organisation.pk, "url": endpoint.url, "secret": ""},
        instance=endpoint,
    )
    assert form.is_valid(), form.errors
    form.save()
    endpoint.refresh_from_db()
    assert endpoint.secret == SECRET and endpoint.enabled is False
    new = AlertWebhookForm(data={"organisation": tenant.organisation.pk, "url": endpoint.url})
    assert not new.is_valid() and "secret" in new.errors
