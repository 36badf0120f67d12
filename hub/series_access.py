"""Who may read a series' points beyond tenancy: rules a domain app adds for its own sources.

Tenancy decides whether a caller sees a series at all; some data carry a further condition. GRDF
consumption may be served only inside the customer's consent (dates, data range, types granted,
right active), however it is read. ``hub`` cannot know those rules and must not import the app,
so the app registers a guard for its series' ``source`` in ``AppConfig.ready`` and every reader
of points in ``hub`` (the series API) asks ``refusal`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from hub import metrics
from hub.models import Series

# (series, start, end, now) -> None when reading [start, end) is allowed, else the reason.
ReadGuard = Callable[[Series, dt.datetime, dt.datetime, dt.datetime], str | None]

_guards: dict[str, ReadGuard] = {}


def register_read_guard(*, source: str, guard: ReadGuard) -> None:
    """Make ``guard`` decide every read of points of series whose ``source`` is ``source``."""
    _guards[source] = guard


def guarded_sources() -> frozenset[str]:
    """The sources whose reads a guard decides (points of other sources may be read ahead)."""
    return frozenset(_guards)


def refusal(
    *, series: Series, start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> str | None:
    """Why points of ``series`` in ``[start, end)`` may not be read; ``None`` if they may."""
    guard = _guards.get(series.source)
    reason = None if guard is None else guard(series, start, end, now)
    if reason is not None:
        metrics.CONSENT_REFUSALS.labels(series.source, "read_guard").inc()
    return reason
