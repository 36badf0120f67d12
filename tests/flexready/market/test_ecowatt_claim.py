"""Claiming the Ecowatt call from many workers at once: exactly one wins (PostgreSQL row lock)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from flexready.market.models import EcowattState
from flexready.market.services.ecowatt import MIN_INTERVAL, claim_call
from tests.conftest import require

from .conftest import paris

NOW = paris(2026, 1, 15, 10)
WORKERS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_claims_give_one_call() -> None:
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    start = threading.Barrier(WORKERS)

    def claim() -> bool:
        try:
            start.wait()
            return claim_call(now=NOW)
        finally:
            connections.close_all()  # each thread has its own connection

    with ThreadPoolExecutor(WORKERS) as pool:
        results = list(pool.map(lambda _: claim(), range(WORKERS)))
    assert results.count(True) == 1
    assert EcowattState.objects.get().next_call_at == NOW + MIN_INTERVAL
