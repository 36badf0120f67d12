"""``bench/control.py`` with a few loads and events: the run completes, its timings are not read.

The bench sheds the first load on each PREAVIS and waits for the servo to bring it back between
events; fifteen events go past the point where the meter's power share is known and the servo's
restore waits for its headroom (tic.controllers.PowerServo), which the bench had to account for.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import require

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.celery_worker
def test_the_control_bench_runs_its_events_through():
    require(connection.vendor == "postgresql", "PostgreSQL (the bench's worker shares it)")
    require(bool(settings.REDIS_URL), "needs REDIS_URL (the worker's broker)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    run = subprocess.run(
        [sys.executable, "bench/control.py", "--loads", "5", "--events", "15"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "loads 5, events 15" in run.stdout
    assert "PREAVIS frame → write acked" in run.stdout
