"""Bulk INSERTs of plain rows: stored as bulk_create stores them, pks set, nothing left out."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from hub.actors import Actor
from hub.bulk import bulk_insert, insert_rows
from hub.control.models import ActuatorChannel
from hub.models import AuditEvent, Organisation, PollOutcome, PollRun, Site
from hub.services import audit
from tests.conftest import Tenant

AT = dt.datetime(2025, 10, 26, 1, 30, 0, 123456, tzinfo=dt.UTC)


def test_rows_are_stored_as_given_and_get_their_pks_in_order(tenant: Tenant) -> None:
    events = [
        audit.build(
            at=AT + dt.timedelta(minutes=i),
            actor=Actor.system("bulk test"),
            organisation=tenant.organisation,
            action="test.bulk",
            after={"n": i, "quote": 'a "b" \\ c', "nested": {"list": [1, 2.5, None, "é"]}},
        )
        for i in range(3)
    ]
    stored = bulk_insert(events)
    assert stored == events
    assert [e.pk for e in events] == sorted(e.pk for e in events)
    for event in events:
        row = AuditEvent.objects.get(pk=event.pk)
        assert (row.at, row.organisation_id, row.action, row.after, row.before, row.ip) == (
            event.at,
            tenant.organisation.pk,
            "test.bulk",
            event.after,
            None,  # SQL NULL, as bulk_create stores a None JSON value
            None,
        )
    assert AuditEvent.objects.filter(action="test.bulk", before__isnull=True).count() == 3


def test_a_foreign_key_takes_the_pk_of_a_row_saved_since(db: None) -> None:
    organisation = Organisation(slug="later", name="Later")
    event = audit.build(
        at=AT, actor=Actor.system("bulk test"), organisation=organisation, action="test.bulk"
    )
    organisation.save()
    bulk_insert([event])
    assert AuditEvent.objects.get(pk=event.pk).organisation_id == organisation.pk


def test_insert_rows_refuses_a_row_that_leaves_a_column_out(db: None) -> None:
    row = {
        "source": "smartoa",
        "target": "BOA-1",
        "organisation_id": None,
        "started_at": AT,
        "finished_at": AT,
        "outcome": PollOutcome.SUCCESS,
        "items_received": 3,
        "items_stored": 1,
        "error": "",
    }
    assert insert_rows(PollRun, [row, {**row, "target": "BOA-2"}]) == 2
    assert sorted(PollRun.objects.values_list("target", "outcome", "started_at")) == [
        ("BOA-1", "success", AT),
        ("BOA-2", "success", AT),
    ]
    if connection.vendor == "postgresql":  # elsewhere, the model's own constructor decides
        incomplete = {k: v for k, v in row.items() if k != "error"}
        with pytest.raises(ValueError, match="error"):
            insert_rows(PollRun, [incomplete])
    assert PollRun.objects.count() == 2


def test_a_field_that_prepares_its_value_goes_through_bulk_create(tenant: Tenant) -> None:
    """An encrypted field is stored encrypted: such a model is not written as plain JSON."""
    site = Site.objects.create(organisation=tenant.organisation, name="Plant")
    [channel] = bulk_insert(
        [
            ActuatorChannel(
                organisation=tenant.organisation,
                site=site,
                name="relay",
                kind="webhook",
                secret="s3cret-value",
            )
        ]
    )
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(ActuatorChannel._meta.db_table)
        cursor.execute(f"SELECT secret FROM {table} WHERE id = %s", [channel.pk])
        [(stored,)] = cursor.fetchall()
    assert "s3cret-value" not in stored
    assert ActuatorChannel.objects.get(pk=channel.pk).secret == "s3cret-value"


def test_values_are_stored_as_bulk_create_stores_them(tenant: Tenant) -> None:
    """A text choice, a number given as text, an address, a date-time with its offset: the rows
    written by bulk_insert read back as those bulk_create wrote."""

    def runs(target: str) -> list[PollRun]:
        return [
            PollRun(
                source="bulk-test",
                target=target,
                organisation=tenant.organisation,
                started_at=AT.astimezone(dt.timezone(dt.timedelta(hours=2))),
                finished_at=None,
                outcome=outcome,
                items_received="7",  # type: ignore[misc]
                items_stored=True,  # type: ignore[misc]
                error='é "quoted" \\ back',
            )
            for outcome in (PollOutcome.SUCCESS, "failed")
        ]

    def events(label: str) -> list[AuditEvent]:
        return [
            audit.build(
                at=AT,
                actor=Actor(user=None, label=label, ip="2001:db8::1"),
                organisation=tenant.organisation,
                action="test.bulk",
            )
        ]

    bulk_insert(runs("ours"))
    PollRun.objects.bulk_create(runs("django"))
    bulk_insert(events("ours"))
    AuditEvent.objects.bulk_create(events("django"))
    fields = ["started_at", "finished_at", "outcome", "items_received", "items_stored", "error"]
    assert list(PollRun.objects.filter(target="ours").order_by("pk").values_list(*fields)) == list(
        PollRun.objects.filter(target="django").order_by("pk").values_list(*fields)
    )
    ips = AuditEvent.objects.filter(action="test.bulk").order_by("pk").values_list("ip", flat=True)
    assert list(ips) == ["2001:db8::1", "2001:db8::1"]
