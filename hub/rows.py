"""Model instances from the rows of SQL written once per process, converted as the ORM does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from django.db import connections
from django.db.models import Model

M = TypeVar("M", bound=Model)


class Columns(Generic[M]):
    """``model``'s concrete columns under the table alias ``alias`` (``sql``, for a SELECT
    list), and its instances built from the ``width`` values of a row starting at ``offset``
    with the converters the ORM applies (the backend's, then the field's: JSON decoded, SQLite's
    datetimes parsed). For hot reads whose query costs less than the ORM's building of it."""

    def __init__(self, model: type[M], alias: str, *, using: str) -> None:
        db = connections[using]
        fields = model._meta.concrete_fields
        quote = db.ops.quote_name
        self.model = model
        self.using = using
        self.names = [f.attname for f in fields]
        self.sql = ", ".join(f"{alias}.{quote(str(f.column))}" for f in fields)
        self.width = len(fields)
        self._converters: list[tuple[int, list[Any], Any]] = []
        for i, field in enumerate(fields):
            column = field.get_col(alias)
            found = db.ops.get_db_converters(column) + column.get_db_converters(db)
            if found:
                self._converters.append((i, found, column))

    def build(self, row: Sequence[Any], offset: int = 0) -> M:
        db = connections[self.using]
        values = list(row[offset : offset + self.width])
        for i, converters, column in self._converters:
            for converter in converters:
                values[i] = converter(values[i], column, db)
        return self.model.from_db(self.using, self.names, values)
