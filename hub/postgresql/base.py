"""Django's PostgreSQL backend whose health check trusts a connection that just served a request.

``CONN_HEALTH_CHECKS`` sends a ``SELECT 1`` before the first query of every request on a
persistent connection: a round trip to the database per API call, a third of a ping's time.
A connection that ended a request cleanly less than ``HEALTH_CHECK_GRACE`` seconds ago is
used without it; one idle for longer (the database may have restarted meanwhile, which is
what the check is for) is checked as before. What this gives up: a database that restarts
within that second fails the next request of each busy worker once (a 503, as for any database
outage; Django then drops the connection at the request's end) instead of reconnecting first.

``binary_cursor`` gives a cursor whose rows come in PostgreSQL's binary format (bulk reads).
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from django.db.backends.postgresql import base

HEALTH_CHECK_GRACE = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
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


def binary_cursor(wrapper: Any) -> Any:
    """A cursor of ``wrapper`` (a PostgreSQL ``DatabaseWrapper``) whose rows come in the
    binary format, checked, wrapped and logged as Django's ``cursor()`` does. Its parameters
    are bound by the server, as binary results need: Django's default cursor binds them
    itself and reads text only. Never prepared, as Django's (no ``prepare_threshold``)."""
    wrapper.close_if_health_check_failed()
    wrapper.ensure_connection()
    with wrapper.wrap_database_errors:
        wrapper.validate_thread_sharing()
        cursor = psycopg.Cursor(wrapper.connection)
        cursor.format = psycopg.pq.Format.BINARY
        if wrapper.queries_logged:
            return wrapper.make_debug_cursor(cursor)
        return wrapper.make_cursor(cursor)
