"""hub.postgresql: the connection health check skips a connection that just served a request;
binary and streaming cursors."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from psycopg import pq

from hub.postgresql import base
from tests.conftest import require

pytestmark = pytest.mark.django_db


@pytest.fixture
def wrapper(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the backend is PostgreSQL's")
    # A connection of its own, outside the test's transaction, kept between "requests".
    conn = base.DatabaseWrapper(
        {**connection.settings_dict, "CONN_MAX_AGE": 60, "CONN_HEALTH_CHECKS": True}, "default"
    )
    checks: list[int] = []
    real = base.DatabaseWrapper.is_usable

    def counted(self):
        checks.append(1)
        return real(self)

    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", counted)
    clock = [1000.0]
    monkeypatch.setattr(base.time, "monotonic", lambda: clock[0])
    yield conn, checks, clock
    conn.close()


def _request(conn) -> None:
    conn.close_if_unusable_or_obsolete()  # request_started
    with conn.cursor() as cursor:
        cursor.execute("SELECT 2")
    conn.close_if_unusable_or_obsolete()  # request_finished


def test_a_connection_busy_a_moment_ago_is_not_checked_again(wrapper):
    conn, checks, clock = wrapper
    _request(conn)  # connects: no check needed
    clock[0] += 0.5
    _request(conn)
    assert checks == []
    assert conn.is_usable()


def test_a_connection_idle_longer_than_the_grace_is_checked(wrapper):
    """The check exists for a database that restarted while the connection sat idle."""
    conn, checks, clock = wrapper
    _request(conn)
    clock[0] += base.HEALTH_CHECK_GRACE + 0.1
    _request(conn)
    assert checks == [1]


def test_a_request_that_did_not_use_the_connection_does_not_refresh_it(wrapper):
    conn, checks, clock = wrapper
    _request(conn)
    clock[0] += base.HEALTH_CHECK_GRACE * 0.9
    conn.close_if_unusable_or_obsolete()  # a request without a query
    conn.close_if_unusable_or_obsolete()
    clock[0] += base.HEALTH_CHECK_GRACE * 0.2
    _request(conn)
    assert checks == [1]


def test_a_connection_that_saw_an_error_is_checked_before_it_is_trusted(wrapper):
    conn, checks, _clock = wrapper
    _request(conn)
    conn.errors_occurred = True
    conn.close_if_unusable_or_obsolete()  # the failed request's end: Django checks it there
    assert checks == [1]
    assert conn.connection is not None  # it answered: kept


def test_a_connection_that_fails_the_check_is_dropped_and_not_trusted(wrapper, monkeypatch):
    conn, _checks, _clock = wrapper
    _request(conn)
    conn.errors_occurred = True
    monkeypatch.setattr(base.DatabaseWrapper, "is_usable", lambda self: False)
    conn.close_if_unusable_or_obsolete()
    assert conn.connection is None
    assert conn._hub_clean_at == float("-inf")


def test_a_binary_cursor_reads_binary_rows_and_is_logged_as_any_query():
    require(connection.vendor == "postgresql", "the binary cursor is PostgreSQL's")
    with CaptureQueriesContext(connection) as queries:
        cursor = connection.binary_cursor()
        cursor.execute("SELECT %s::int + 1, %s::text", [41, "a"])
        assert cursor.cursor.pgresult.fformat(0) == pq.Format.BINARY
        assert cursor.fetchone() == (42, "a")
        cursor.close()
    assert len(queries) == 1


_SERIES = "SELECT i, i::text FROM generate_series(1, %s) AS i"


def _pipelined(conn) -> list[int]:
    with connection.pipeline():
        first, second = conn.cursor(), conn.cursor()
        first.execute("SELECT 1")
        second.execute("SELECT 2")
    return [first.fetchone()[0], second.fetchone()[0]]


def test_a_stream_cursor_reads_every_row_in_chunks_and_is_logged_as_any_query():
    require(connection.vendor == "postgresql", "the stream cursor is PostgreSQL's")
    count = 3 * base.STREAM_CHUNK_ROWS + 7
    with CaptureQueriesContext(connection) as queries:
        cursor = connection.stream_cursor()
        cursor.execute(_SERIES, [count])
        rows = list(cursor.cursor.rows)
        cursor.close()
    assert rows == [(i, str(i)) for i in range(1, count + 1)]
    assert len(queries) == 1 and "generate_series" in queries[0]["sql"]
    # An empty result, and the cursor closed twice.
    cursor = connection.stream_cursor()
    cursor.execute(_SERIES, [0])
    assert list(cursor.cursor.rows) == []
    cursor.close()
    cursor.close()


def test_a_stream_cursor_gives_its_rows_a_chunk_at_a_time():
    """``chunks`` holds each chunk's rows as one list, of ``chunk_rows`` rows but the last."""
    require(connection.vendor == "postgresql", "the stream cursor is PostgreSQL's")
    cursor = connection.stream_cursor(chunk_rows=7)
    cursor.execute(_SERIES, [3 * 7 + 2])
    chunks = list(cursor.cursor.chunks)
    cursor.close()
    assert [len(chunk) for chunk in chunks] == [7, 7, 7, 2]
    assert [row for chunk in chunks for row in chunk] == [(i, str(i)) for i in range(1, 24)]


@pytest.mark.django_db(transaction=True)  # autocommit, as a request's statements
def test_a_stream_left_early_cancels_its_statement_and_frees_the_connection():
    """A read stopped after its first chunk, the server still producing rows (ten million):
    the statement is cancelled (the sequence it advances stops well short of the end, where
    reading everything sent would have run it to the end), and the next statement on the
    connection gets its own answer."""
    require(connection.vendor == "postgresql", "the stream cursor is PostgreSQL's")
    total = 10_000_000
    with connection.cursor() as plain:
        plain.execute("CREATE TEMPORARY SEQUENCE streamed")
    cursor = connection.stream_cursor()
    cursor.execute("SELECT nextval('streamed') FROM generate_series(1, %s)", [total])
    assert [row[0] for row in next(cursor.cursor.chunks)] == list(
        range(1, base.STREAM_CHUNK_ROWS + 1)
    )
    cursor.close()
    with connection.cursor() as plain:
        plain.execute("SELECT last_value FROM streamed")
        assert plain.fetchone()[0] < total
        plain.execute("DROP SEQUENCE streamed")
    assert connection.connection.info.transaction_status is psycopg.pq.TransactionStatus.IDLE


@pytest.mark.parametrize("read", ["all", "part", "none"])
def test_a_pipeline_works_after_a_stream(read):
    """libpq leaves a stream's chunked rows mode to the next pipeline's first statement, which
    psycopg refuses ("unexpected result status from query: TUPLES_CHUNK"): the connection's
    ``pipeline`` ends the mode first, whether the rows were read to the end, in part (a stream
    then cancelled) or not at all; and a second pipeline works too."""
    require(connection.vendor == "postgresql", "the stream cursor is PostgreSQL's")
    cursor = connection.stream_cursor()
    cursor.execute(_SERIES, [5 * base.STREAM_CHUNK_ROWS])
    if read == "all":
        assert len(list(cursor.cursor.rows)) == 5 * base.STREAM_CHUNK_ROWS
    elif read == "part":
        assert next(cursor.cursor.rows) == (1, "1")
    cursor.close()
    assert _pipelined(connection.connection) == [1, 2]
    assert _pipelined(connection.connection) == [1, 2]
    with connection.cursor() as plain:  # and the connection serves any statement
        plain.execute("SELECT 3")
        assert plain.fetchone() == (3,)


def test_a_failing_stream_raises_djangos_error_and_leaves_the_connection_usable():
    require(connection.vendor == "postgresql", "the stream cursor is PostgreSQL's")
    from django.db import DataError, transaction

    with transaction.atomic():  # the failed statement spoils its savepoint only
        cursor = connection.stream_cursor()
        with pytest.raises(DataError):
            cursor.execute("SELECT 1 / (i - 3) FROM generate_series(1, 5) AS i")
        cursor.close()
        transaction.set_rollback(True)
    assert _pipelined(connection.connection) == [1, 2]
