"""Fixtures for the ADICT client and simulator tests: the simulator served in-process.

Imported by ``test_client*.py`` and ``test_simulator*.py`` (``from .adict_fixtures import …``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from django.core import signals
from django.db import close_old_connections

import hub.http.retry
import hub.wsgi
from grdf_access import simulator
from grdf_access.client import AdictClient, RateLimiter
from hub.clock import PARIS
from hub.http import clear_token_cache

# A Sunday in November 2026: October is over (informative data), its month is published.
NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=PARIS)
PCE = "01234567890123"
PRO_PCE = "GI123456"


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry waits, recorded instead of slept (shadows the directory's own)."""
    recorded: list[float] = []
    monkeypatch.setattr(hub.http.retry, "pause", recorded.append)
    return recorded


@pytest.fixture
def sim() -> Iterator[None]:
    """A fresh simulator whose clock is pinned to :data:`NOW`."""
    simulator.reset()
    simulator.set_now(NOW)
    clear_token_cache()
    yield
    simulator.reset()
    clear_token_cache()


class InProcessTransport(httpx.WSGITransport):
    """The hub's WSGI application in-process, safe to call from inside another request.

    Django's test client reconnects ``close_old_connections`` after each of its requests, undoing
    ``in_process_wsgi``; a nested call (a view calling GRDF through this transport) would then
    close the test's database connection. Unhook it around each call and restore what was there.
    """

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        started = signals.request_started.disconnect(close_old_connections)
        finished = signals.request_finished.disconnect(close_old_connections)
        try:
            return super().handle_request(request)
        finally:
            if started:
                signals.request_started.connect(close_old_connections)
            if finished:
                signals.request_finished.connect(close_old_connections)


def wsgi() -> httpx.WSGITransport:
    return InProcessTransport(app=hub.wsgi.application, remote_addr="127.0.0.1")


def make_client(**kwargs: object) -> AdictClient:
    options: dict[str, object] = {
        "transport": wsgi(),
        "rate_limiter": RateLimiter(10_000, burst=10_000),
        "functional_retry_wait": 0.25,
    }
    options.update(kwargs)
    return AdictClient(**options)  # type: ignore[arg-type]


@pytest.fixture
def adict(sim: None, in_process_wsgi: None) -> Iterator[AdictClient]:
    """A client on the settings' credentials, served by the simulator in-process."""
    with make_client() as client:
        yield client


@pytest.fixture
def other_adict(sim: None, in_process_wsgi: None) -> Iterator[AdictClient]:
    """A second GRDF account (another client id), to check that accounts are isolated."""
    with make_client(
        client_id="other-supplier", client_secret=simulator.secret_for("other-supplier")
    ) as client:
        yield client
