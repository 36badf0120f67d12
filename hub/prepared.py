"""Cursors for hot SQL written once per process: PostgreSQL parses and plans each statement once
per connection instead of once per call.

Django binds parameters in the client (psycopg's ``ClientCursor``): every call sends the
statement as text with its values quoted in, and the server parses and plans it anew. For the
operator API's reads that was most of the database's CPU per call (0.4 ms against 0.04 ms
prepared, for the request read with its asset, periods and count). ``cursor()`` binds on the
server and prepares the statement on its first execution on each connection
(``hub.postgresql.PreparedCursor``); its queries are logged and counted as any other.

The trade: a prepared statement lives in its server session. Behind a pooler in transaction
mode that does not track them (PgBouncer before 1.21, or with ``max_prepared_statements = 0``)
the next transaction may run on another session, where the statement does not exist: set
``DATABASE_PREPARED_STATEMENTS=false`` there. Elsewhere (SQLite, the setting off) it is the
connection's usual cursor.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections


def cursor(using: str = DEFAULT_DB_ALIAS) -> Any:
    connection = connections[using]
    prepared = getattr(connection, "prepared_cursor", None)
    if prepared is None or not settings.DATABASE_PREPARED_STATEMENTS:
        return connection.cursor()
    return prepared()
