"""``celery beat`` stops when it is asked to, wherever the signal finds it (hub.celery)."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from celery import beat

from hub.celery import GracefulBeat, app
from tests.processes import celery_env_in_memory, stderr_lines, wait_until


class _Service:
    def __init__(self) -> None:
        self.stops = 0

    def stop(self, wait: bool = False) -> None:
        self.stops += 1


@pytest.fixture
def _own_handlers() -> Iterator[None]:
    """The test process's SIGTERM and SIGINT handlers, put back after the test."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


def test_the_beat_command_runs_the_graceful_beat() -> None:
    assert issubclass(app.Beat, GracefulBeat)


@pytest.mark.usefixtures("_own_handlers")
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_raises_only_into_the_loop_itself(number: int) -> None:
    """Celery's handler raised ``SystemExit`` into whatever beat was running: inside a query,
    Django turned it into a database error that beat logged and swallowed ("Message Error"),
    and beat went on after ``make run`` had stopped the rest (SIGINT from the terminal, then
    honcho's SIGTERM). Now every signal asks the loop to stop, and raises only when it finds
    the loop's own frame (waiting for its next tick): a query or a send is never cut."""
    service = _Service()
    app.Beat(quiet=True).install_sync_handler(service)  # type: ignore[arg-type]
    handler = signal.getsignal(number)
    assert callable(handler)
    inside_a_query = sys._getframe()
    handler(number, inside_a_query)
    handler(number, inside_a_query)  # a second signal (honcho's after the terminal's) too
    assert service.stops == 2
    with pytest.raises(SystemExit):
        handler(number, SimpleNamespace(f_code=beat.Service.start.__code__))
    assert service.stops == 3


def test_a_running_beat_stops_on_sigterm_after_its_tick(tmp_path) -> None:
    """A real ``celery beat`` of this checkout (its schedule in a file, its broker in its own
    memory: no database, no queue of the test's) stops on one SIGTERM, through its loop:
    "Shutting down" is what the loop's stop logs, which Celery's own handler never did."""
    command = [
        *(sys.executable, "-m", "celery", "-A", "hub", "beat", "--loglevel", "INFO"),
        *("--scheduler", "celery.beat:PersistentScheduler"),
        *("--schedule", str(tmp_path / "beat-schedule"), "--pidfile", ""),
    ]
    with stderr_lines(command, celery_env_in_memory()) as (beat, lines):
        wait_until(
            lambda: any("beat: Starting" in line for line in lines) or beat.poll() is not None,
            time.monotonic() + 60,
            "beat to start",
        )
        assert beat.poll() is None, lines
        beat.send_signal(signal.SIGTERM)
        wait_until(lambda: beat.poll() is not None, time.monotonic() + 60, "beat to stop")
    assert beat.returncode == 0, lines
    events = [json.loads(line)["event"] for line in lines if line.startswith("{")]
    assert any("Shutting down" in event for event in events), lines
