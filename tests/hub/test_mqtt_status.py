"""A process's MQTT publisher state: coalesced writes, heartbeats, expiry, a cache that is down."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from hub import cache
from hub.mqtt import status
from hub.mqtt.status import StatusRecorder
from tests.hub.control.conftest import free_port

# (organisation, member, state written or None for "left the page", now, ttl)
Write = tuple[int, str, dict[str, object] | None, float, int]


@pytest.fixture
def writes() -> list[Write]:
    return []


def _recorder(writes: list[Write], **options: float) -> StatusRecorder:
    def write(organisation_id: int, member: str, value: str | None, now: float, ttl: int) -> None:
        writes.append(
            (organisation_id, member, None if value is None else json.loads(value), now, ttl)
        )

    return StatusRecorder(write=write, background=False, now=0.0, **options)  # type: ignore[arg-type]


@pytest.fixture
def cache_down(settings) -> Iterator[None]:
    # Nothing listens there: every Redis call is refused, as when Redis is stopped.
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "hub.cache.FailoverRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"retry_seconds": 0},
        },
    }
    yield


def test_many_messages_make_one_write_per_interval(writes: list[Write]) -> None:
    """Rule: at most one cache write per organisation and process every few seconds, never one
    per message; what changed in between is written when the interval is over."""
    recorder = _recorder(writes, interval_seconds=5, heartbeat_seconds=30)
    for i in range(1000):
        now = 100 + i * 0.004  # a thousand messages within four seconds
        recorder.sent(1, kind="state", now=now)
        recorder.published(1, now=now)
        recorder.tick(now=now)
        recorder.flush()
    assert len(writes) == 1 and writes[0][2]["published"] == 0  # the first event, at once
    recorder.tick(now=104.9)
    recorder.flush()
    assert len(writes) == 1
    recorder.tick(now=105.0)
    recorder.flush()
    assert len(writes) == 2
    assert writes[1][2]["published"] == 1000 and writes[1][2]["last_message_kind"] == "state"
    assert writes[1][2]["last_message_at"] == pytest.approx(100 + 999 * 0.004)


def test_nothing_new_is_a_heartbeat_and_a_gone_organisation_is_no_longer_written(
    writes: list[Write],
) -> None:
    recorder = _recorder(writes, interval_seconds=5, heartbeat_seconds=30)
    recorder.connected(1, now=0.0)
    recorder.connected(2, now=0.0)
    recorder.flush()
    for second in range(1, 30):
        recorder.tick(now=float(second), organisations=[1, 2])
        recorder.flush()
    assert [w[0] for w in writes] == [1, 2]  # nothing changed, no heartbeat due yet
    recorder.tick(now=30.0, organisations=[1, 2])
    recorder.flush()
    assert sorted(w[0] for w in writes[2:]) == [1, 2]
    recorder.tick(now=60.0, organisations=[1])  # organisation 2's broker went away
    recorder.flush()
    # Organisation 2 gets one last write, leaving its page, then nothing.
    assert sorted((w[0], w[2] is None) for w in writes[4:]) == [(1, False), (2, True)]
    recorder.tick(now=90.0, organisations=[1])
    recorder.flush()
    assert [w[0] for w in writes[6:]] == [1]
    assert writes[2][2]["connected"] is True and writes[2][2]["since"] == 0.0


def test_a_disabled_broker_takes_the_process_off_its_page_at_once() -> None:
    """Rule: the page lists the processes publishing to the organisation's broker; once the
    broker is disabled the process stops publishing there, so it leaves the page at its next
    tick, not when its entry would have expired (two minutes later)."""
    recorder = StatusRecorder(ttl_seconds=120, background=False, now=1000.0)
    recorder.connected(7004, now=1000.0)
    recorder.connected(7005, now=1000.0)
    recorder.flush()
    assert len(status.read(7004, now=1001.0)) == 1
    recorder.tick(now=1002.0, organisations=[7005])  # 7004's broker disabled
    recorder.flush()
    assert status.read(7004, now=1002.0) == []
    assert len(status.read(7005, now=1002.0)) == 1  # the other organisation keeps it


def test_process_identity_and_failures(writes: list[Write]) -> None:
    import os
    import socket

    status.set_role("tic")
    try:
        recorder = _recorder(writes, interval_seconds=0)
        recorder.disconnected(1, now=1.0, reason="credentials", detail="Not authorized")
        recorder.failed(1, reason="credentials", detail="Not authorized", now=2.0)
        recorder.dropped(1, now=3.0)
        recorder.flush()
    finally:
        status.set_role("")
    organisation_id, member, value, _now, ttl = writes[-1]
    host, pid = socket.gethostname(), os.getpid()
    assert (organisation_id, member, ttl) == (1, f"{host}:{pid}", status.TTL_SECONDS)
    assert (value["host"], value["pid"], value["role"]) == (host, pid, "tic")
    assert (value["failed"], value["dropped"], value["published"]) == (1, 1, 0)
    assert (value["last_failure_reason"], value["last_failure_at"]) == ("queue_full", 3.0)
    assert value["connected"] is False


def test_states_expire_and_stay_per_organisation() -> None:
    """Rule: an entry lives a few minutes after its last write, so a dead process leaves the
    page; one organisation's index never lists another's processes."""
    recorder = StatusRecorder(ttl_seconds=60, background=False, now=1000.0)
    recorder.connected(7001, now=1000.0)
    recorder.flush()
    other = StatusRecorder(ttl_seconds=60, background=False, now=1000.0)
    other.failed(7002, reason="tls", now=1000.0)
    other.flush()
    [state] = status.read(7001, now=1059.0)
    assert state.connected and state.since is not None and state.since.timestamp() == 1000.0
    assert [s.last_failure_reason for s in status.read(7002, now=1059.0)] == ["tls"]
    assert status.read(7001, now=1060.5) == []
    # A later beat prunes the members past their end from the index.
    cache.heartbeat(status.index_key(7001), "elsewhere:1", "{}", now=1100.0, timeout=60)
    assert set(cache.alive(status.index_key(7001), now=1100.0)) == {"elsewhere:1"}


def test_other_caches_keep_the_same_rules(settings) -> None:
    # The file cache of a local run (no Redis): the generic path.
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    cache.heartbeat("presence", "a", "one", now=10.0, timeout=5)
    cache.heartbeat("presence", "b", "two", now=12.0, timeout=5)
    assert cache.alive("presence", now=14.0) == {"a": "one", "b": "two"}
    assert cache.alive("presence", now=16.0) == {"b": "two"}
    cache.heartbeat("presence", "c", "three", now=16.0, timeout=5)
    assert cache.alive("presence", now=16.0) == {"b": "two", "c": "three"}
    cache.leave("presence", "b")
    assert cache.alive("presence", now=16.0) == {"c": "three"}


def test_cache_down_write_failures_are_counted_and_logged_once(
    cache_down: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hub.mqtt.status")
    recorder = StatusRecorder(interval_seconds=0, background=False)
    for second in range(3):
        recorder.published(1, now=float(second))
        recorder.flush()
    assert recorder.write_failures == 3
    assert len([r for r in caplog.records if r.name == "hub.mqtt.status"]) == 1
    with pytest.raises(cache.CacheUnavailable):
        status.read(1, now=0.0)


def test_background_writer_never_holds_the_caller(writes: list[Write]) -> None:
    """The events only hand a snapshot over; the writer thread writes it, and ``close`` writes
    what was still pending."""
    import threading

    writing, release = threading.Event(), threading.Event()
    written: list[int] = []

    def slow_write(
        organisation_id: int, member: str, value: str | None, now: float, ttl: int
    ) -> None:
        writing.set()
        release.wait(30)  # a cache that does not answer
        written.append(json.loads(value or "{}")["published"])

    recorder = StatusRecorder(write=slow_write, interval_seconds=5, now=0.0)
    recorder.published(1, now=0.0)
    assert writing.wait(30)
    for i in range(1, 100):
        recorder.published(1, now=i * 0.01)  # returns although the write hangs
    assert written == []
    release.set()
    recorder.close(now=1.0, timeout=30)
    assert written == [1, 100]


def test_an_unreadable_entry_is_skipped_not_an_error() -> None:
    # Another version of the hub, mid-deployment, may write a state this one cannot read.
    cache.heartbeat(status.index_key(7003), "old:1", '{"pid": 1}', now=1000.0, timeout=60)
    recorder = StatusRecorder(background=False, now=1000.0)
    recorder.published(7003, now=1000.0)
    recorder.flush()
    assert [s.published for s in status.read(7003, now=1001.0)] == [1]
