"""``field__any=values``: the rows of ``field__in=values``, one parameter on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.actors import Actor
from hub.models import AuditEvent, Organisation
from hub.services import audit
from tests.conftest import Tenant

AT = dt.datetime(2025, 10, 26, 1, 30, tzinfo=dt.UTC)


@pytest.fixture
def events(tenant: Tenant) -> list[AuditEvent]:
    return [
        audit.record(
            at=AT + dt.timedelta(hours=i),
            actor=Actor.system("lookup test"),
            organisation=tenant.organisation,
            action=f"test.lookup.{i}",
        )
        for i in range(5)
    ]


@pytest.mark.parametrize(
    "lookup, values",
    [
        ("pk", lambda events: [events[0].pk, events[3].pk, events[3].pk, None, -1]),
        ("action", lambda events: {"test.lookup.1", "test.lookup.4", "other"}),
        ("at", lambda events: (AT, AT + dt.timedelta(hours=2))),
        ("organisation__pk", lambda events: [events[0].organisation_id]),
    ],
)
def test_any_finds_the_rows_in_finds(events: list[AuditEvent], lookup: str, values) -> None:  # type: ignore[no-untyped-def]
    given = values(events)
    found = AuditEvent.objects.filter(**{f"{lookup}__any": given}).order_by("pk")
    assert list(found) == list(AuditEvent.objects.filter(**{f"{lookup}__in": given}).order_by("pk"))
    assert found.exists()


def test_any_of_nothing_finds_nothing_without_a_query(events: list[AuditEvent]) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert list(AuditEvent.objects.filter(pk__any=[])) == []
        assert list(AuditEvent.objects.filter(pk__any=[None])) == []
    assert len(queries) == 0


def test_an_update_through_any_changes_only_those_rows(db: None) -> None:
    others = [Organisation.objects.create(slug=f"o{i}", name=f"O {i}") for i in range(3)]
    changed = Organisation.objects.filter(pk__any=[others[0].pk, others[2].pk]).update(name="X")
    assert changed == 2
    assert [Organisation.objects.get(pk=o.pk).name for o in others] == ["X", "O 1", "X"]


def test_on_postgresql_the_values_go_as_one_array_parameter(events: list[AuditEvent]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("IN elsewhere")
    keys = [e.pk for e in events]
    sql, params = AuditEvent.objects.filter(pk__any=keys).query.sql_with_params()
    assert '"hub_auditevent"."id" = ANY(%s)' in sql
    assert params == (keys,)
