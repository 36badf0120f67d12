"""``bench/control.py`` with a few loads and events: the run completes, its timings are not read.

The bench sheds the first load on each PREAVIS and waits for the servo to bring it back between
events; fifteen events go past the point where the meter's power share is known and the servo's
restore waits for its headroom (tic.controllers.PowerServo), which the bench had to account for.
"""

from __future__ import annotations

import pytest

from tests.processes import run_bench


@pytest.mark.celery_worker
def test_the_control_bench_runs_its_events_through():
    run = run_bench("control.py", "--loads", "5", "--events", "15")
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "loads 5, events 15" in run.stdout
    assert "PREAVIS frame → write acked" in run.stdout
