"""The simulator's counters and lists under concurrent requests, on the file cache and on Redis."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.core.cache import BaseCache

from grdf_access.simulator import state
from grdf_access.simulator.filecache import SimulatorFileCache

THREADS = 8
BUMPS = 150


@pytest.fixture(params=["file", "configured"])
def store(request, tmp_path, monkeypatch) -> BaseCache:
    """The file cache (no Redis) and whatever the run is configured with (Redis in CI)."""
    if request.param == "file":
        file_cache = SimulatorFileCache(str(tmp_path / "sim"), {})
        monkeypatch.setattr(state, "_store", lambda: file_cache)
    state.reset()
    yield state._store()
    state.reset()


def test_concurrent_bumps_lose_no_update(store) -> None:
    """The sync fetches with several workers at once, and the consent checks count every
    request: a counter bumped by concurrent requests ends at the number of bumps."""

    def bump_many(_: int) -> None:
        for _ in range(BUMPS):
            state.bump("data_requests", "requests")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(bump_many, range(THREADS)))
    sent = state.counters()
    assert (sent["data_requests"], sent["requests"]) == (THREADS * BUMPS, THREADS * BUMPS)


def test_concurrent_appends_keep_every_item(store) -> None:
    """Rights declared at once are all listed, each at a position of its own."""

    def append_many(thread: int) -> list[int]:
        return [state.append("rights:c", f"{thread}-{i}") for i in range(BUMPS // 3)]

    with ThreadPoolExecutor(THREADS) as pool:
        positions = [p for batch in pool.map(append_many, range(THREADS)) for p in batch]
    assert sorted(positions) == list(range(1, THREADS * (BUMPS // 3) + 1))
    assert len(set(state.items("rights:c"))) == THREADS * (BUMPS // 3)


def test_concurrent_refusals_are_all_logged(store) -> None:
    """The log keeps the last refusals, oldest first, whoever wrote them."""
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda n: state.log_outside({"n": n}), range(30)))
    assert sorted(e["n"] for e in state.counters()["outside_consent_log"]) == list(range(30))
    for n in range(30, 100):
        state.log_outside({"n": n})
    assert [e["n"] for e in state.counters()["outside_consent_log"]] == list(range(50, 100))


def _bump_in_process(directory: str) -> None:
    cache = SimulatorFileCache(directory, {})
    for _ in range(BUMPS):
        cache.add_to("shared", timeout=None)


def test_file_cache_increments_hold_across_processes(tmp_path: Path) -> None:
    """The web, worker and beat processes share the directory: their increments all count."""
    directory = str(tmp_path / "sim")
    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_bump_in_process, args=(directory,)) for _ in range(3)]
    for process in processes:
        process.start()
    _bump_in_process(directory)
    for process in processes:
        process.join()
    assert [p.exitcode for p in processes] == [0, 0, 0]
    assert SimulatorFileCache(directory, {}).get("shared") == 4 * BUMPS
