"""Django's PostgreSQL backend whose health check trusts a connection that just served a request.

``CONN_HEALTH_CHECKS`` sends a ``SELECT 1`` before the first query of every request on a
persistent connection: a round trip to the database per API call, a third of a ping's time.
A connection that ended a request cleanly less than ``HEALTH_CHECK_GRACE`` seconds ago is
used without it; one idle for longer (the database may have restarted meanwhile, which is
what the check is for) is checked as before. What this gives up: a database that restarts
within that second fails the next request of each busy worker once (a 503, as for any database
outage; Django then drops the connection at the request's end) instead of reconnecting first.

``DatabaseWrapper.binary_cursor`` gives a cursor whose rows come in PostgreSQL's binary format
(bulk reads); ``prepared_cursor`` one whose statements are prepared (``hub.prepared``);
``stream_cursor`` one whose rows are read in chunks while the server sends the next
(``StreamCursor``).
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from itertools import chain
from typing import Any, Self, cast

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import errors
from psycopg.abc import Params, QueryNoTemplate

HEALTH_CHECK_GRACE = 1.0
# Django opens connections with psycopg's automatic preparing off (prepare_threshold None, to
# keep transaction poolers working); a threshold no statement reaches keeps it off for every
# other cursor while ``PreparedCursor`` asks for its own statements explicitly.
EXPLICIT_ONLY = 2**31


class PreparedCursor(psycopg.Cursor[Any]):
    """Binds its parameters on the server and prepares each statement on its first execution
    on a connection: PostgreSQL parses and plans it once per connection, not once per call."""

    def execute(  # type: ignore[override]  # psycopg's overloads: no template queries here
        self,
        query: QueryNoTemplate,
        params: Params | None = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Self:
        return super().execute(query, params, prepare=True, binary=binary)


# Rows per chunk of a streamed read: small enough that the first chunk arrives early, large
# enough that the chunks' bookkeeping stays small (100 to 2,000 rows gave the same times on a
# year of hourly points).
STREAM_CHUNK_ROWS = 500


class StreamCursor(psycopg.Cursor[Any]):
    """A cursor whose rows are read as the server sends them, in binary chunks (libpq's chunked
    rows mode, psycopg's ``stream``): the caller loads and encodes a chunk while the server
    produces the next, where a client-side cursor waits for the whole result first.

    ``execute`` sends the statement and waits for the first chunk (so that an error is raised
    there, inside Django's wrappers); ``rows`` yields every row once. Until the rows are read
    or the cursor is closed, the connection serves nothing else (psycopg holds its lock).
    """

    _rows: Iterator[tuple[Any, ...]] = iter(())
    _stream: Generator[Any, None, None] | None = None

    # A stream is never prepared and always binary: ``execute``'s options do not apply.
    def execute(self, query: QueryNoTemplate, params: Params | None = None) -> Self:  # type: ignore[override]
        # psycopg's stream is a generator (typed as an iterator): closing it ends the stream.
        stream = cast(
            Generator[Any, None, None],
            self.stream(query, params, binary=True, size=STREAM_CHUNK_ROWS),
        )
        self._stream = stream
        try:
            first = next(stream)
        except StopIteration:
            self._rows = iter(())
        else:
            self._rows = chain((first,), stream)
        return self

    @property
    def rows(self) -> Iterator[tuple[Any, ...]]:
        return self._rows

    def close(self) -> None:
        stream, self._stream, self._rows = self._stream, None, iter(())
        if stream is not None:
            # Not read to its end (a refusal, an error): psycopg cancels the statement and
            # drains what was sent, which releases the connection.
            stream.close()
        super().close()
        if stream is not None:
            _end_chunked_mode(self.connection)


def _end_chunked_mode(connection: psycopg.Connection[Any]) -> None:
    # libpq keeps a stream's chunked rows mode for the first statement of the next pipeline on
    # the connection, which psycopg then refuses ("unexpected result status from query:
    # TUPLES_CHUNK"; seen with libpq 18 and psycopg 3.3.9, tests/hub/test_postgresql_backend.py).
    # A statement sent outside a pipeline resets the mode; one round trip per streamed read.
    if connection.closed or connection.info.transaction_status not in (
        psycopg.pq.TransactionStatus.IDLE,
        psycopg.pq.TransactionStatus.INTRANS,
    ):
        return  # broken, or failed: the next statement sent (a rollback) resets it
    connection.execute("SELECT 1")


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor: Any, sql: str, params: Any) -> str | None:  # type: ignore[override]
        # A prepared execution leaves no query text on the cursor: the statement with its
        # values, as Django shows a server-side binding's (the query log, the tests' counts).
        if isinstance(cursor, PreparedCursor):
            try:
                return str(self.compose_sql(sql, params))
            except errors.DataError:
                return None
        return str(super().last_executed_query(cursor, sql, params))


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._hub_clean_at = float("-inf")

    def close_if_unusable_or_obsolete(self) -> None:
        # Called at the start and the end of every request (request_started/finished). Only
        # a request that used the connection (checked, trusted or fresh: health_check_done,
        # which the parent resets here) and left it without error stamps it as clean.
        used: bool = bool(self.health_check_done)  # type: ignore[has-type]
        errors = self.errors_occurred
        super().close_if_unusable_or_obsolete()
        if self.connection is None or errors:
            self._hub_clean_at = float("-inf")
        elif used:
            self._hub_clean_at = time.monotonic()

    def close_if_health_check_failed(self) -> None:
        if (
            self.connection is not None
            and not self.health_check_done  # type: ignore[has-type]
            and time.monotonic() - self._hub_clean_at < HEALTH_CHECK_GRACE
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self) -> None:
        super().close()
        self._hub_clean_at = float("-inf")

    def prepared_cursor(self) -> Any:
        """A cursor as ``cursor()`` (the same wrappers: query logging, error translation), whose
        statements are prepared (``PreparedCursor``); see ``hub.prepared``."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            if self.connection.prepare_threshold is None:
                self.connection.prepare_threshold = EXPLICIT_ONLY
            # Django's own wrapping of a new cursor (query logging in DEBUG and the tests).
            return self._prepare_cursor(PreparedCursor(self.connection))  # type: ignore[attr-defined]

    def binary_cursor(self) -> Any:
        """A cursor as ``cursor()`` whose rows come in the binary format. Its parameters are
        bound by the server, as binary results need: Django's default cursor binds them itself
        and reads text only. Not prepared (no cursor is, but ``prepared_cursor``'s)."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = psycopg.Cursor(self.connection)
            cursor.format = psycopg.pq.Format.BINARY
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]

    def stream_cursor(self) -> Any:
        """A cursor as ``cursor()`` (query logging, error translation) whose ``execute`` streams
        the rows (``StreamCursor``); read them through ``.cursor.rows`` inside
        ``wrap_database_errors``, then close it."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(StreamCursor(self.connection))  # type: ignore[attr-defined]
