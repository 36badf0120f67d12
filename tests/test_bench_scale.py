"""``bench/scale.py --quick``, with tiny counts: the scale run's invariants, never its timings.

Rules checked by the run itself (it exits non-zero when one fails, bench/scale.py): in each
Smart OA round every claimed contract is polled by one of the three workers exactly once (none
twice, none missed); every TIC port is held by one of the two readers and counts exactly the
frames its meter sent (each frame ingested once); every PCE with a right gets its calls planned.
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
def test_the_quick_scale_run_keeps_its_invariants():
    require(connection.vendor == "postgresql", "PostgreSQL (workers and readers share it)")
    require(bool(settings.REDIS_URL), "needs REDIS_URL (the workers' broker)")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    command = [sys.executable, "bench/scale.py", "--quick", "--pces", "50", "--contracts", "30"]
    run = subprocess.run(
        [*command, "--meters", "4", "--frames", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "checked: 30 contracts polled once each, none twice, none missed" in run.stdout
    assert run.stdout.count("none twice, none missed") == 2  # both rounds
    assert "checked: 4 ports each read by one reader over one connection" in run.stdout
    assert "invariants: all held" in run.stdout
