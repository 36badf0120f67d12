"""Django's Redis cache that keeps serving from a process-local cache while Redis is down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import redis.exceptions
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

logger = logging.getLogger(__name__)
T = TypeVar("T")

# What a stopped, restarting or unreachable Redis raises; anything else is a real bug.
UNREACHABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)


class _Circuit:
    """Per-process state of one Redis location: down since when, and whether that was logged."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.down_since: float | None = None
        self.next_try = 0.0


_circuits: dict[str, _Circuit] = {}
_circuits_lock = threading.Lock()


def _circuit(location: str) -> _Circuit:
    with _circuits_lock:
        return _circuits.setdefault(location, _Circuit())


class FailoverRedisCache(RedisCache):
    """Throttle buckets, rate budgets and short-lived caches must not turn a Redis outage into
    500s on every request. While Redis is unreachable each process counts in its own memory
    (limits become per process, so looser, never absent); Redis is tried again every
    ``RETRY_SECONDS`` (``OPTIONS["retry_seconds"]``), and the outage and the recovery are
    logged once each.

    Connect and read timeouts default to 1 s so an unreachable host cannot hold a request."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("retry_seconds", 5.0))
        options.setdefault("socket_connect_timeout", 1.0)
        options.setdefault("socket_timeout", 1.0)
        super().__init__(server, {**params, "OPTIONS": options})
        self._location = server if isinstance(server, str) else ",".join(server)
        self._circuit = _circuit(self._location)
        self._local = LocMemCache(f"failover:{self._location}", params)

    @property
    def degraded(self) -> bool:
        return self._circuit.down_since is not None

    def _run(self, name: str, *args: Any, **kwargs: Any) -> Any:
        circuit = self._circuit
        if circuit.down_since is not None and time.monotonic() < circuit.next_try:
            return getattr(self._local, name)(*args, **kwargs)
        method: Callable[..., Any] = getattr(super(), name)
        try:
            result = method(*args, **kwargs)
        except UNREACHABLE as exc:
            with circuit.lock:
                if circuit.down_since is None:
                    circuit.down_since = time.monotonic()
                    logger.error(
                        "cache unreachable, counting in process memory until it is back",
                        extra={"location": _redacted(self._location), "error": repr(exc)},
                    )
                circuit.next_try = time.monotonic() + self.retry_seconds
            return getattr(self._local, name)(*args, **kwargs)
        if circuit.down_since is not None:
            with circuit.lock:
                if circuit.down_since is not None:
                    logger.warning(
                        "cache reachable again",
                        extra={
                            "location": _redacted(self._location),
                            "down_seconds": round(time.monotonic() - circuit.down_since, 1),
                        },
                    )
                    circuit.down_since = None
        return result

    def add(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("add", *args, **kwargs)

    def get(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get", *args, **kwargs)

    def set(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("set", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("touch", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("delete", *args, **kwargs)

    def get_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("get_many", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("has_key", *args, **kwargs)

    def incr(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("incr", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("set_many", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> Any:
        return self._run("delete_many", *args, **kwargs)

    def clear(self) -> Any:
        self._local.clear()
        return self._run("clear")


def _redacted(location: str) -> str:
    # A Redis URL may carry a password; logs keep only where it points.
    from urllib.parse import urlsplit

    parts = urlsplit(location)
    return f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"


def ping(alias: str = "default") -> str:
    """Readiness: "ok" when the cache's server answers, else the error's name."""
    from django.core.cache import caches

    backend = caches[alias]
    if not isinstance(backend, RedisCache):
        return "ok"
    try:
        backend._cache.get_client(write=True).ping()
    except UNREACHABLE as exc:
        return f"error: {type(exc).__name__}"
    return "ok"
