"""End to end: files dropped in a watched directory across the 2026-10-25 clock change.

Seed 000, REX: "Fichiers ALLOCATIONS, REJJ et METEO du 27/10 28/10 29/10 : publication avec
absence des données de consommation … Cause racine : des anomalies dans les programmes OMEGA
suite passage heure d'hiver" and the actions "ajout de contrôles « qualitatifs »", "ajout
d'alarmes « jalon »". The files use the SYNTHETIC layout (``parsers/synthetic.py``), not GRDF's.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from grdf_access.vega import watch
from grdf_access.vega.calendar import SOURCE, find_item
from grdf_access.vega.models import (
    Arrival,
    Cadence,
    ExpectedPublication,
    MissedPublication,
    WatchedDirectory,
)
from hub.clock import PARIS
from hub.models import Notification, Severity

ROWS_PER_FILE = 60


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(dt.UTC)


def synthetic_file(gas_days: list[dt.date], *, empty_energy: bool = False) -> bytes:
    lines = ["pce;journee_gaziere;energie_kwh"]
    for n in range(ROWS_PER_FILE):
        day = gas_days[n % len(gas_days)]
        lines.append(f"GI{100000 + n};{day.isoformat()};{'' if empty_energy else 120 + n}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def drop(tmp_path: Path, settings, tenant):
    settings.VEGA_DROP_ROOT = str(tmp_path)
    directory = tmp_path / "acme"
    directory.mkdir()
    WatchedDirectory.objects.create(organisation=tenant.organisation, path=str(directory))
    item = find_item("REJJ")
    assert item is not None
    ExpectedPublication.objects.create(
        organisation=tenant.organisation,
        item=item,
        cadence=Cadence.WORKING_DAYS,
        expected_time=dt.time(9, 0),
        grace_minutes=30,
        created_at=at(dt.date(2026, 10, 12), 12),
    )
    return directory


def put(directory: Path, day: dt.date, content: bytes) -> Path:
    path = directory / f"REJJ_VSYNTH_{day:%Y%m%d}.csv"
    path.write_bytes(content)
    return path


def run_day(directory: Path, day: dt.date, content: bytes | None) -> None:
    """The SFTP drop at 08:40, a scan at 08:45 and one at 10:00 (milestones), Paris time."""
    if content is not None:
        put(directory, day, content)
    for hour, minute in ((8, 45), (10, 0)):
        now = at(day, hour, minute)
        watch.scan_directories(now=now)
        watch.check_milestones(now=now)


def vega_alerts(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(source=SOURCE, kind=kind).order_by("created_at"))


@pytest.mark.django_db
def test_watch_across_the_october_clock_change(drop, tenant):
    # Two normal weeks: each working day's publication covers the gas days since the last one.
    days = [dt.date(2026, 10, 13) + dt.timedelta(days=n) for n in range(11)]
    previous = dt.date(2026, 10, 12)
    for day in days:
        if day.weekday() >= 5:
            run_day(drop, day, None)
            continue
        covered = [previous + dt.timedelta(days=n) for n in range((day - previous).days)]
        run_day(drop, day, synthetic_file(covered))
        previous = day
    assert Arrival.objects.count() == 9
    assert vega_alerts("quality") == [] and vega_alerts("milestone") == []
    assert list(drop.iterdir()) == []  # moved into storage

    # Monday 26/10, the day after the change: the 25-hour gas day of 24/10 is missing.
    run_day(
        drop, dt.date(2026, 10, 26), synthetic_file([dt.date(2026, 10, 23), dt.date(2026, 10, 25)])
    )
    # Tuesday 27/10: nothing arrives.
    (drop / "REJJ_VSYNTH_20261027.csv.part").write_bytes(b"pce;journee")  # upload in progress
    run_day(drop, dt.date(2026, 10, 27), None)
    # Wednesday 28/10: a file without consumption data, as in the REX.
    run_day(
        drop,
        dt.date(2026, 10, 28),
        synthetic_file([dt.date(2026, 10, 26), dt.date(2026, 10, 27)], empty_energy=True),
    )

    milestones = vega_alerts("milestone")
    assert [m.title for m in milestones] == [
        "Alarme jalon : publication REJJ du 27/10/2026 non reçue à 09:00"
    ]  # no grace in the days after the change: due at 09:00 sharp
    assert milestones[0].severity == Severity.CRITICAL
    missed = MissedPublication.objects.get()
    assert missed.day == dt.date(2026, 10, 27) and missed.arrived_at is None

    quality = {n.dedupe_key.rsplit(":", 1)[1]: n for n in vega_alerts("quality")}
    assert set(quality) == {"journee_manquante", "valeurs_absentes"}
    assert "24/10/2026" in quality["journee_manquante"].title
    monday = Arrival.objects.get(publication_day=dt.date(2026, 10, 26))
    assert [i["code"] for i in monday.issues] == ["journee_manquante"]
    assert "surveillance renforcée" in monday.issues[0]["message"]
    wednesday = Arrival.objects.get(publication_day=dt.date(2026, 10, 28))
    assert wednesday.empty_values == ROWS_PER_FILE
    # The upload still in progress is left alone.
    assert [p.name for p in drop.iterdir()] == ["REJJ_VSYNTH_20261027.csv.part"]


@pytest.mark.django_db
def test_late_arrival_closes_the_milestone(drop, tenant):
    day = dt.date(2026, 10, 14)
    run_day(drop, day, None)
    assert MissedPublication.objects.filter(day=day).exists()
    put(drop, day, synthetic_file([dt.date(2026, 10, 13)]))
    watch.scan_directories(now=at(day, 11))
    missed = MissedPublication.objects.get(day=day)
    assert missed.arrived_at == at(day, 11)
    alert = Notification.objects.get(
        source=SOURCE, kind="milestone", dedupe_key__endswith=day.isoformat()
    )
    assert alert.resolved_at == at(day, 11)


@pytest.mark.django_db
def test_arrival_is_recorded_with_its_fingerprint_and_kept(drop, tenant):
    import hashlib

    content = synthetic_file([dt.date(2026, 10, 13)])
    put(drop, dt.date(2026, 10, 14), content)
    watch.scan_directories(now=at(dt.date(2026, 10, 14), 8, 45))
    arrival = Arrival.objects.get()
    assert (arrival.flux_code, arrival.version) == ("REJJ", "VSYNTH")
    assert arrival.publication_day == dt.date(2026, 10, 14)
    assert arrival.size == len(content) and arrival.rows == ROWS_PER_FILE + 1
    assert arrival.data_rows == ROWS_PER_FILE
    assert arrival.sha256 == hashlib.sha256(content).hexdigest()
    assert arrival.file.read() == content
    # The same file dropped again is set aside, not recorded twice.
    put(drop, dt.date(2026, 10, 14), content)
    report = watch.scan_directories(now=at(dt.date(2026, 10, 14), 9))
    assert report.duplicates == 1 and Arrival.objects.count() == 1
    assert (drop / ".doublons" / "REJJ_VSYNTH_20261014.csv").exists()
    # Past its retention the file goes, the record stays.
    assert watch.purge_files(now=at(arrival.retain_until + dt.timedelta(days=1), 3)) == 1
    arrival.refresh_from_db()
    assert arrival.file_purged_at is not None and not arrival.file


@pytest.mark.django_db
def test_directory_outside_the_drop_root_is_refused(tmp_path, settings):
    settings.VEGA_DROP_ROOT = str(tmp_path / "drop")
    with pytest.raises(watch.DropRootViolation):
        watch.check_directory(str(tmp_path / "elsewhere"))
    with pytest.raises(watch.DropRootViolation):
        watch.check_directory(str(tmp_path / "drop" / ".." / "elsewhere"))
