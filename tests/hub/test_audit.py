"""Audit events: alone, in one INSERT, or with their change in one statement; append-only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import DatabaseError, connection, transaction

from hub.actors import Actor
from hub.models import AuditEvent, Organisation
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
def test_rows_store_the_events_build_would(tenant, django_assert_num_queries, django_user_model):
    person = django_user_model.objects.create_user("ada@example.org", "pass-phrase-1")
    given = {
        "action": "test.rows",
        "organisation": tenant.organisation,
        "target": tenant.point,
        "before": {"token": "abc", "n": 0},
        "after": {"n": 1, "client_secret": "hunter2", "at": AT, "days": [dt.date(2026, 10, 25)]},
        "at": AT,
    }
    for actor in (Actor.system("poller"), Actor.person(person, ip="192.0.2.7")):
        audit.record_many([audit.build(actor=actor, **given)])
        with django_assert_num_queries(1):
            assert audit.record_rows([audit.row(actor=actor, **given)] * 2) == 2
    fields = [f.attname for f in AuditEvent._meta.concrete_fields if not f.primary_key]
    stored = list(AuditEvent.objects.filter(action="test.rows").order_by("id").values(*fields))
    assert stored[0]["after"]["client_secret"] == "***" and stored[0]["before"]["token"] == "***"
    assert stored[1] == stored[2] == stored[0]
    assert stored[4] == stored[5] == stored[3]
    assert (stored[3]["actor_id"], stored[3]["ip"]) == (person.pk, "192.0.2.7")


@pytest.mark.django_db
def test_a_row_refuses_an_organisation_not_saved_yet():
    with pytest.raises(ValueError, match="organisation"):
        audit.row(
            action="test.rows",
            actor=Actor.system("poller"),
            organisation=Organisation(slug="later", name="Later"),
        )
    with pytest.raises(TypeError):
        audit.row(action="test.rows", actor="poller")  # type: ignore[arg-type]


@pytest.mark.django_db
def test_events_cannot_be_changed_through_the_orm(tenant):
    event = audit.record(
        action="test.one", actor=Actor.system("test"), organisation=tenant.organisation, at=AT
    )
    event.action = "test.rewritten"
    with pytest.raises(Exception):  # noqa: B017 - the model refuses any update
        event.save()
    assert AuditEvent.objects.get(pk=event.pk).action == "test.one"


def _event(target, action: str, **after) -> AuditEvent:
    return audit.build(
        action=action,
        actor=Actor(label="api", ip="192.0.2.7"),
        target=target,
        after={**after, "secret": "hunter2"},
        at=AT,
    )


@pytest.mark.django_db
def test_insert_recorded_stores_the_row_and_its_events_together(django_assert_max_num_queries):
    """One statement on PostgreSQL; each event names the new row's key, in the order given."""
    organisation = Organisation(slug="new-one", name="New")
    events = [_event(organisation, "test.received", n=1), _event(organisation, "test.accepted")]
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 3):
        audit.insert_recorded(organisation, events=events)
    assert organisation.pk is not None and not organisation._state.adding
    stored = Organisation.objects.get(pk=organisation.pk)
    assert stored.created_at is not None  # auto_now_add applied as in a save
    recorded = list(AuditEvent.objects.filter(object_id=str(organisation.pk)).order_by("id"))
    assert [e.action for e in recorded] == ["test.received", "test.accepted"]
    assert recorded[0].after == {"n": 1, "secret": "***"}
    assert recorded[0].ip == "192.0.2.7" and recorded[0].actor_id is None
    assert recorded[0].object_type == "hub.Organisation" and recorded[0].at == AT
    assert [e.object_id for e in events] == [str(organisation.pk)] * 2


@pytest.mark.django_db
def test_update_recorded_records_only_a_row_it_changed(tenant, django_assert_max_num_queries):
    organisation = tenant.organisation
    named = Organisation.objects.filter(pk=organisation.pk, name=organisation.name)
    with django_assert_max_num_queries(1 if connection.vendor == "postgresql" else 3):
        changed = audit.update_recorded(
            named, values={"name": "Renamed"}, events=[_event(organisation, "test.renamed")]
        )
    assert changed == 1
    assert Organisation.objects.get(pk=organisation.pk).name == "Renamed"
    # The condition no longer holds: nothing changes and nothing is recorded.
    again = audit.update_recorded(
        named, values={"name": "Twice"}, events=[_event(organisation, "test.renamed")]
    )
    assert again == 0
    assert Organisation.objects.get(pk=organisation.pk).name == "Renamed"
    assert AuditEvent.objects.filter(action="test.renamed").count() == 1


@pytest.mark.django_db
def test_a_change_whose_event_cannot_be_stored_is_not_stored(tenant):
    """The change and its events stand or fall together (an event without its action cannot
    be stored: NOT NULL, which SQLite enforces too, unlike a length)."""
    organisation = tenant.organisation
    bad = audit.build(action="test.renamed", actor=Actor(label="x"), target=organisation)
    bad.action = None
    with pytest.raises(DatabaseError), transaction.atomic():
        audit.update_recorded(
            Organisation.objects.filter(pk=organisation.pk), values={"name": "Lost"}, events=[bad]
        )
    assert Organisation.objects.get(pk=organisation.pk).name != "Lost"
    fresh = Organisation(slug="lost", name="Lost")
    bad = audit.build(action="test.created", actor=Actor(label="x"), target=fresh)
    bad.action = None
    with pytest.raises(DatabaseError), transaction.atomic():
        audit.insert_recorded(fresh, events=[bad])
    assert not Organisation.objects.filter(slug="lost").exists()
    assert not AuditEvent.objects.filter(action__in=["test.renamed", "test.created"]).exists()


@pytest.mark.django_db
def test_update_row_recorded_changes_the_row_only_while_expected(tenant):
    organisation = tenant.organisation
    old = organisation.name
    assert audit.update_row_recorded(
        Organisation,
        pk=organisation.pk,
        expected={"name": old},
        values={"name": "Renamed"},
        events=[_event(organisation, "test.renamed")],
    )
    assert not audit.update_row_recorded(
        Organisation,
        pk=organisation.pk,
        expected={"name": old},
        values={"name": "Twice"},
        events=[_event(organisation, "test.renamed")],
    )
    assert Organisation.objects.get(pk=organisation.pk).name == "Renamed"
    recorded = AuditEvent.objects.filter(action="test.renamed")
    assert list(recorded.values_list("object_id", flat=True)) == [str(organisation.pk)]


@pytest.mark.django_db
def test_the_hot_writes_are_not_compiled_by_the_orm_on_each_call(tenant, monkeypatch):
    """The INSERT and the row UPDATE are SQL written once per process on PostgreSQL (the ORM's
    compilation of them cost more than their round trip), with the ORM's values."""
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement writes are PostgreSQL's")
    from django.db.models.sql import compiler

    def refused(*args, **kwargs):
        raise AssertionError("compiled by the ORM")

    monkeypatch.setattr(compiler.SQLInsertCompiler, "as_sql", refused)
    monkeypatch.setattr(compiler.SQLUpdateCompiler, "as_sql", refused)
    fresh = Organisation(slug="fresh", name="Fresh")
    audit.insert_recorded(fresh, events=[_event(fresh, "test.created")])
    assert audit.update_row_recorded(
        Organisation,
        pk=fresh.pk,
        expected={"slug": "fresh"},
        values={"name": "Fresher"},
        events=[_event(fresh, "test.renamed")],
    )
    monkeypatch.undo()
    stored = Organisation.objects.get(pk=fresh.pk)
    assert (stored.slug, stored.name) == ("fresh", "Fresher")
    assert stored.created_at is not None  # auto_now_add, as the ORM's INSERT applies it
    recorded = AuditEvent.objects.filter(object_id=str(fresh.pk)).order_by("id")
    assert list(recorded.values_list("action", flat=True)) == ["test.created", "test.renamed"]
