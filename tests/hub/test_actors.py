"""The acting party of an audited change; a change is stored with its audit event or not at all."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.request import Request

from hub.actors import Actor
from hub.api.auth import TokenPrincipal
from hub.control import services as control
from hub.control.models import SiteControl
from hub.models import ApiToken, AuditEvent, Lockout, LockScope, ProviderCredential, Site
from hub.portal import lockout
from hub.services import audit, credentials, tokens

AT = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


def _request(user, ip: str = "192.0.2.7"):  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/", REMOTE_ADDR=ip)
    request.user = user
    return request


@pytest.mark.django_db
def test_from_request_names_the_signed_in_person_and_the_address(tenant):
    actor = Actor.from_request(_request(tenant.operator))
    assert actor == Actor(user=tenant.operator, label=str(tenant.operator), ip="192.0.2.7")


@pytest.mark.django_db
def test_from_request_names_an_api_token_without_a_user(tenant):
    issued = tokens.create_token(organisation=tenant.organisation, name="erp")
    django_request = _request(AnonymousUser())
    drf = Request(django_request)
    drf.user = TokenPrincipal(issued.token)
    actor = Actor.from_request(drf)
    assert actor.user is None and actor.ip == "192.0.2.7"
    assert actor.label == f"token {issued.token.prefix} (erp)"


def test_from_request_of_an_anonymous_caller_keeps_only_the_address():
    assert Actor.from_request(_request(AnonymousUser())) == Actor(ip="192.0.2.7")


def test_system_actor_is_named_and_frozen():
    actor = Actor.system("grdf_purge")
    assert (actor.user, actor.label, actor.ip) == (None, "grdf_purge", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        actor.label = "other"  # type: ignore[misc]
    with pytest.raises(ValueError):
        Actor.system("")


@pytest.mark.django_db
def test_record_takes_user_label_and_address_from_the_actor(tenant):
    event = audit.record(
        action="test.acted",
        actor=Actor.from_request(_request(tenant.admin, ip="2001:db8::1")),
        organisation=tenant.organisation,
        at=AT,
    )
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.actor == tenant.admin and stored.actor_label == str(tenant.admin)
    assert stored.ip == "2001:db8::1"


@pytest.mark.django_db
def test_record_refuses_anything_but_an_actor(tenant):
    with pytest.raises(TypeError):
        audit.record(action="test.loose", actor=tenant.admin, at=AT)  # type: ignore[arg-type]
    assert not AuditEvent.objects.filter(action="test.loose").exists()


class AuditDown(Exception):
    pass


@pytest.fixture
def failing_audit(monkeypatch):  # type: ignore[no-untyped-def]
    def refuse(**kwargs):  # type: ignore[no-untyped-def]
        raise AuditDown

    monkeypatch.setattr(audit, "record", refuse)
    # The control services import the function itself.
    monkeypatch.setattr(control, "record", refuse)


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_leaves_a_token_unrevoked(tenant, failing_audit):
    """Every state change and its audit row in one transaction (issue 14, point 7)."""
    token = ApiToken.objects.create(
        organisation=tenant.organisation, name="erp", prefix="abc", key_hash="x"
    )
    with pytest.raises(AuditDown):
        tokens.revoke_token(token=token, now=AT, actor=Actor.system("test"))
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_leaves_no_credential(tenant, failing_audit):
    credential = ProviderCredential(
        organisation=tenant.organisation, provider="grdf", label="prod", client_id="c"
    )
    with pytest.raises(AuditDown):
        credentials.save_credential(
            credential=credential, secret="s3cret", actor=Actor.system("test")
        )
    assert not ProviderCredential.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_keeps_the_lock(tenant, failing_audit):
    lock = Lockout.objects.create(
        scope=LockScope.EMAIL, key="a@b.example", started_at=AT, until=AT + dt.timedelta(days=1)
    )
    with pytest.raises(AuditDown):
        lockout.lift(lock, actor=Actor.system("test"), now=AT)
    assert Lockout.objects.get(pk=lock.pk).lifted_at is None


@pytest.mark.django_db(transaction=True)
def test_a_failed_audit_leaves_dry_run_unchanged(tenant, failing_audit):
    site = Site.objects.create(organisation=tenant.organisation, name="Usine")
    before = control.site_control(site=site).dry_run
    with pytest.raises(AuditDown):
        control.set_dry_run(
            site=site, dry_run=not before, actor=Actor.system("test"), now=timezone.now()
        )
    assert SiteControl.objects.get(site=site).dry_run == before
