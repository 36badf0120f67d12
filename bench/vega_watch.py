"""The VEGA watch reading a drop directory: the hub's scan against a bare read-hash-copy loop.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hub python bench/vega_watch.py \
        [--files N] [--rows R]

Writes N synthetic REJJ files of R rows (default 200 x 5,000) in a drop directory, then in the
same run:

* bare: read each file, SHA-256 it, count its lines, copy it to a storage directory, delete it;
* hub: ``grdf_access.vega.watch.scan_directory`` on the same files: name reading, the synthetic
  parser, the quality checks against the flux's recent arrivals, one ``Arrival`` row, the file
  stored, an audit event and the alerts.

Prints files/s for both and the ratio hub / bare.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import shutil
import tempfile
import time
from pathlib import Path

from _django import setup

setup()

from django.db import connection  # noqa: E402
from django.test.utils import override_settings, setup_test_environment  # noqa: E402


def write_files(directory: Path, files: int, rows: int) -> None:
    start = dt.date(2025, 1, 1)
    for n in range(files):
        day = start + dt.timedelta(days=n)
        lines = ["pce;journee_gaziere;energie_kwh"]
        gas_day = (day - dt.timedelta(days=1)).isoformat()
        lines += [f"GI{100000 + r};{gas_day};{100 + (r * 7 + n) % 50}" for r in range(rows)]
        (directory / f"REJJ_VSYNTH_{day:%Y%m%d}.csv").write_text("\n".join(lines) + "\n")


def bare(directory: Path, store: Path) -> None:
    for entry in sorted(directory.iterdir()):
        data = entry.read_bytes()
        hashlib.sha256(data).hexdigest()
        sum(1 for line in data.splitlines() if line.strip())
        target = store / hashlib.sha256(entry.name.encode()).hexdigest()[:8]
        target.write_bytes(data)
        entry.unlink()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()
    setup_test_environment()
    if connection.vendor == "postgresql":
        connection.settings_dict["TEST"]["NAME"] = "test_hub_vega_bench"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    work = Path(tempfile.mkdtemp(prefix="vega-bench-"))
    try:
        run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace, work: Path) -> None:
    from django.utils import timezone

    from grdf_access.vega import watch
    from grdf_access.vega.models import WatchedDirectory
    from hub.models import Organisation

    drop = work / "drop"
    drop.mkdir()
    store = work / "bare-store"
    store.mkdir()
    write_files(drop, args.files, args.rows)
    started = time.perf_counter()
    bare(drop, store)
    bare_seconds = time.perf_counter() - started

    write_files(drop, args.files, args.rows)
    organisation = Organisation.objects.create(slug="bench", name="Bench")
    with override_settings(VEGA_DROP_ROOT=str(work)):
        directory = WatchedDirectory.objects.create(organisation=organisation, path=str(drop))
        started = time.perf_counter()
        report = watch.scan_directory(directory=directory, now=timezone.now())
        hub_seconds = time.perf_counter() - started
    assert report.recorded == args.files, report
    bare_rate = args.files / bare_seconds
    hub_rate = args.files / hub_seconds
    print(f"{args.files} files x {args.rows} rows ({connection.vendor})")
    print(f"bare read+sha256+copy: {bare_rate:8.1f} files/s ({bare_seconds:.2f} s)")
    print(f"hub scan_directory:    {hub_rate:8.1f} files/s ({hub_seconds:.2f} s)")
    print(f"ratio hub / bare: {hub_rate / bare_rate:.2f}")


if __name__ == "__main__":
    main()
