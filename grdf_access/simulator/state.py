"""The simulator's state in Django's cache, so every web process agrees on it.

Keys live under a generation number: :func:`reset` bumps it, which forgets every right,
subscription, counter and setting at once without scanning the cache. Keys expire after
:data:`TTL` so that abandoned generations do not pile up in Redis.

Lists (a credential's rights, its subscriptions) are kept as a sequence counter plus one key
per item, so declaring the 10,000th right writes two small keys, not a growing list.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.utils import timezone

from grdf_access.simulator.filecache import SimulatorFileCache

PREFIX = "grdf-sim"
# The cache alias set aside for the simulator (see hub/settings.py), else the default one.
CACHE_ALIAS = "grdf_simulator"
TTL = 30 * 24 * 3600
_GENERATION = f"{PREFIX}:generation"

# Counter names; "outside_consent.<reason>" adds one per refusal reason.
COUNTERS = (
    "requests",
    "token_requests",
    "data_requests",
    "outside_consent",
    "throttled",
    "declarations",
    "proof_uploads",
)
REASONS = (
    "no_right",
    "not_active",
    "type_not_granted",
    "outside_consent_dates",
    "outside_data_range",
)
_OUTSIDE_LOG_SIZE = 50


def _store() -> BaseCache:
    return caches[CACHE_ALIAS if CACHE_ALIAS in settings.CACHES else "default"]


# Within one simulated request the generation is read once (see :func:`request_scope`): each
# cache round trip costs about as much as generating a month of data.
_pinned_generation: ContextVar[int | None] = ContextVar("grdf_sim_generation", default=None)


def _generation() -> int:
    pinned = _pinned_generation.get()
    if pinned is not None:
        return pinned
    value = _store().get(_GENERATION)
    if value is None:
        _store().add(_GENERATION, 1, timeout=None)
        value = _store().get(_GENERATION, 1)
    return int(value)


@contextmanager
def request_scope() -> Iterator[None]:
    """Read the generation once for everything done inside (one simulated request)."""
    token = _pinned_generation.set(None)
    _pinned_generation.set(_generation())
    try:
        yield
    finally:
        _pinned_generation.reset(token)


def key(*parts: object) -> str:
    return ":".join((PREFIX, str(_generation()), *(str(p) for p in parts)))


def keys(*names: str) -> list[str]:
    """Several keys of the current generation, read with one generation lookup."""
    generation = _generation()
    return [f"{PREFIX}:{generation}:{name}" for name in names]


def get(name: str, default: Any = None) -> Any:
    return _store().get(key(name), default)


def get_many(names: Iterable[str]) -> dict[str, Any]:
    names = list(names)
    found = _store().get_many(keys(*names))
    prefix_length = len(keys("")[0])
    return {k[prefix_length:]: v for k, v in found.items()}


def put(name: str, value: Any) -> None:
    _store().set(key(name), value, timeout=TTL)


def put_many(values: Mapping[str, Any]) -> None:
    generation = _generation()
    _store().set_many({f"{PREFIX}:{generation}:{k}": v for k, v in values.items()}, timeout=TTL)


def delete(name: str) -> None:
    _store().delete(key(name))


def _increment(full_key: str) -> int:
    """Add one to the counter at ``full_key`` (created at 1), atomically for every process."""
    store = _store()
    if isinstance(store, SimulatorFileCache):
        return store.add_to(full_key, timeout=TTL)
    try:
        return int(store.incr(full_key))  # Redis INCR
    except ValueError:
        # Missing: SET NX creates it once; whoever loses that race increments instead.
        return 1 if store.add(full_key, 1, timeout=TTL) else int(store.incr(full_key))


def bump(*names: str) -> None:
    """Add one to each counter; no update is lost to concurrent requests."""
    generation = _generation()
    for name in names:
        _increment(f"{PREFIX}:{generation}:count:{name}")


def append(sequence: str, value: Any) -> int:
    """Add ``value`` to the list ``sequence``; returns its 1-based position."""
    generation = _generation()
    position = _increment(f"{PREFIX}:{generation}:seq:{sequence}")
    _store().set(f"{PREFIX}:{generation}:item:{sequence}:{position}", value, timeout=TTL)
    return position


def items(sequence: str) -> list[Any]:
    generation = _generation()
    count = int(_store().get(f"{PREFIX}:{generation}:seq:{sequence}") or 0)
    names = [f"{PREFIX}:{generation}:item:{sequence}:{i}" for i in range(1, count + 1)]
    found = _store().get_many(names)
    return [found[n] for n in names if n in found]


def counters() -> dict[str, Any]:
    """Every counter (0 when never bumped), the refusals by reason and the last refusals."""
    names = [*COUNTERS, *(f"outside_consent.{r}" for r in REASONS)]
    found = get_many(f"count:{n}" for n in names)
    result: dict[str, Any] = {n: int(found.get(f"count:{n}", 0)) for n in COUNTERS}
    result["outside_consent_by_reason"] = {
        r: int(found.get(f"count:outside_consent.{r}", 0)) for r in REASONS
    }
    result["outside_consent_log"] = _outside_log()
    return result


def log_outside(entry: dict[str, Any]) -> None:
    """Keep ``entry`` among the last refusals: a ring of slots, so concurrent refusals all land."""
    generation = _generation()
    position = _increment(f"{PREFIX}:{generation}:seq:outside_log")
    slot = f"{PREFIX}:{generation}:outside_log:{position % _OUTSIDE_LOG_SIZE}"
    _store().set(slot, {"position": position, "entry": entry}, timeout=TTL)


def _outside_log() -> list[dict[str, Any]]:
    """The last refusals, oldest first."""
    found = get_many(f"outside_log:{i}" for i in range(_OUTSIDE_LOG_SIZE)).values()
    return [slot["entry"] for slot in sorted(found, key=lambda slot: slot["position"])]


def reset() -> None:
    """Forget everything: rights, subscriptions, counters, clock, injected faults."""
    if isinstance(_store(), SimulatorFileCache):
        _store().clear()  # the simulator's own directory: drop the old generations' files
    try:
        _store().incr(_GENERATION)
    except ValueError:
        _store().set(_GENERATION, 2, timeout=None)


# -- clock ---------------------------------------------------------------------------------


def now() -> dt.datetime:
    """The simulator's "now": the pinned instant if any, else the wall clock (aware UTC)."""
    pinned = get("clock")
    if pinned:
        return dt.datetime.fromisoformat(pinned)
    return timezone.now()


def set_now(instant: dt.datetime | None) -> None:
    """Pin the simulator's clock (``None`` goes back to the wall clock)."""
    if instant is None:
        delete("clock")
        return
    if instant.tzinfo is None:
        raise ValueError("a timezone-aware datetime is required")
    put("clock", instant.astimezone(dt.UTC).isoformat())
