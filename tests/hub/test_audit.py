"""Audit events: one at a time or many in one INSERT, redacted the same way, append-only."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.actors import Actor
from hub.models import AuditEvent
from hub.services import audit

AT = dt.datetime(2026, 10, 25, 0, 30, tzinfo=dt.UTC)


@pytest.mark.django_db
def test_record_many_stores_redacted_events_in_one_insert(tenant, django_assert_num_queries):
    events = [
        audit.build(
            action="test.published",
            actor=Actor.system("poller"),
            organisation=tenant.organisation,
            target=tenant.point,
            after={"n": n, "client_secret": "hunter2", "at": AT},
            at=AT,
        )
        for n in range(3)
    ]
    with django_assert_num_queries(1):
        audit.record_many(events)
    stored = list(AuditEvent.objects.filter(action="test.published").order_by("id"))
    assert [e.after["n"] for e in stored] == [0, 1, 2]
    assert all(e.after["client_secret"] == "***" for e in stored)
    assert stored[0].after["at"] == AT.isoformat()
    assert (
        stored[0].object_id == str(tenant.point.pk)
        and stored[0].organisation == tenant.organisation
    )


@pytest.mark.django_db
def test_events_cannot_be_changed_through_the_orm(tenant):
    event = audit.record(
        action="test.one", actor=Actor.system("test"), organisation=tenant.organisation, at=AT
    )
    event.action = "test.rewritten"
    with pytest.raises(Exception):  # noqa: B017 - the model refuses any update
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"
