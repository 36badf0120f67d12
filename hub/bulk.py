"""Bulk INSERTs of plain rows as one JSON parameter on PostgreSQL, ``bulk_create`` elsewhere."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
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
    fields = _fields(model)
    if connection.vendor != "postgresql" or not _plain(model, fields):
        return model._default_manager.bulk_create(objs)
    for obj in objs:
        # As bulk_create does: a foreign key to a row saved since (a version's stops) takes its pk.
        obj._prepare_related_fields_for_save(operation_name="bulk_insert")  # type: ignore[attr-defined]
    pks = _insert(model, fields, [_row(obj, fields) for obj in objs])
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
    fields = _fields(model)
    if connection.vendor != "postgresql" or not _plain(model, fields):
        return len(model._default_manager.bulk_create([model(**row) for row in rows]))
    names = [f.attname for f in fields]
    for row in rows:
        if len(row) != len(names):  # a column left out would silently be NULL
            raise ValueError(f"{model.__name__}: a row of {sorted(row)}, not {sorted(names)}")
    return len(_insert(model, fields, [_values(row, fields) for row in rows]))


def _fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def _insert(
    model: type[models.Model], fields: list[models.Field[Any, Any]], rows: list[dict[str, Any]]
) -> list[Any]:
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(_column(f)) for f in fields)
    pk = model._meta.pk
    assert pk is not None
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "
            f"FROM jsonb_populate_recordset(NULL::{table}, %s::jsonb) "
            f"RETURNING {connection.ops.quote_name(_column(pk))}",
            [json.dumps(rows, separators=(",", ":"))],
        )
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


def _row(obj: models.Model, fields: list[models.Field[Any, Any]]) -> dict[str, Any]:
    values = {}
    for field in fields:
        if isinstance(field, models.DateField) and (field.auto_now or field.auto_now_add):
            values[field.attname] = field.pre_save(obj, add=True)
        else:
            values[field.attname] = getattr(obj, field.attname)
    return _values(values, fields)


def _values(values: Mapping[str, Any], fields: list[models.Field[Any, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for field in fields:
        value = values[field.attname]
        if isinstance(field, models.JSONField):
            # Nested as it is: dumped with the row, as Django would dump it alone.
            row[_column(field)] = value
            continue
        # The values Django would send as they are; anything else prepared by the field.
        if not (value is None or type(value) in _AS_IS.get(type(field), ())):
            value = field.get_db_prep_save(value, connection)
        if isinstance(value, dt.datetime) and value.utcoffset() is None:
            value = field.get_db_prep_save(value, connection)  # made aware, as Django warns
        if isinstance(value, dt.date):  # datetimes too, with their offset
            value = value.isoformat()
        elif value is not None and not isinstance(value, str | int | float | bool):
            value = str(value)  # an address wrapped for the driver
        row[_column(field)] = value
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
