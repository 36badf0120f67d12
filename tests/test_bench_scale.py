"""``bench/scale.py --quick``, with tiny counts: the scale run's invariants, never its timings.

Rules checked by the run itself (it exits non-zero when one fails, bench/scale.py): in each
Smart OA round every claimed contract is polled by one of the three workers exactly once (none
twice, none missed); every TIC port is held by one of the two readers and counts exactly the
frames its meter sent (each frame ingested once); every PCE with a right gets its calls planned.
"""

from __future__ import annotations

import pytest

from tests.processes import run_bench


@pytest.mark.celery_worker
def test_the_quick_scale_run_keeps_its_invariants():
    run = run_bench(
        "scale.py", "--quick", "--pces", "50", "--contracts", "30", "--meters", "4", "--frames", "2"
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "checked: 30 contracts polled once each, none twice, none missed" in run.stdout
    assert run.stdout.count("none twice, none missed") == 2  # both rounds
    assert "checked: 4 ports each read by one reader over one connection" in run.stdout
    assert "invariants: all held" in run.stdout
