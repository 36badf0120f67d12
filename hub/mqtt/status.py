"""What each process's MQTT publisher is doing, per organisation, kept in the shared cache.

The publisher reports its events here (connected, a message sent, a failure, a drop) at no
more cost than a lock and a few counters; each organisation's state is written at most once per
``interval_seconds``, and again every ``heartbeat_seconds`` while nothing changes, by a thread
of its own, so a slow or down cache never holds the publisher. An entry lives ``ttl_seconds``
after its last write: a process that stops (or dies) leaves the broker page by itself.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass
from typing import Any

from hub import cache
from hub.metrics import MQTT_STATUS_WRITES

logger = logging.getLogger(__name__)

WRITE_INTERVAL_SECONDS = 5.0
HEARTBEAT_SECONDS = 30.0
TTL_SECONDS = 120
# Longest failure detail kept (an exception's text, a CONNACK's reason).
DETAIL_LENGTH = 200

# What a published message was: a retained state, an event, a discovery payload.
KINDS = ("state", "event", "discovery")
# Why a connection or a message failed.
REASONS = (
    "credentials",  # the broker refused who we are
    "refused",  # another refusal in its CONNACK
    "tls",  # handshake or certificate
    "unreachable",  # no such host, nothing listening, no route
    "disconnected",  # a connection that was up went down
    "not_connected",  # a message for a broker not connected yet
    "publish",  # the MQTT client did not take the message
    "queue_full",  # the process's queue was full: the message was dropped
)
# The CONNACK codes that mean "who you are was refused" (MQTT 3.1.1: 4 and 5, as paho maps them
# onto MQTT 5's 0x86 "Bad User Name or Password" and 0x87 "Not authorized").
CREDENTIAL_CODES = {0x86, 0x87, 4, 5}

_role = ""


def set_role(role: str) -> None:
    """Name what this process is (``tic``, ``worker``, ``web``): shown beside its host and pid."""
    global _role
    _role = role


def index_key(organisation_id: int) -> str:
    """One index per organisation: a page reads its own organisation's, never another's."""
    return f"mqtt-status:org:{organisation_id}"


def refusal_reason(code: object) -> str:
    """``credentials`` or ``refused`` for a failed CONNACK's reason code."""
    value = getattr(code, "value", code)
    return "credentials" if value in CREDENTIAL_CODES else "refused"


@dataclass(slots=True)
class _State:
    connected: bool = False
    since: float | None = None  # when ``connected`` last changed
    last_message_at: float | None = None
    last_message_kind: str = ""
    last_failure_at: float | None = None
    last_failure_reason: str = ""
    last_failure_detail: str = ""
    published: int = 0
    failed: int = 0
    dropped: int = 0

    def failure(self, reason: str, detail: str, now: float) -> None:
        self.last_failure_at = now
        self.last_failure_reason = reason
        self.last_failure_detail = detail[:DETAIL_LENGTH]


# (organisation, member, state or None to leave the organisation's page, now, ttl)
Writer = Callable[[int, str, str | None, float, int], None]


def write_to_cache(
    organisation_id: int, member: str, value: str | None, now: float, ttl: int
) -> None:
    if value is None:
        cache.leave(index_key(organisation_id), member)
    else:
        cache.heartbeat(index_key(organisation_id), member, value, now=now, timeout=ttl)


class StatusRecorder:
    """One process's publisher state by organisation (thread-safe: the publisher thread,
    paho's network threads and the callers that find the queue full all report here)."""

    def __init__(
        self,
        *,
        interval_seconds: float = WRITE_INTERVAL_SECONDS,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        ttl_seconds: int = TTL_SECONDS,
        write: Writer = write_to_cache,
        background: bool = True,
        now: float | None = None,
    ) -> None:
        self.interval_seconds = interval_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.ttl_seconds = ttl_seconds
        self.started_at = time.time() if now is None else now
        self.write_failures = 0
        self._write = write
        self._background = background
        self._states: dict[int, _State] = {}
        self._written_at: dict[int, float] = {}
        self._dirty: set[int] = set()
        self._pending: dict[int, tuple[str | None, float]] = {}
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._closing = False
        self._down = False
        self._thread: threading.Thread | None = None

    # -- events (any thread; never waits on the cache) --

    def connected(self, organisation_id: int, *, now: float) -> None:
        with self._lock:
            state = self._state(organisation_id)
            state.connected, state.since = True, now
            self._changed(organisation_id, now)

    def disconnected(
        self, organisation_id: int, *, now: float, reason: str = "", detail: str = ""
    ) -> None:
        """Down, after being up: a failure when ``reason`` says why (not our own close)."""
        with self._lock:
            state = self._state(organisation_id)
            if state.connected or state.since is None:
                state.connected, state.since = False, now
            if reason:
                state.failure(reason, detail, now)
            self._changed(organisation_id, now)

    def sent(self, organisation_id: int, *, kind: str, now: float) -> None:
        with self._lock:
            state = self._state(organisation_id)
            state.last_message_at, state.last_message_kind = now, kind
            self._changed(organisation_id, now)

    def published(self, organisation_id: int, *, now: float) -> None:
        with self._lock:
            self._state(organisation_id).published += 1
            self._changed(organisation_id, now)

    def failed(self, organisation_id: int, *, reason: str, now: float, detail: str = "") -> None:
        with self._lock:
            state = self._state(organisation_id)
            state.failed += 1
            state.failure(reason, detail, now)
            self._changed(organisation_id, now)

    def dropped(self, organisation_id: int, *, now: float) -> None:
        with self._lock:
            state = self._state(organisation_id)
            state.dropped += 1
            state.failure("queue_full", "", now)
            self._changed(organisation_id, now)

    def tick(self, *, now: float, organisations: Collection[int] | None = None) -> None:
        """Write what changed since the last interval, and beat for what did not; forget the
        organisations no longer in ``organisations`` and take this process off their page
        (their broker was disabled or removed: it is not publishing there any more)."""
        with self._lock:
            if organisations is not None:
                for gone in set(self._states) - set(organisations):
                    self._forget(gone)
                    self._queue(gone, None, now)
            for organisation_id in list(self._states):
                since = now - self._written_at.get(organisation_id, -1e18)
                if (organisation_id in self._dirty and since >= self.interval_seconds) or (
                    since >= self.heartbeat_seconds
                ):
                    self._hand_off(organisation_id, now)

    def close(self, *, now: float, timeout: float = 2.0) -> None:
        """Write every pending change at once (the process is stopping), then stop the writer."""
        with self._lock:
            for organisation_id in list(self._dirty):
                self._hand_off(organisation_id, now)
            self._closing = True
            self._wake.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)
        elif not self._background:
            self.flush()
        with self._lock:
            self._closing = False
            self._thread = None

    # -- inside the lock --

    def _state(self, organisation_id: int) -> _State:
        state = self._states.get(organisation_id)
        if state is None:
            state = self._states[organisation_id] = _State()
        return state

    def _forget(self, organisation_id: int) -> None:
        self._states.pop(organisation_id, None)
        self._written_at.pop(organisation_id, None)
        self._dirty.discard(organisation_id)
        self._pending.pop(organisation_id, None)

    def _changed(self, organisation_id: int, now: float) -> None:
        self._dirty.add(organisation_id)
        if now - self._written_at.get(organisation_id, -1e18) >= self.interval_seconds:
            self._hand_off(organisation_id, now)

    def _hand_off(self, organisation_id: int, now: float) -> None:
        self._written_at[organisation_id] = now
        self._dirty.discard(organisation_id)
        self._queue(organisation_id, self._snapshot(organisation_id, now), now)

    def _queue(self, organisation_id: int, value: str | None, now: float) -> None:
        self._pending[organisation_id] = (value, now)
        if not self._background:
            return
        if self._thread is None or not self._thread.is_alive():
            # Started here, not at creation: a forked worker child gets a writer of its own.
            self._thread = threading.Thread(
                target=self._write_loop, name="hub-mqtt-status", daemon=True
            )
            self._thread.start()
        self._wake.notify()

    def _snapshot(self, organisation_id: int, now: float) -> str:
        return json.dumps(
            {
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "role": _role,
                "started_at": self.started_at,
                "updated_at": now,
                **asdict(self._states[organisation_id]),
            }
        )

    # -- the writer --

    def flush(self) -> None:
        """Write what is pending, in the calling thread (the writer's, or a test's)."""
        with self._lock:
            batch, self._pending = self._pending, {}
        member = f"{socket.gethostname()}:{os.getpid()}"
        for organisation_id, (value, now) in batch.items():
            try:
                self._write(organisation_id, member, value, now, self.ttl_seconds)
            except Exception as exc:
                # Whatever the cache raises, a state not written must not stop the writer.
                self.write_failures += 1
                MQTT_STATUS_WRITES.labels("failed").inc()
                if not self._down:
                    self._down = True
                    logger.warning("mqtt: publisher state not written (%r); retried", exc)
            else:
                MQTT_STATUS_WRITES.labels("written").inc()
                if self._down:
                    self._down = False
                    logger.info("mqtt: publisher state written again")

    def _write_loop(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._wake.wait()
                closing = self._closing
            self.flush()
            if closing:
                return


@dataclass(frozen=True)
class ProcessState:
    """One process's publisher state for one organisation, as the broker page shows it."""

    host: str
    pid: int
    role: str
    started_at: dt.datetime
    updated_at: dt.datetime
    connected: bool
    since: dt.datetime | None
    last_message_at: dt.datetime | None
    last_message_kind: str
    last_failure_at: dt.datetime | None
    last_failure_reason: str
    last_failure_detail: str
    published: int
    failed: int
    dropped: int


def _instant(value: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(value, dt.UTC)


def _maybe(value: float | None) -> dt.datetime | None:
    return None if value is None else _instant(value)


def read(organisation_id: int, *, now: float) -> list[ProcessState]:
    """The live processes' states for one organisation, by host and pid. Raises
    ``hub.cache.CacheUnavailable``."""
    states = []
    for value in cache.alive(index_key(organisation_id), now=now).values():
        try:
            states.append(_parsed(json.loads(value)))
        except (KeyError, TypeError, ValueError):
            logger.warning("mqtt: unreadable publisher state skipped: %.200s", value)
    return sorted(states, key=lambda s: (s.host, s.pid))


def _parsed(raw: dict[str, Any]) -> ProcessState:
    return ProcessState(
        host=str(raw["host"]),
        pid=int(raw["pid"]),
        role=str(raw.get("role", "")),
        started_at=_instant(raw["started_at"]),
        updated_at=_instant(raw["updated_at"]),
        connected=bool(raw["connected"]),
        since=_maybe(raw.get("since")),
        last_message_at=_maybe(raw.get("last_message_at")),
        last_message_kind=str(raw.get("last_message_kind", "")),
        last_failure_at=_maybe(raw.get("last_failure_at")),
        last_failure_reason=str(raw.get("last_failure_reason", "")),
        last_failure_detail=str(raw.get("last_failure_detail", "")),
        published=int(raw.get("published", 0)),
        failed=int(raw.get("failed", 0)),
        dropped=int(raw.get("dropped", 0)),
    )
