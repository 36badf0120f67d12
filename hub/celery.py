"""The Celery app: configured from Django settings (``CELERY_*``), tasks found in every app."""

from __future__ import annotations

import gc
import os
from types import FrameType
from typing import Any

from celery import Celery, beat, platforms, signals
from celery.apps.beat import Beat
from kombu.utils.objects import cached_property

from hub import metrics_dir

# Before anything imports prometheus_client: the pool's children inherit the directory.
metrics_dir.prepare(metrics_dir.default_root() or None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")


class GracefulBeat(Beat):
    """``celery beat`` whose SIGTERM and SIGINT stop its loop without raising into a query.

    Celery's own handler raises ``SystemExit`` wherever the main thread is. Raised inside a
    query (beat keeps its schedule in the database), Django turned it into a database error,
    which beat's "Message Error" handler logged and swallowed: beat went on sending tasks after
    ``make run`` had stopped every other process, and a second ``make run`` would have run two
    beats. Here a signal asks the loop to stop; only when it finds the loop waiting between two
    ticks (nothing half done) does it also raise, to end the wait at once. Otherwise the loop
    stops after the tick in progress. Either way it saves the schedule in its ``finally``.
    """

    def install_sync_handler(self, service: beat.Service) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            service.stop()
            if frame is not None and frame.f_code is _LOOP:
                raise SystemExit()  # the loop's own frame: asleep, or between two steps

        platforms.signals.update(SIGTERM=stop, SIGINT=stop)


_LOOP = beat.Service.start.__code__


class HubCelery(Celery):
    @cached_property
    def Beat(self) -> type[Beat]:  # Celery's attribute, which `celery beat` instantiates
        return self.subclass_with_self(GracefulBeat)


app = HubCelery("hub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.setup_logging.connect
def _keep_the_hubs_logging(**_: Any) -> None:
    """Leave logging as Django configured it (settings.LOGGING: JSON lines, ``LOG_LEVEL``).

    With no receiver of this signal, a worker and beat replace the root logger's handlers with
    Celery's plain-text format: every line of the polls and syncs they run would lose its JSON
    and its fields. The worker's ``--loglevel`` has no effect then; ``LOG_LEVEL`` sets the level
    in every process."""


@signals.task_postrun.connect
def _count_task(sender: Any = None, state: str | None = None, **_: Any) -> None:
    from hub.metrics import CELERY_TASKS

    name = getattr(sender, "name", None) or "unknown"
    CELERY_TASKS.labels(name, (state or "unknown").lower()).inc()


@signals.worker_process_shutdown.connect
def _process_gone(pid: int | None = None, **_: Any) -> None:
    # Live gauges of an ended pool child would otherwise stay in the scrape.
    if os.environ.get(metrics_dir.ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid())


@signals.worker_init.connect
def _warm_up(**_: object) -> None:
    """Load the URLconf once in the parent process, before the pool forks: the first task that
    builds a link (a Smart OA notice) would otherwise import every view inside a poll."""
    from hub import mqtt

    mqtt.set_role("worker")  # inherited by the pool's children, named on the broker page
    warm_up()


def warm_up() -> None:
    from django.urls import get_resolver

    len(get_resolver().reverse_dict)
    # What is loaded by now (modules, settings, the URLconf) lives as long as the process: out
    # of the collector's reach, a full collection no longer walks it all again (a tenth of a
    # 10,000-contract Smart OA poll), and the pool's children do not copy the pages it touches.
    gc.freeze()
