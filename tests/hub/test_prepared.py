"""hub.prepared: hot statements are prepared on the server once per connection, logged and
counted as any other query; every other cursor keeps Django's unprepared client-side binding."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub import prepared

pytestmark = pytest.mark.django_db

STATEMENT = "SELECT %s::int + 1 AS hub_prepared_probe"


def _prepared_here() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture(autouse=True)
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")


def test_a_statement_is_prepared_on_its_first_execution_and_answers_with_its_values() -> None:
    with prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [41])
        assert cursor.fetchone() == (42,)
    assert [s for s in _prepared_here() if "hub_prepared_probe" in s] == [
        "SELECT $1::int + 1 AS hub_prepared_probe"
    ]
    with prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [1])
        assert cursor.fetchone() == (2,)
    assert sum("hub_prepared_probe" in s for s in _prepared_here()) == 1  # not again


def test_prepared_queries_are_logged_with_their_values() -> None:
    with CaptureQueriesContext(connection) as queries, prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [7])
    assert [q["sql"] for q in queries.captured_queries] == [
        "SELECT 7::int + 1 AS hub_prepared_probe"
    ]


def test_other_cursors_are_never_prepared() -> None:
    with prepared.cursor() as cursor:
        cursor.execute(STATEMENT, [1])  # the connection now takes explicit preparing
    for _ in range(10):  # past psycopg's usual automatic threshold (5)
        with connection.cursor() as cursor:
            cursor.execute("SELECT %s::int AS hub_unprepared_probe", [3])
    assert not [s for s in _prepared_here() if "hub_unprepared_probe" in s]


def test_off_for_poolers_that_do_not_keep_prepared_statements(settings) -> None:
    settings.DATABASE_PREPARED_STATEMENTS = False
    with prepared.cursor() as cursor:
        cursor.execute("SELECT %s::int AS hub_pooled_probe", [1])
        assert cursor.fetchone() == (1,)
    assert not [s for s in _prepared_here() if "hub_pooled_probe" in s]
