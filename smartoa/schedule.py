"""Stop schedules as values: periods, stop episodes and the difference between two versions.

Pure Python (no Django, no I/O): the client builds these from the API's answer, the services
store them, billing and the read API consume them. Every interval is half-open ``[start, end)``
and every datetime is timezone-aware.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

STOP = 1.0
RUN = 0.0


@dataclass(frozen=True, slots=True)
class Period:
    """One period of the ``Effacement`` resource: ``value`` 1.0 asks for a stop, 0.0 does not."""

    start: dt.datetime
    end: dt.datetime
    value: float

    @property
    def is_stop(self) -> bool:
        return self.value == STOP

    def as_json(self) -> dict[str, Any]:
        return {"start": _iso(self.start), "end": _iso(self.end), "value": self.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Period:
        return cls(_parse(data["start"]), _parse(data["end"]), float(data["value"]))


@dataclass(frozen=True, slots=True, order=True)
class Episode:
    """A stop episode: consecutive stop periods merged, so a stop split in two is still one."""

    start: dt.datetime
    end: dt.datetime

    @property
    def duration(self) -> dt.timedelta:
        return self.end - self.start

    def overlaps(self, other: Episode) -> bool:
        return self.start < other.end and other.start < self.end

    def clipped(self, start: dt.datetime, end: dt.datetime) -> Episode | None:
        """The part of the episode inside ``[start, end)``, or None when they do not meet."""
        if self.start >= end or start >= self.end:
            return None
        return Episode(max(self.start, start), min(self.end, end))

    def contains(self, instant: dt.datetime) -> bool:
        return self.start <= instant < self.end

    def as_json(self) -> dict[str, str]:
        return {"start": _iso(self.start), "end": _iso(self.end)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Episode:
        return cls(_parse(data["start"]), _parse(data["end"]))


@dataclass(frozen=True)
class EpisodeDiff:
    """What changed between two versions of one day's schedule."""

    added: tuple[Episode, ...] = ()
    removed: tuple[Episode, ...] = ()
    moved: tuple[tuple[Episode, Episode], ...] = ()  # (before, after)
    unchanged: tuple[Episode, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.moved)

    def as_json(self) -> dict[str, Any]:
        return {
            "added": [e.as_json() for e in self.added],
            "removed": [e.as_json() for e in self.removed],
            "moved": [{"before": b.as_json(), "after": a.as_json()} for b, a in self.moved],
            "unchanged": len(self.unchanged),
        }


def episodes_of(periods: Iterable[Period]) -> list[Episode]:
    """Stop episodes of a schedule: touching stop periods merge into one episode."""
    return merge_touching(Episode(p.start, p.end) for p in periods if p.is_stop)


def merge_touching(episodes: Iterable[Episode]) -> list[Episode]:
    """Sort and merge episodes that overlap or touch (one ends where the next starts).

    Two back-to-back stops, or a stop ending at midnight and the next day's starting then, are
    one stop for the plant: nothing ramps between them.
    """
    merged: list[Episode] = []
    for episode in sorted(episodes):
        if merged and episode.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Episode(last.start, max(last.end, episode.end))
        else:
            merged.append(episode)
    return merged


def diff_episodes(before: Sequence[Episode], after: Sequence[Episode]) -> EpisodeDiff:
    """Pair each new episode with the first old one it overlaps; the rest were added or removed.

    An episode whose bounds changed but which still overlaps its former self is "moved": for a
    plant, a stop brought forward by ten minutes is the same stop, not a new one.
    """
    unmatched_before = list(before)
    added: list[Episode] = []
    moved: list[tuple[Episode, Episode]] = []
    unchanged: list[Episode] = []
    for episode in sorted(after):
        partner = next((old for old in unmatched_before if old.overlaps(episode)), None)
        if partner is None:
            added.append(episode)
            continue
        unmatched_before.remove(partner)
        if partner == episode:
            unchanged.append(episode)
        else:
            moved.append((partner, episode))
    return EpisodeDiff(
        added=tuple(added),
        removed=tuple(sorted(unmatched_before)),
        moved=tuple(moved),
        unchanged=tuple(unchanged),
    )


def value_at(periods: Iterable[Period], instant: dt.datetime) -> float | None:
    """The schedule's value at ``instant``, or None when no period covers it."""
    for period in periods:
        if period.start <= instant < period.end:
            return period.value
    return None


def _iso(instant: dt.datetime) -> str:
    if instant.tzinfo is not dt.UTC:
        instant = instant.astimezone(dt.UTC)
    return instant.isoformat().replace("+00:00", "Z")


def _parse(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)
