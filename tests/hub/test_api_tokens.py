"""API tokens: hashed storage, IP allow-lists, expiry, revocation, scopes, audit."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from hub.actors import Actor
from hub.models import ApiToken, AuditEvent
from hub.services.tokens import TokenSpecError, create_token, revoke_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/metering-points/"


def client_for(plaintext: str, ip: str = "127.0.0.1", **extra: str) -> APIClient:
    client = APIClient(REMOTE_ADDR=ip, **extra)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
    return client


def test_token_is_stored_only_as_a_hash(tenant):
    issued = create_token(organisation=tenant.organisation, name="erp")
    row = ApiToken.objects.get(pk=issued.token.pk)
    assert issued.plaintext not in str(row.__dict__)
    assert row.key_hash == hashlib.sha256(issued.plaintext.encode()).hexdigest()
    assert issued.plaintext.startswith(f"hub_{row.prefix}_")


def test_token_restricted_to_loopback_works_from_loopback(tenant):
    issued = create_token(
        organisation=tenant.organisation, name="local", allowed_networks=["127.0.0.0/8"]
    )
    response = client_for(issued.plaintext, ip="127.0.0.1").get(URL)
    assert response.status_code == 200
    assert response.json()["results"][0]["identifier"] == tenant.point.identifier


def test_token_restricted_to_another_network_gets_403(tenant):
    issued = create_token(
        organisation=tenant.organisation, name="lan", allowed_networks=["10.0.0.0/8"]
    )
    response = client_for(issued.plaintext, ip="127.0.0.1").get(URL)
    assert response.status_code == 403
    assert "allowed networks" in response.json()["detail"]


def test_ipv6_networks(tenant):
    issued = create_token(
        organisation=tenant.organisation, name="v6", allowed_networks=["2001:db8::/32"]
    )
    assert client_for(issued.plaintext, ip="2001:db8::7").get(URL).status_code == 200
    assert client_for(issued.plaintext, ip="2001:db9::7").get(URL).status_code == 403
    assert client_for(issued.plaintext, ip="127.0.0.1").get(URL).status_code == 403


def test_forwarded_for_is_believed_only_from_trusted_proxies(tenant, settings):
    issued = create_token(
        organisation=tenant.organisation, name="lan", allowed_networks=["10.0.0.0/8"]
    )
    spoofed = client_for(issued.plaintext, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert spoofed.get(URL).status_code == 403
    settings.TRUSTED_PROXIES = ["127.0.0.1/32"]
    proxied = client_for(issued.plaintext, ip="127.0.0.1", HTTP_X_FORWARDED_FOR="10.1.2.3")
    assert proxied.get(URL).status_code == 200


@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "malformed"])
def test_unusable_tokens_get_401(tenant, state):
    issued = create_token(organisation=tenant.organisation, name="t")
    plaintext = issued.plaintext
    if state == "revoked":
        revoke_token(token=issued.token, now=timezone.now())
    elif state == "expired":
        ApiToken.objects.filter(pk=issued.token.pk).update(
            expires_at=timezone.now() - dt.timedelta(seconds=1)
        )
    elif state == "unknown":
        plaintext = plaintext[:-3] + "xyz"
    else:
        plaintext = "not-a-token"
    response = client_for(plaintext).get(URL)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_read_scope_cannot_write(tenant):
    issued = create_token(organisation=tenant.organisation, name="ro", scopes=["read"])
    client = client_for(issued.plaintext)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"kind": "gas_pce", "identifier": "GI000001"}, format="json")
    assert response.status_code == 403


def test_use_from_a_new_ip_is_audited_once_and_last_use_recorded(tenant):
    issued = create_token(organisation=tenant.organisation, name="t")
    client_for(issued.plaintext, ip="127.0.0.2").get(URL)
    client_for(issued.plaintext, ip="127.0.0.2").get(URL)
    client_for(issued.plaintext, ip="127.0.0.3").get(URL)
    events = AuditEvent.objects.filter(action="api_token.new_ip").order_by("id")
    assert [e.after["ip"] for e in events] == ["127.0.0.2", "127.0.0.3"]
    token = ApiToken.objects.get(pk=issued.token.pk)
    assert token.last_used_ip == "127.0.0.3"
    assert token.last_used_at is not None


def test_creation_and_revocation_are_audited_without_the_secret(tenant):
    issued = create_token(
        organisation=tenant.organisation, name="t", actor=Actor.person(tenant.admin)
    )
    revoke_token(token=issued.token, now=timezone.now(), actor=Actor.person(tenant.admin))
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["api_token.created", "api_token.revoked"]
    assert issued.plaintext not in str(list(AuditEvent.objects.values()))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"allowed_networks": ["10.0.0.0/33"]}, "allowed_networks"),
        ({"scopes": ["admin"]}, "scopes"),
        ({"name": " "}, "name"),
    ],
)
def test_bad_token_specs_name_the_field(tenant, kwargs, field):
    with pytest.raises(TokenSpecError) as info:
        create_token(**{"organisation": tenant.organisation, "name": "t", **kwargs})
    assert info.value.field == field


def test_create_api_token_command_prints_the_token_once(tenant, capsys):
    call_command(
        "create_api_token",
        "--org",
        "acme",
        "--name",
        "cli",
        "--allow",
        "127.0.0.0/8",
        "--scope",
        "read",
    )
    plaintext = capsys.readouterr().out.strip()
    token = ApiToken.objects.get(name="cli")
    assert token.allowed_networks == ["127.0.0.0/8"] and token.scopes == ["read"]
    assert client_for(plaintext).get(URL).status_code == 200


def test_throttling_per_token(tenant, monkeypatch):
    from django.core.cache import cache

    from hub.api.auth import TokenRateThrottle

    cache.clear()
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", {"token": "3/min", "user": "100/min"})
    issued = create_token(organisation=tenant.organisation, name="t")
    other = create_token(organisation=tenant.organisation, name="u")
    codes = [client_for(issued.plaintext).get(URL).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client_for(other.plaintext).get(URL).status_code == 200
    cache.clear()


def test_authenticate_loads_the_token_and_its_organisation_as_the_orm_does(
    tenant, django_assert_num_queries
):
    """The token lookup (one statement written once per process, hub.services.tokens) gives
    the same values as the ORM: JSON lists, aware datetimes, the address, the organisation."""
    from hub.services.tokens import TokenInvalid, authenticate

    now = timezone.now()
    created = create_token(
        organisation=tenant.organisation,
        name="loaded",
        scopes=["read"],
        allowed_networks=["192.0.2.0/24"],
        expires_at=now + dt.timedelta(days=3),
    )
    ApiToken.objects.filter(pk=created.token.pk).update(
        last_used_at=now - dt.timedelta(hours=1), last_used_ip="192.0.2.7", seen_ips=["192.0.2.7"]
    )
    expected = ApiToken.objects.select_related("organisation").get(pk=created.token.pk)
    with django_assert_num_queries(1):  # used from a known address within the minute: no write
        token = authenticate(
            plaintext=created.plaintext,
            ip="192.0.2.7",
            now=now - dt.timedelta(minutes=59, seconds=30),
        )
    fields = [f.attname for f in ApiToken._meta.concrete_fields]
    assert {f: getattr(token, f) for f in fields} == {f: getattr(expected, f) for f in fields}
    assert token.organisation == tenant.organisation
    assert token.organisation.slug == tenant.organisation.slug
    assert token.organisation.created_at == tenant.organisation.created_at
    assert not token._state.adding
    with pytest.raises(TokenInvalid):
        authenticate(plaintext=created.plaintext[:-1] + "x", ip="192.0.2.7", now=now)
    with pytest.raises(TokenInvalid):
        authenticate(plaintext="hub_nosuchprefix_secret", ip="192.0.2.7", now=now)
