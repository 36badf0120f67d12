"""Bulk INSERTs of plain rows as one JSON parameter on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

# Fields whose value Django sends as a plain string, number, boolean or date: written as such.
# A subclass (an encrypted text field) may prepare its value otherwise, so the exact classes.
_PLAIN = frozenset(
    {
        models.CharField,
        models.SlugField,
        models.TextField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.BooleanField,
        models.DateField,
        models.DateTimeField,
        models.ForeignKey,
        models.GenericIPAddressField,
    }
)


def bulk_insert(objs: Sequence[M]) -> list[M]:
    """``Model.objects.bulk_create(objs)`` for rows of plain fields, their pks set.

    On PostgreSQL the rows go as one ``jsonb`` parameter expanded by the server
    (``jsonb_populate_recordset``): Django's bulk INSERT sends a typed array per column, and
    psycopg escapes every element of those in Python, which made the bulk INSERTs of a
    10,000-contract Smart OA poll cost more than its HTTP calls. A JSON field's value is encoded
    as Django encodes it (``json.dumps``).
    """
    if not objs:
        return list(objs)
    model = type(objs[0])
    plan = _plan(model) if connection.vendor == "postgresql" else None
    if plan is None:
        return model._default_manager.bulk_create(objs)
    for obj in objs:
        # As bulk_create does: a foreign key to a row saved since (a version's stops) takes its pk.
        obj._prepare_related_fields_for_save(operation_name="bulk_insert")  # type: ignore[attr-defined]
    pks = _insert(plan, [_row(obj, plan) for obj in objs])
    pk = model._meta.pk
    assert pk is not None
    for obj, value in zip(objs, pks, strict=True):
        setattr(obj, pk.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
    return list(objs)


def insert_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> int:
    """Store ``rows`` (field attname -> value, every field but the pk) without making a model
    instance of each where it can (see :func:`bulk_insert`); how many were stored."""
    if not rows:
        return 0
    plan = _plan(model) if connection.vendor == "postgresql" else None
    if plan is None:
        return len(model._default_manager.bulk_create([model(**row) for row in rows]))
    width = len(plan.columns)
    for row in rows:
        if len(row) != width:  # a column left out would silently be NULL
            names = [c.attname for c in plan.columns]
            raise ValueError(f"{model.__name__}: a row of {sorted(row)}, not {sorted(names)}")
    return len(_insert(plan, [_values(row, plan) for row in rows]))


@dataclass(frozen=True)
class _Column:
    attname: str
    column: str
    field: models.Field[Any, Any]
    # Value types sent as they are (a text field: any str, its choices' enums too); None: a
    # JSON field's value, nested in the row as it is.
    as_is: tuple[type, ...] | None
    auto_now: bool


@dataclass(frozen=True)
class _Plan:
    """How a model's rows are written: its statement and its columns, made once per model."""

    sql: str
    columns: list[_Column]
    # (attname, column, field, as_is) of each column, for the loop over every value.
    values: list[tuple[str, str, models.Field[Any, Any], tuple[type, ...] | None]]


@cache
def _plan(model: type[models.Model]) -> _Plan | None:
    """The model's plan, or None when a field prepares its values otherwise (bulk_create)."""
    fields = _fields(model)
    if not _plain(model, fields):
        return None
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(_column(f)) for f in fields)
    pk = model._meta.pk
    assert pk is not None
    sql = (
        f"INSERT INTO {table} ({names}) SELECT {names} "
        f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) "
        f"RETURNING {quote(_column(pk))}"
    )
    columns = [
        _Column(
            attname=f.attname,
            column=_column(f),
            field=f,
            as_is=None if isinstance(f, models.JSONField) else _AS_IS.get(type(f), ()),
            auto_now=isinstance(f, models.DateField) and bool(f.auto_now or f.auto_now_add),
        )
        for f in fields
    ]
    return _Plan(sql, columns, [(c.attname, c.column, c.field, c.as_is) for c in columns])


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert(plan: _Plan, rows: list[dict[str, Any]]) -> list[Any]:
    with connection.cursor() as cursor:
        cursor.execute(plan.sql, [json.dumps(rows, separators=(",", ":"))])
        return [row[0] for row in cursor.fetchall()]


def _column(field: models.Field[Any, Any]) -> str:
    column = field.column
    assert column is not None  # concrete fields only
    return column


def _plain(model: type[models.Model], fields: list[models.Field[Any, Any]]) -> bool:
    encoders = {f.encoder for f in fields if isinstance(f, models.JSONField)}
    return (
        isinstance(model._meta.pk, models.AutoField | models.BigAutoField)
        and encoders <= {None}
        and all(type(f) in _PLAIN or type(f) is models.JSONField for f in fields)
    )


def _row(obj: models.Model, plan: _Plan) -> dict[str, Any]:
    values = {}
    for column in plan.columns:
        if column.auto_now:
            values[column.attname] = column.field.pre_save(obj, add=True)
        else:
            values[column.attname] = getattr(obj, column.attname)
    return _values(values, plan)


def _values(values: Mapping[str, Any], plan: _Plan) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for attname, column, field, as_is in plan.values:
        value = values[attname]
        if as_is is None or value is None:
            # A JSON field's value nested as it is: dumped with the row, as Django would dump
            # it alone.
            row[column] = value
            continue
        kind = type(value)
        if kind in as_is or (as_is is _TEXT and isinstance(value, str)):
            # The values Django would send as they are (a text choice is its string).
            if kind is dt.datetime:
                if value.utcoffset() is None:
                    value = field.get_db_prep_save(value, connection)  # made aware, warned
                row[column] = value.isoformat()  # with its offset
            elif kind is dt.date:
                row[column] = value.isoformat()
            else:
                row[column] = value
            continue
        # Anything else prepared by the field.
        value = field.get_db_prep_save(value, connection)
        if isinstance(value, dt.datetime) and value.utcoffset() is None:
            value = field.get_db_prep_save(value, connection)
        if isinstance(value, dt.date):  # datetimes too, with their offset
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)  # an address wrapped for the driver
        row[column] = value
    return row


_TEXT = (str,)
_INT = (int,)
_AS_IS: dict[type[models.Field[Any, Any]], tuple[type, ...]] = {
    models.CharField: _TEXT,
    models.SlugField: _TEXT,
    models.TextField: _TEXT,
    models.IntegerField: _INT,
    models.BigIntegerField: _INT,
    models.SmallIntegerField: _INT,
    models.PositiveIntegerField: _INT,
    models.PositiveBigIntegerField: _INT,
    models.PositiveSmallIntegerField: _INT,
    models.BooleanField: (bool,),
    models.ForeignKey: _INT,
    models.DateField: (dt.date,),
    models.DateTimeField: (dt.datetime,),
}
