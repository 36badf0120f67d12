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

import logging
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager, suppress
from itertools import chain
from typing import Any, Self

import psycopg
from django.db.backends.postgresql import base, operations
from psycopg import errors
from psycopg.abc import Params, QueryNoTemplate

logger = logging.getLogger(__name__)

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


# Rows per chunk of a streamed read, unless the caller asks for another size: small enough
# that the first chunk arrives early, large enough that the chunks' bookkeeping stays small.
STREAM_CHUNK_ROWS = 500
_USABLE = (psycopg.pq.TransactionStatus.IDLE, psycopg.pq.TransactionStatus.INTRANS)


class StreamCursor(psycopg.Cursor[Any]):
    """A cursor whose rows are read as the server sends them, in binary chunks (libpq's chunked
    rows mode): the caller loads and encodes a chunk while the server produces the next, where
    a client-side cursor waits for the whole result first.

    ``execute`` sends the statement and waits for the first chunk (so that an error is raised
    there, inside Django's wrappers); ``chunks`` yields each chunk's rows once, as a list, and
    ``rows`` the same rows one by one. Until they are read or the cursor is closed, the
    connection serves nothing else (psycopg holds its lock).
    """

    chunk_rows = STREAM_CHUNK_ROWS
    _chunks: Iterator[list[Any]] = iter(())
    _stream: Generator[list[Any], None, None] | None = None

    # A stream is never prepared and always binary: ``execute``'s options do not apply.
    def execute(self, query: QueryNoTemplate, params: Params | None = None) -> Self:  # type: ignore[override]
        stream = self._stream = self._read(query, params)
        first = next(stream, None)
        self._chunks = iter(()) if first is None else chain((first,), stream)
        return self

    @property
    def chunks(self) -> Iterator[list[Any]]:
        return self._chunks

    @property
    def rows(self) -> Iterator[Any]:
        return chain.from_iterable(self._chunks)

    def _read(self, query: QueryNoTemplate, params: Params | None) -> Generator[list[Any]]:
        # The steps of psycopg's ``stream`` (its own generators, hence the upper bound on
        # psycopg in pyproject.toml), but a chunk is loaded by one ``load_rows`` call, psycopg's
        # C loop, where ``stream`` yields each row from Python: the caller gets whole chunks.
        connection = self.connection
        with connection.lock:
            try:
                connection.wait(
                    self._stream_send_gen(query, params, binary=True, size=self.chunk_rows)
                )
                first = True
                while result := connection.wait(self._stream_fetchone_gen(first)):
                    first = False
                    yield self._tx.load_rows(0, result.ntuples, self._make_row)
            finally:
                if connection.pgconn.transaction_status == psycopg.pq.TransactionStatus.ACTIVE:
                    self._cancel()

    def _cancel(self) -> None:
        # Not read to its end: the server is asked to stop, then what it already sent is read
        # and dropped (the cancelled statement's error ends it), so the connection is free.
        connection = self.connection
        try:
            connection.cancel_safe(timeout=5.0)
        except psycopg.Error as exc:  # the drain below still frees the connection, slower
            logger.warning("stream cancellation failed: %s", exc)
        for _attempt in range(2):  # the second reads past the error's result, if any
            with suppress(psycopg.Error):
                while connection.wait(self._stream_fetchone_gen(first=False)):
                    pass
                return

    def close(self) -> None:
        stream, self._stream, self._chunks = self._stream, None, iter(())
        if stream is not None:
            # Not read to its end (a refusal, an error): closing the generator cancels the
            # statement and drains what was sent, which releases the connection.
            stream.close()
        super().close()


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
        self._hub_streamed = False

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        self._hub_streamed = False
        return super().get_new_connection(conn_params)

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

    def stream_cursor(self, *, chunk_rows: int = STREAM_CHUNK_ROWS) -> Any:
        """A cursor as ``cursor()`` (query logging, error translation) whose ``execute`` streams
        the rows ``chunk_rows`` at a time (``StreamCursor``); read them through
        ``.cursor.chunks`` or ``.cursor.rows`` inside ``wrap_database_errors``, then close it."""
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            cursor = StreamCursor(self.connection)
            cursor.chunk_rows = chunk_rows
            self._hub_streamed = True
            return self._prepare_cursor(cursor)  # type: ignore[attr-defined]

    @contextmanager
    def pipeline(self) -> Iterator[psycopg.Pipeline]:
        """psycopg's pipeline mode on this connection (several statements, one round trip); use
        it inside ``wrap_database_errors``, never the psycopg connection's own ``pipeline``.

        libpq keeps a streamed read's chunked rows mode for the first statement of the
        connection's next pipeline, which psycopg then refuses ("unexpected result status from
        query: TUPLES_CHUNK"; seen with libpq 18 and psycopg 3.3.9). Any statement sent outside
        a pipeline ends the mode: the first pipeline after a stream cursor sends one first. It
        was sent when each stream closed, a round trip on every read; pipelines are rarer.
        """
        self.ensure_connection()
        # A failed transaction would refuse it; it is rolled back before anything else runs,
        # which ends the mode as well, and the flag stays for the next pipeline.
        if self._hub_streamed and self.connection.info.transaction_status in _USABLE:
            self.connection.execute("SELECT 1")
            self._hub_streamed = False
        with self.connection.pipeline() as pipeline:
            yield pipeline
