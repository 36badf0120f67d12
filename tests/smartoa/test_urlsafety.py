"""Webhook targets: only public https addresses, checked when saved and again when sent."""

from __future__ import annotations

import httpx
import pytest
from django.core.exceptions import ValidationError

from hub.http import urlsafety
from hub.services import webhooks as hub_webhooks
from smartoa import services, webhooks
from smartoa.client import SmartOAClient
from smartoa.models import Contract, DeliveryStatus, WebhookEndpoint
from smartoa.polling import poll_contract
from smartoa.services import ContractSpecError
from tests.conftest import Tenant

from .conftest import paris

NOW = paris(2025, 9, 22, 8, 0)


@pytest.fixture
def strict(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_PRIVATE = False


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://plant.example/hook", "https"),
        ("ftp://plant.example/hook", "https"),
        ("https://127.0.0.1/hook", "bouclage"),
        ("https://localhost/hook", "bouclage"),
        ("https://[::1]/hook", "bouclage"),
        ("https://[::ffff:127.0.0.1]/hook", "bouclage"),
        ("https://10.1.2.3/hook", "privée"),
        ("https://192.168.0.10:8443/hook", "privée"),
        ("https://169.254.169.254/latest", "lien-local"),
        ("https://[fe80::1]/hook", "lien-local"),
        ("https://224.0.0.1/hook", "multicast"),
        ("https://240.0.0.1/hook", "réservée"),
        ("https://0.0.0.0/hook", "réservée"),
        ("https://100.64.0.1/hook", "réservée"),
        ("https://user:pw@plant.example/hook", "identifiants"),
    ],
)
def test_refused_at_save_time(strict: None, url: str, reason: str) -> None:
    with pytest.raises(urlsafety.UnsafeWebhookURL) as refused:
        urlsafety.check_url(url)
    assert reason in refused.value.reason


def test_public_https_is_accepted(strict: None) -> None:
    urlsafety.check_url("https://plant.example/hook")
    urlsafety.check_url("https://93.184.216.34:8443/hook")


def test_setting_allows_local_targets_for_the_embedded_run(settings) -> None:  # type: ignore[no-untyped-def]
    settings.WEBHOOK_ALLOW_PRIVATE = True
    urlsafety.check_url("http://127.0.0.1:8000/hook")
    target = urlsafety.resolve_target("http://127.0.0.1:8000/hook")
    assert target.url == "http://127.0.0.1:8000/hook"


def test_model_validation_refuses_a_private_target(strict: None, tenant: Tenant) -> None:
    endpoint = WebhookEndpoint(
        organisation=tenant.organisation, url="https://10.0.0.5/hook", secret="s"
    )
    with pytest.raises(ValidationError) as refused:
        endpoint.full_clean()
    assert "url" in refused.value.message_dict


def test_portal_service_refuses_http(strict: None, contract: Contract) -> None:
    with pytest.raises(ContractSpecError) as refused:
        services.set_contract_webhook(contract=contract, url="http://plant.example/", secret="s")
    assert refused.value.field == "url"


def test_resolution_to_a_private_address_is_refused(strict: None) -> None:
    with pytest.raises(urlsafety.UnsafeWebhookURL) as refused:
        urlsafety.resolve_target(
            "https://plant.example/hook", resolver=lambda host, port: ["93.184.216.34", "10.0.0.7"]
        )
    assert "privée" in refused.value.reason and "10.0.0.7" in refused.value.reason


def test_target_is_pinned_to_the_checked_address(strict: None) -> None:
    target = urlsafety.resolve_target(
        "https://plant.example:8443/hook?x=1", resolver=lambda host, port: ["2606:4700::1"]
    )
    assert target.url == "https://[2606:4700::1]:8443/hook?x=1"
    assert (target.host, target.hostname) == ("plant.example:8443", "plant.example")


def test_delivery_to_a_name_resolving_to_loopback_is_not_sent(
    strict: None, tenant: Tenant, contract: Contract, oa_client: SmartOAClient
) -> None:
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://rebind.example/hook", secret="s"
    )
    result = poll_contract(contract=contract, now=NOW, client=oa_client)
    assert result.version is not None
    [delivery] = webhooks.create_deliveries(version=result.version)
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(200))
    acknowledged = hub_webhooks.attempt(
        delivery=delivery, now=NOW, transport=transport, resolver=lambda h, p: ["127.0.0.1"]
    )
    assert not acknowledged and sent == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "bouclage" in delivery.last_error


def test_delivery_goes_to_the_checked_address_with_the_original_host(
    strict: None, tenant: Tenant, contract: Contract, oa_client: SmartOAClient
) -> None:
    WebhookEndpoint.objects.create(
        organisation=tenant.organisation, url="https://plant.example/hook", secret="s"
    )
    result = poll_contract(contract=contract, now=NOW, client=oa_client)
    assert result.version is not None
    [delivery] = webhooks.create_deliveries(version=result.version)
    sent: list[httpx.Request] = []
    transport = httpx.MockTransport(lambda request: sent.append(request) or httpx.Response(204))
    assert hub_webhooks.attempt(
        delivery=delivery, now=NOW, transport=transport, resolver=lambda h, p: ["93.184.216.34"]
    )
    [request] = sent
    assert request.url.host == "93.184.216.34"
    assert request.headers["Host"] == "plant.example"
    assert request.extensions["sni_hostname"] == "plant.example"


def test_admin_form_refuses_a_loopback_target(strict: None, tenant: Tenant) -> None:
    from smartoa.admin import WebhookEndpointForm

    form = WebhookEndpointForm(
        data={
            "organisation": tenant.organisation.pk,
            "url": "https://127.0.0.1:9000/hook",
            "secret": "s",
            "enabled": "on",
        }
    )
    assert not form.is_valid()
    assert "bouclage" in str(form.errors["url"])
