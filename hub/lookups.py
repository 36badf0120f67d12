"""``field__any=values``: ``IN`` on one array parameter on PostgreSQL, for long lists of keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models.lookups import In


class AnyOf(In):
    """``IN (%s, %s, …)`` sends a parameter per value, and psycopg parses a statement of more
    than 50 parameters again at every call (its cache stops there), then quotes each value in
    Python: for a batch job's 200 keys that cost more than the round trip. ``= ANY(%s)`` is one
    parameter, the list dumped as one array; other databases keep ``IN``."""

    lookup_name = "any"

    def as_postgresql(self, compiler: Any, connection: Any) -> tuple[str, Sequence[Any]]:
        if self.rhs_is_direct_value():
            lhs, lhs_params = self.process_lhs(compiler, connection)
            field = self.lhs.output_field
            values = [
                field.get_db_prep_value(value, connection, prepared=True)
                for value in dict.fromkeys(v for v in self.rhs if v is not None)
            ]
            if not values:
                raise EmptyResultSet
            return f"{lhs} = ANY(%s)", [*lhs_params, values]
        return super().as_sql(compiler, connection)
