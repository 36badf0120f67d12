"""Recording audit events: the one way anything in the hub writes to the audit trail.

Every event names its ``Actor`` (``hub.actors``). Record it inside the transaction that makes
the change, so that a change is never stored without its event nor an event without its change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any, TypeVar, cast

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.sql import InsertQuery, UpdateQuery
from django.utils import timezone

from hub import prepared
from hub.actors import Actor
from hub.bulk import bulk_insert, insert_rows
from hub.models import AuditEvent, Organisation

M = TypeVar("M", bound=models.Model)

# Keys whose values never reach the audit trail, whatever model they come from.
SECRET_KEYS = frozenset(
    {"password", "secret", "client_secret", "token", "key_hash", "api_key", "otp_secret", "key"}
)


def redact(data: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return {
        k: ("***" if k.lower() in SECRET_KEYS or "secret" in k.lower() else _jsonable(v))
        for k, v in data.items()
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def record(
    *,
    action: str,
    actor: Actor,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    event = build(
        action=action,
        actor=actor,
        organisation=organisation,
        target=target,
        before=before,
        after=after,
        at=at,
    )
    event.save()
    return event


def record_many(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """Store events made by ``build`` in one INSERT: for a batch job's many publications."""
    return bulk_insert(list(events))


def record_rows(rows: Iterable[Mapping[str, Any]]) -> int:
    """Store events made by ``row`` in one INSERT, with no model instance made for each: for a
    batch job's many publications that nothing reads back; how many were stored."""
    return insert_rows(AuditEvent, list(rows))


def build(
    *,
    action: str,
    actor: Actor,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """An unsaved event, redacted like every other; ``record`` or ``record_many`` stores it."""
    values = _values(action=action, actor=actor, target=target, before=before, after=after, at=at)
    return AuditEvent(**values, actor=actor.user, organisation=organisation)


def row(
    *,
    action: str,
    actor: Actor,
    organisation: Organisation | None = None,
    target: models.Model | None = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> dict[str, Any]:
    """The row ``build`` would store (field attname -> value), for ``record_rows``."""
    values = _values(action=action, actor=actor, target=target, before=before, after=after, at=at)
    for name, related in (("organisation", organisation), ("actor", actor.user)):
        if related is not None and related.pk is None:  # would be stored as NULL
            raise ValueError(f"audit: the {name} of a row must be saved first")
    return {
        **values,
        "actor_id": None if actor.user is None else actor.user.pk,
        "organisation_id": None if organisation is None else organisation.pk,
    }


def _values(
    *,
    action: str,
    actor: Actor,
    target: models.Model | None,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: dt.datetime | None,
) -> dict[str, Any]:
    if not isinstance(actor, Actor):
        raise TypeError(f"audit: actor must be an Actor, not {type(actor).__name__}")
    return {
        "at": at or timezone.now(),
        "actor_label": actor.label or (str(actor.user) if actor.user else ""),
        "action": action,
        "object_type": target._meta.label if target is not None else "",
        "object_id": str(target.pk) if target is not None else "",
        "object_repr": str(target)[:300] if target is not None else "",
        "before": redact(before),
        "after": redact(after),
        "ip": actor.ip or None,
    }


def insert_recorded(
    instance: M, *, events: Sequence[AuditEvent], using: str = DEFAULT_DB_ALIAS
) -> M:
    """Store the new ``instance`` and ``events`` about it together; returns ``instance`` saved.

    ``events`` are built (``build``) with ``target=instance`` before it has a key: each gets the
    new key as its ``object_id``. On PostgreSQL the row and its events are one statement (a
    data-modifying ``WITH``), atomic by itself: no transaction, and no round trip, of its own.
    Saved as ``bulk_create`` saves: no ``save()`` override runs, no signal is sent.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        with transaction.atomic(using=using, savepoint=False):
            type(instance)._default_manager.db_manager(using).bulk_create([instance])
            _keyed(events, instance.pk)
            record_many(events)
        return instance
    connection_params = _insert_values(instance, connection)
    if connection_params is None:
        # A value that is an expression: the ORM's compiler writes it.
        opts = instance._meta
        query = InsertQuery(type(instance))
        query.insert_values(
            [f for f in opts.local_concrete_fields if not f.primary_key], [instance]
        )
        compiler = query.get_compiler(using=using)
        compiler.returning_fields = [opts.pk]
        ((sql, params),) = compiler.as_sql()
    else:
        sql, params = _insert_sql(type(instance), using), connection_params
    keys = _with_events(sql, params, events, using=using)
    instance.pk = keys[0]
    instance._state.adding, instance._state.db = False, using
    _keyed(events, instance.pk)
    return instance


def _inserted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.local_concrete_fields if not f.primary_key]


@cache
def _insert_sql(model: type[models.Model], using: str) -> str:
    """The one-row ``INSERT … RETURNING`` key of ``model``, written once per process: the ORM's
    compilation of it cost more than its round trip."""
    qn = connections[using].ops.quote_name
    table, fields = qn(model._meta.db_table), _inserted_fields(model)
    columns = ", ".join(qn(str(f.column)) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    return (
        f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) "
        f"RETURNING {table}.{qn(str(model._meta.pk.column))}"
    )


def _insert_values(instance: models.Model, connection: Any) -> list[Any] | None:
    """The values as the ORM's INSERT sends them (``pre_save`` for an addition, then each
    field's preparation); None when one is an expression or a field writes its own
    placeholder, which only the compiler handles."""
    values = []
    for field in _inserted_fields(type(instance)):
        if hasattr(field, "get_placeholder"):
            return None
        value = field.pre_save(instance, True)
        if hasattr(value, "resolve_expression"):
            return None
        values.append(field.get_db_prep_save(value, connection))
    return values


def update_recorded(
    queryset: models.QuerySet[Any],
    *,
    values: Mapping[str, Any],
    events: Sequence[AuditEvent],
) -> int:
    """``queryset.update(**values)`` and ``events`` for each row it changed, together (as
    ``insert_recorded``); returns the rows changed.

    Nothing is recorded when no row is changed, so a conditional update (``status=accepted``)
    that finds the row moved on leaves no event. Meant for one row: each row changed gets the
    same events, with its own key as ``object_id``.
    """
    using = queryset.db
    if connections[using].vendor != "postgresql":
        with transaction.atomic(using=using, savepoint=False):
            keys = list(queryset.select_for_update().values_list("pk", flat=True))
            if keys:
                queryset.filter(pk__in=keys).update(**values)
            for key in keys:
                record_many(_keyed(events, key))
        return len(keys)
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(dict(values))
    if query.get_related_updates():
        raise ValueError("update_recorded: one table at a time")
    sql, params = query.get_compiler(using=using).as_sql()
    opts = queryset.model._meta
    qn = connections[using].ops.quote_name
    returning = f" RETURNING {qn(opts.db_table)}.{qn(opts.pk.column)}"
    return len(_with_events(sql + returning, params, events, using=using))


def update_row_recorded(
    model: type[models.Model],
    *,
    pk: Any,
    expected: Mapping[str, Any],
    values: Mapping[str, Any],
    events: Sequence[AuditEvent],
    using: str = DEFAULT_DB_ALIAS,
) -> bool:
    """``update_recorded`` of the row ``pk`` of ``model`` while each field of ``expected`` has
    its value (``status=accepted``); whether it changed. On PostgreSQL the statement is written
    once per process for the same fields, not compiled by the ORM on each call; the values are
    prepared as the ORM prepares them (plain values only, no expressions)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        rows = model._default_manager.db_manager(using).filter(pk=pk, **expected)
        return bool(update_recorded(rows, values=values, events=events))
    sql = _update_sql(model, tuple(values), tuple(expected), using)
    params = [_field(model, n).get_db_prep_save(v, connection) for n, v in values.items()]
    params.append(model._meta.pk.get_db_prep_value(pk, connection))
    params.extend(_field(model, n).get_db_prep_value(v, connection) for n, v in expected.items())
    return bool(_with_events(sql, params, events, using=using))


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):
        raise TypeError(f"update_row_recorded: {name} is not a column of {model.__name__}")
    return field


@cache
def _update_sql(
    model: type[models.Model], names: tuple[str, ...], expected: tuple[str, ...], using: str
) -> str:
    qn = connections[using].ops.quote_name
    opts = model._meta
    table = qn(opts.db_table)

    def column(name: str) -> str:
        return qn(str(_field(model, name).column))

    assignments = ", ".join(f"{column(n)} = %s" for n in names)
    conditions = " AND ".join(
        [
            f"{table}.{qn(str(opts.pk.column))} = %s",
            *(f"{table}.{column(n)} = %s" for n in expected),
        ]
    )
    return (
        f"UPDATE {table} SET {assignments} WHERE {conditions} "
        f"RETURNING {table}.{qn(str(opts.pk.column))}"
    )


def _cast(field: models.Field[Any, Any], connection: Any) -> str:
    # Typed, so a NULL or a bare literal takes the column's type in the VALUES list; text
    # without its length, so that a value too long fails as in any INSERT instead of being cut.
    if isinstance(field, models.CharField):
        return str(connection.ops.cast_char_field_without_max_length)
    return str(field.cast_db_type(connection))


def _keyed(events: Sequence[AuditEvent], key: Any) -> list[AuditEvent]:
    for event in events:
        event.object_id = str(key)
    return list(events)


def _with_events(
    change: str, params: Sequence[Any], events: Sequence[AuditEvent], *, using: str
) -> list[Any]:
    """Run ``change`` (an INSERT or UPDATE ``RETURNING`` one key) and insert ``events`` for each
    row it returns, in one statement; returns the keys."""
    connection = connections[using]
    sql, values = change, list(params)
    if events:
        fields, head, row = _event_sql(using)
        for event in events:
            values.extend(f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields)
        rows = ", ".join([row] * len(events))
        sql = f"WITH changed (key) AS ({change}), {head.replace('%(rows)s', rows)}"
    # Prepared: the statement's text is the same for every call of one path (its columns, one
    # row of placeholders per event).
    with prepared.cursor(using) as cursor:
        cursor.execute(sql, values)
        return [found[0] for found in cursor.fetchall()]


@cache
def _event_sql(using: str) -> tuple[list[models.Field[Any, Any]], str, str]:
    """The event columns, the statement after ``changed`` (``%(rows)s`` for the VALUES rows)
    and one row's placeholders; the same for every call, made once per process."""
    connection = connections[using]
    qn = connection.ops.quote_name
    fields = [f for f in AuditEvent._meta.local_concrete_fields if not f.primary_key]
    names = [qn(str(f.column)) for f in fields]
    columns = ", ".join(names)
    picked = ", ".join(
        "CAST(changed.key AS varchar)" if f.attname == "object_id" else f"e.{name}"
        for f, name in zip(fields, names, strict=True)
    )
    head = (
        f"recorded AS (INSERT INTO {qn(AuditEvent._meta.db_table)} ({columns}) SELECT {picked} "
        f"FROM changed CROSS JOIN (VALUES %(rows)s) AS e ({columns})) SELECT key FROM changed"
    )
    row = "(" + ", ".join(f"CAST(%s AS {_cast(f, connection)})" for f in fields) + ")"
    return fields, head, row
