"""Notifications: stored, e-mailed, deduplicated while open, closable from the dashboard."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from hub.models import Notification, Severity
from hub.services.notifications import UnknownSeverity, notify, resolve

NOW = dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC)


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    return django_capture_on_commit_callbacks


def test_notify_stores_and_mails_named_recipients(tenant, on_commit):
    with on_commit(execute=True):
        n = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="PREAVIS en cours",
            body="Dépassement annoncé",
            emails=["Ops@Acme.example"],
            now=NOW,
        )
    assert n.emailed_to == ["ops@acme.example"]
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ops@acme.example"]
    assert "PREAVIS en cours" in mail.outbox[0].subject


def test_critical_also_mails_the_organisation_admins(tenant, foreign, on_commit):
    with on_commit(execute=True):
        notify(
            organisation=tenant.organisation,
            source="tic",
            kind="drift",
            title="Horloge compteur",
            severity=Severity.CRITICAL,
            now=NOW,
        )
    assert mail.outbox[0].to == [tenant.admin.email]  # not the foreign organisation's admin


def test_an_open_condition_is_not_notified_twice(tenant, on_commit):
    with on_commit(execute=True):
        first = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="A",
            dedupe_key="preavis:1",
            emails=["a@acme.example"],
            now=NOW,
        )
        again = notify(
            organisation=tenant.organisation,
            source="tic",
            kind="preavis",
            title="A",
            dedupe_key="preavis:1",
            emails=["a@acme.example"],
            now=NOW + dt.timedelta(minutes=1),
        )
    assert again.pk == first.pk
    again.refresh_from_db()
    assert again.repeats == 1
    assert len(mail.outbox) == 1

    closed = resolve(
        organisation=tenant.organisation, source="tic", dedupe_key="preavis:1", now=NOW
    )
    assert closed is not None and closed.resolved_at == NOW
    reopened = notify(
        organisation=tenant.organisation,
        source="tic",
        kind="preavis",
        title="A",
        dedupe_key="preavis:1",
        now=NOW + dt.timedelta(hours=1),
    )
    assert reopened.pk != first.pk
    assert Notification.objects.filter(organisation=tenant.organisation).count() == 2


def test_the_same_key_in_another_organisation_is_its_own_condition(tenant, foreign):
    a = notify(
        organisation=tenant.organisation, source="s", kind="k", title="t", dedupe_key="x", now=NOW
    )
    b = notify(
        organisation=foreign.organisation, source="s", kind="k", title="t", dedupe_key="x", now=NOW
    )
    assert a.pk != b.pk


def test_unknown_severity_is_refused(tenant):
    with pytest.raises(UnknownSeverity):
        notify(
            organisation=tenant.organisation,
            source="s",
            kind="k",
            title="t",
            severity="urgent",
            now=NOW,
        )
    assert not Notification.objects.exists()


def test_resolve_without_open_condition_returns_none(tenant):
    assert resolve(organisation=tenant.organisation, source="s", dedupe_key="x", now=NOW) is None


def test_dashboard_lists_open_alerts_and_an_operator_closes_one(client, tenant, foreign):
    from tests.hub.test_portal_support import sign_in

    mine = notify(
        organisation=tenant.organisation,
        source="tic",
        kind="preavis",
        title="PREAVIS compteur A",
        now=NOW,
    )
    theirs = notify(
        organisation=foreign.organisation,
        source="tic",
        kind="preavis",
        title="PREAVIS concurrent",
        now=NOW,
    )
    sign_in(client, tenant.viewer)
    page = client.get("/").content.decode()
    assert "PREAVIS compteur A" in page and "PREAVIS concurrent" not in page
    assert "Marquer comme traitée" not in page  # viewers read only
    assert client.post(f"/notifications/{mine.pk}/close/").status_code == 403

    client.logout()
    sign_in(client, tenant.operator)
    assert client.post(f"/notifications/{theirs.pk}/close/").status_code == 404
    answer = client.post(f"/notifications/{mine.pk}/close/", HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.resolved_at is not None and theirs.resolved_at is None
    assert "PREAVIS compteur A" not in client.get("/").content.decode()
