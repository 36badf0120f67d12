"""``bench/series_ingest.py`` with small counts: it runs to its end on its own database and
prints each figure with its baseline beside it, never asserted (the figures are the machine's)."""

from __future__ import annotations

import re

from tests.processes import run_bench


def test_the_ingest_bench_prints_its_figures_and_the_servers_cpu():
    # 200,000 points in 20 series: 69 days of 10-minute points, three months, over the bulk
    # path's threshold (series.BULK_LOAD_ROWS), so the keys are built after the rows; and
    # enough work for the backend's CPU to span several of the kernel's 10 ms ticks.
    args = ["--points", "200000", "--series", "20", "--reads", "2", "--rounds", "1"]
    run = run_bench("series_ingest.py", *args, broker=False)  # one process, no worker
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert re.search(r"ratio write path / raw COPY: \d+\.\d\d into new months", run.stdout)
    # The backend runs on this machine: its CPU is read, not reported unreadable.
    cpu = re.search(
        r"CPU \(this process / its database backend\), same runs: raw COPY "
        r"(\d+\.\d\d) / (\d+\.\d\d) s, write path into new months (\d+\.\d\d) / (\d+\.\d\d) s",
        run.stdout,
    )
    assert cpu, run.stdout
    assert "one year of hourly points (8,760) through the API" in run.stdout
    assert "per meter per day" in run.stdout
