"""Poll runs: one row per batch of calls to an external system, so staleness shows at a glance."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from hub import metrics
from hub.bulk import insert_rows
from hub.models import Organisation, PollOutcome, PollRun


@dataclass(frozen=True)
class RunResult:
    """How one call (or one batch of calls) to an external system went: the one result type of
    a poll run, whether recorded around a block (``poll_run``) or many at once (``record_runs``)."""

    target: str
    outcome: PollOutcome
    organisation_id: int | None = None
    items_received: int = 0
    items_stored: int = 0
    error: str = ""

    def as_row(
        self, *, source: str, started_at: dt.datetime, finished_at: dt.datetime
    ) -> dict[str, Any]:
        return {
            "source": source,
            "target": self.target[:200],
            "organisation_id": self.organisation_id,
            "started_at": started_at,
            "finished_at": finished_at,
            "outcome": self.outcome,
            "items_received": self.items_received,
            "items_stored": self.items_stored,
            "error": self.error[:2000],
        }


def record_runs(
    *,
    source: str,
    results: Sequence[RunResult],
    started_at: dt.datetime,
    finished_at: dt.datetime,
) -> int:
    """Store the runs of a batch poller (one per target) in one INSERT; how many."""
    stored = insert_rows(
        PollRun,
        [r.as_row(source=source, started_at=started_at, finished_at=finished_at) for r in results],
    )
    seconds = (finished_at - started_at).total_seconds()
    metrics.observe_polls(source=source, outcomes=[r.outcome for r in results], seconds=seconds)
    return stored


@contextmanager
def poll_run(
    *, source: str, target: str = "", organisation: Organisation | None = None, now: dt.datetime
) -> Iterator[PollRun]:
    """Record a poll run around a block; an exception marks it failed (and propagates).

    The block sets ``run.items_received`` / ``run.items_stored`` and may set ``run.outcome``
    to PARTIAL; the run is closed with the time the block ended.
    """
    run = PollRun.objects.create(
        source=source, target=target, organisation=organisation, started_at=now
    )
    started = time.perf_counter()
    try:
        yield run
    except Exception as exc:
        run.outcome = PollOutcome.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
        raise
    else:
        if run.outcome == PollOutcome.RUNNING:
            run.outcome = PollOutcome.SUCCESS
    finally:
        run.finished_at = max(now, dt.datetime.now(dt.UTC))
        run.save()
        metrics.observe_poll(
            source=source, outcome=run.outcome, seconds=time.perf_counter() - started
        )


def prune_poll_runs(*, keep_days: int, now: dt.datetime) -> int:
    deleted, _ = PollRun.objects.filter(started_at__lt=now - dt.timedelta(days=keep_days)).delete()
    return deleted
