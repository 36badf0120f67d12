"""Django's Redis cache that keeps serving from a process-local cache while Redis is down."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import redis.exceptions
from django.core.cache.backends.base import BaseCache
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
        remote: Callable[..., Any] = getattr(super(), name)
        local: Callable[..., Any] = getattr(self._local, name)
        return self._guarded(lambda: remote(*args, **kwargs), lambda: local(*args, **kwargs))

    def _guarded(self, remote: Callable[[], T], local: Callable[[], T]) -> T:
        circuit = self._circuit
        if circuit.down_since is not None and time.monotonic() < circuit.next_try:
            return local()
        try:
            result = remote()
        except UNREACHABLE as exc:
            with circuit.lock:
                if circuit.down_since is None:
                    circuit.down_since = time.monotonic()
                    logger.error(
                        "cache unreachable, counting in process memory until it is back",
                        extra={"location": _redacted(self._location), "error": repr(exc)},
                    )
                circuit.next_try = time.monotonic() + self.retry_seconds
            return local()
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

    def window_hit(
        self, key: str, previous_key: str, *, weight: float, limit: int, timeout: int
    ) -> Hit:
        return self._guarded(
            lambda: _redis_window_hit(self, key, previous_key, weight, limit, timeout),
            lambda: _generic_window_hit(self._local, key, previous_key, weight, limit, timeout),
        )

    def window_hits(self, buckets: Sequence[Bucket]) -> list[Hit]:
        return self._guarded(
            lambda: _redis_window_hits(self, buckets),
            lambda: [_generic_window_hit(self._local, *b) for b in buckets],
        )

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


@dataclass(frozen=True)
class Hit:
    allowed: bool
    current: int  # hits counted in the current window, this one included when allowed
    previous: int  # hits of the window before


@dataclass(frozen=True)
class Bucket:
    """One sliding-window counter to hit: its current and previous windows' keys, the weight
    of the previous window, the limit, and how long a window's count is kept."""

    key: str
    previous_key: str
    weight: float
    limit: int
    timeout: int

    def __iter__(self) -> Iterator[Any]:
        return iter((self.key, self.previous_key, self.weight, self.limit, self.timeout))


# Atomic in Redis: read both windows, count the hit only if the weighted sum leaves room.
_WINDOW_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * tonumber(ARGV[1]) + current + 1 > tonumber(ARGV[2]) then
  return {0, current, previous}
end
current = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, current, previous}
"""


# The same for several buckets in one call (KEYS in pairs, ARGV in triples): a request's
# token, organisation and person buckets cost one round trip, not one each.
_WINDOW_HITS = """
local out = {}
for i = 1, #KEYS / 2 do
  local key, previous_key = KEYS[2 * i - 1], KEYS[2 * i]
  local weight, limit, ttl = tonumber(ARGV[3 * i - 2]), tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  local current = tonumber(redis.call('GET', key) or '0')
  local previous = tonumber(redis.call('GET', previous_key) or '0')
  if previous * weight + current + 1 > limit then
    out[i] = {0, current, previous}
  else
    current = redis.call('INCR', key)
    redis.call('EXPIRE', key, ttl)
    out[i] = {1, current, previous}
  end
end
return out
"""


def window_hits(buckets: Sequence[Bucket], *, alias: str = "default") -> list[Hit]:
    """``window_hit`` for each bucket, in one round trip (one atomic script) on Redis; each
    bucket is counted or refused on its own, as separate calls would."""
    from django.core.cache import caches

    if not buckets:
        return []
    backend = caches[alias]
    if isinstance(backend, FailoverRedisCache):
        return backend.window_hits(buckets)
    if isinstance(backend, RedisCache):
        return _redis_window_hits(backend, buckets)
    return [_generic_window_hit(backend, *b) for b in buckets]


def _redis_window_hits(backend: RedisCache, buckets: Sequence[Bucket]) -> list[Hit]:
    keys: list[str] = []
    args: list[Any] = []
    for b in buckets:
        keys += [
            backend.make_and_validate_key(b.key),
            backend.make_and_validate_key(b.previous_key),
        ]
        args += [repr(b.weight), b.limit, b.timeout]
    script = getattr(backend, "_hub_window_hits", None)
    if script is None:
        script = backend._cache.get_client(keys[0], write=True).register_script(_WINDOW_HITS)
        backend._hub_window_hits = script  # type: ignore[attr-defined]
    return [Hit(bool(a), int(c), int(p)) for a, c, p in script(keys=keys, args=args)]


def window_hit(
    *, key: str, previous_key: str, weight: float, limit: int, timeout: int, alias: str = "default"
) -> Hit:
    """One hit of a sliding-window counter (the previous window's count weighted by how much of
    it still overlaps the sliding window, plus the current one's): counted only when allowed.

    One round trip and atomic on Redis, whatever the number of processes and hosts; counters
    are plain integers, so the cost does not grow with the limit (DRF's throttle keeps and
    rewrites a list of every request's time)."""
    from django.core.cache import caches

    backend = caches[alias]
    if isinstance(backend, FailoverRedisCache):
        return backend.window_hit(key, previous_key, weight=weight, limit=limit, timeout=timeout)
    if isinstance(backend, RedisCache):
        return _redis_window_hit(backend, key, previous_key, weight, limit, timeout)
    return _generic_window_hit(backend, key, previous_key, weight, limit, timeout)


def _redis_window_hit(
    backend: RedisCache, key: str, previous_key: str, weight: float, limit: int, timeout: int
) -> Hit:
    keys = [backend.make_and_validate_key(key), backend.make_and_validate_key(previous_key)]
    # One client per cache object (Django makes one per call, and building it costs more than
    # the round trip); cache objects are per thread, the connection pool is shared.
    script = getattr(backend, "_hub_window_hit", None)
    if script is None:
        script = backend._cache.get_client(keys[0], write=True).register_script(_WINDOW_HIT)
        backend._hub_window_hit = script  # type: ignore[attr-defined]
    allowed, current, previous = script(keys=keys, args=[repr(weight), limit, timeout])
    return Hit(bool(allowed), int(current), int(previous))


def _generic_window_hit(
    backend: BaseCache, key: str, previous_key: str, weight: float, limit: int, timeout: int
) -> Hit:
    # Process memory (Redis down) or the file cache of a local run: not atomic across
    # processes, which only loosens the limit a little.
    current, previous = int(backend.get(key, 0)), int(backend.get(previous_key, 0))
    if previous * weight + current + 1 > limit:
        return Hit(False, current, previous)
    backend.add(key, 0, timeout)
    return Hit(True, int(backend.incr(key)), previous)


class CacheUnavailable(Exception):
    """The shared cache did not answer (Redis down): what it holds can be neither read nor
    written, and process memory is no stand-in for what other processes wrote."""


def _unavailable() -> Any:
    raise CacheUnavailable("shared cache unreachable")


def _shared(
    backend: BaseCache, remote: Callable[[RedisCache], T], local: Callable[[BaseCache], T]
) -> T:
    """``remote`` on Redis (failing with ``CacheUnavailable`` when it is down, the failover
    cache's circuit included), ``local`` on any other cache."""
    if isinstance(backend, FailoverRedisCache):
        redis_backend = backend
        return backend._guarded(lambda: remote(redis_backend), _unavailable)
    if isinstance(backend, RedisCache):
        try:
            return remote(backend)
        except UNREACHABLE as exc:
            raise CacheUnavailable(repr(exc)) from exc
    return local(backend)


def heartbeat(
    index_key: str, member: str, value: str, *, now: float, timeout: int, alias: str = "default"
) -> None:
    """Say that ``member`` (a process, say) is alive under ``index_key`` with ``value`` until
    ``now + timeout`` (wall-clock seconds): a member that stops beating leaves ``alive`` then.

    On Redis one round trip: the value under its own expiring key, the member in a sorted set
    scored by its end of life (the members past it are pruned there and then, so the index
    stays as small as the live members). Raises ``CacheUnavailable``."""
    from django.core.cache import caches

    entry = f"{index_key}:{member}"
    _shared(
        caches[alias],
        lambda b: _redis_heartbeat(b, index_key, entry, member, value, now, timeout),
        lambda b: _generic_heartbeat(b, index_key, entry, member, value, now, timeout),
    )


def alive(index_key: str, *, now: float, alias: str = "default") -> dict[str, str]:
    """The values of ``index_key``'s members still alive at ``now``, by member. Raises
    ``CacheUnavailable``."""
    from django.core.cache import caches

    return _shared(
        caches[alias],
        lambda b: _redis_alive(b, index_key, now),
        lambda b: _generic_alive(b, index_key, now),
    )


def leave(index_key: str, member: str, *, alias: str = "default") -> None:
    """Take ``member`` out of ``index_key`` at once, before its end of life (it stopped doing
    what it beat for). Raises ``CacheUnavailable``."""
    from django.core.cache import caches

    entry = f"{index_key}:{member}"
    _shared(
        caches[alias],
        lambda b: _redis_leave(b, index_key, entry, member),
        lambda b: _generic_leave(b, index_key, entry, member),
    )


def _redis_leave(backend: RedisCache, index_key: str, entry: str, member: str) -> None:
    index = backend.make_and_validate_key(index_key)
    client = backend._cache.get_client(index, write=True)
    pipe = client.pipeline(transaction=True)
    pipe.zrem(index, member)
    pipe.delete(backend.make_and_validate_key(entry))
    pipe.execute()


def _generic_leave(backend: BaseCache, index_key: str, entry: str, member: str) -> None:
    backend.delete(entry)  # alive() skips a member whose value is gone


def _redis_heartbeat(
    backend: RedisCache,
    index_key: str,
    entry: str,
    member: str,
    value: str,
    now: float,
    timeout: int,
) -> None:
    index = backend.make_and_validate_key(index_key)
    client = backend._cache.get_client(index, write=True)
    pipe = client.pipeline(transaction=True)
    pipe.set(backend.make_and_validate_key(entry), value, ex=timeout)
    pipe.zadd(index, {member: now + timeout})
    pipe.zremrangebyscore(index, "-inf", f"({now!r}")
    # Every member beats with the same timeout: the index outlives none of them.
    pipe.expire(index, timeout)
    pipe.execute()


def _redis_alive(backend: RedisCache, index_key: str, now: float) -> dict[str, str]:
    index = backend.make_and_validate_key(index_key)
    client = backend._cache.get_client(index, write=True)
    found = cast(list[bytes], client.zrangebyscore(index, repr(now), "+inf"))
    members = [m.decode() for m in found]
    if not members:
        return {}
    keys = [backend.make_and_validate_key(f"{index_key}:{m}") for m in members]
    values = cast(list[bytes | None], client.mget(keys))
    return {m: v.decode() for m, v in zip(members, values, strict=True) if v is not None}


def _generic_heartbeat(
    backend: BaseCache,
    index_key: str,
    entry: str,
    member: str,
    value: str,
    now: float,
    timeout: int,
) -> None:
    # The file cache of a local run: the index's read-then-write may lose a member another
    # process wrote at the same moment, until that member's next beat.
    backend.set(entry, value, timeout)
    index = {m: end for m, end in (backend.get(index_key) or {}).items() if end > now}
    index[member] = now + timeout
    backend.set(index_key, index, timeout)


def _generic_alive(backend: BaseCache, index_key: str, now: float) -> dict[str, str]:
    index = backend.get(index_key) or {}
    members = [m for m, end in index.items() if end > now]
    found = backend.get_many([f"{index_key}:{m}" for m in members])
    return {m: found[f"{index_key}:{m}"] for m in members if f"{index_key}:{m}" in found}


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
