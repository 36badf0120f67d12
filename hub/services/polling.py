"""Poll runs: one row per batch of calls to an external system, so staleness shows at a glance."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager

from hub import metrics
from hub.models import Organisation, PollOutcome, PollRun


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
