"""Publication watch (seed 000, REX of 27 to 29/10): arrivals, milestone alarms, format-free checks.

An arrival comes from the portal, the API or a watched directory (an SFTP drop). Each is
recorded with what its name tells (flux code, version, day), size, rows and SHA-256, and its file
kept in storage until its retention ends. Checks that need no private format: an empty file or
one without data rows, a row count far from the flux's recent median, missing or empty gas days
(when a parser knows the layout), all tightened on the days after a clock change.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import holidays
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from grdf_access.vega import parsers
from grdf_access.vega.calendar import SOURCE
from grdf_access.vega.models import (
    Arrival,
    ArrivalSource,
    Cadence,
    CatalogueItem,
    ExpectedPublication,
    ItemKind,
    MissedPublication,
    WatchedDirectory,
)
from hub.actors import NOBODY, Actor
from hub.clock import PARIS, has_clock_change, local_day_of
from hub.models import Organisation, Severity
from hub.services import audit
from hub.services.notifications import notify, resolve

logger = logging.getLogger(__name__)

MEDIAN_WINDOW = 20  # arrivals of the same flux the median is taken over
MEDIAN_MIN_HISTORY = 5
TOLERANCE = 0.5  # relative distance from the median that raises an alert
TIGHT_TOLERANCE = 0.2
DST_WATCH_DAYS = 3  # days after a clock change under the tighter watch
LOOK_BACK_DAYS = 7  # milestones checked this far back (a watch restarted after an outage)
SKIPPED_SUFFIXES = (".part", ".tmp", ".filepart", ".partial")  # SFTP uploads in progress
DUPLICATES_DIR = ".doublons"
REJECTED_DIR = ".rejets"
_SEPARATORS = re.compile(r"[_\-. ]+")
_VERSION = re.compile(r"^V[0-9][0-9A-Z.]*$|^VSYNTH$")


class ArrivalRefused(ValueError):
    """A file the watch does not record (``field`` and ``reason`` for a 400)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class DuplicateArrival(ArrivalRefused):
    def __init__(self, existing: Arrival) -> None:
        super().__init__("file", f"fichier déjà reçu le {existing.received_at:%d/%m/%Y %H:%M}")
        self.existing = existing


class DropRootViolation(ValueError):
    """A watched directory outside ``VEGA_DROP_ROOT``."""


# -- calendar of expected publications ----------------------------------------------------------


@lru_cache(maxsize=16)
def _french_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("FR", years=year))


def is_working_day(day: dt.date) -> bool:
    """Monday to Friday, except French public holidays (metropolitan France)."""
    return day.weekday() < 5 and day not in _french_holidays(day.year)


def next_working_day(day: dt.date) -> dt.date:
    while not is_working_day(day):
        day += dt.timedelta(days=1)
    return day


def is_expected_on(expected: ExpectedPublication, day: dt.date) -> bool:
    if expected.cadence == Cadence.WORKING_DAYS:
        return is_working_day(day)
    if expected.cadence == Cadence.DAILY:
        return True
    if expected.cadence == Cadence.WEEKLY:
        return day.weekday() == (expected.weekday or 0)
    wanted = expected.day_of_month or 1
    first = day.replace(day=1)
    # A day past the month's end falls on its last day; either moves to the next working day.
    last = (first + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    nominal = first.replace(day=min(wanted, last.day))
    return next_working_day(nominal) == day


def tight_watch(day: dt.date) -> bool:
    """Whether ``day`` is a clock-change day or one of the ``DST_WATCH_DAYS`` after it."""
    return any(has_clock_change(day - dt.timedelta(days=n)) for n in range(DST_WATCH_DAYS + 1))


def due_at(expected: ExpectedPublication, day: dt.date) -> dt.datetime:
    """When the publication of ``day`` is late: its time in Paris, plus the grace outside the
    tighter watch."""
    grace = 0 if tight_watch(day) else expected.grace_minutes
    local = dt.datetime.combine(day, expected.expected_time, tzinfo=PARIS)
    return (local + dt.timedelta(minutes=grace)).astimezone(dt.UTC)


# -- what a file name says ----------------------------------------------------------------------


@dataclass(frozen=True)
class NameInfo:
    item: CatalogueItem | None
    flux_code: str
    version: str
    day: dt.date | None


def read_name(name: str) -> NameInfo:
    """Flux code, version and day from a name like ``REJJ_V1_20261026.csv``, where present.

    GRDF's naming is not public: the flux is the longest catalogue code (or alias) the name
    starts with, the version a ``V…`` token, the day an 8-digit ``YYYYMMDD`` token.
    """
    stem = Path(name).name
    upper = stem.upper()
    best: tuple[str, CatalogueItem] | None = None
    for candidate in CatalogueItem.objects.filter(kind=ItemKind.FLUX):
        for code in (candidate.code, *candidate.alias_list()):
            code_u = code.upper()
            following = upper[len(code_u) : len(code_u) + 1]
            fits = upper.startswith(code_u) and following in ("", "_", "-", ".", " ")
            if fits and (best is None or len(code_u) > len(best[0])):
                best = (code_u, candidate)
    rest = upper[len(best[0]) :] if best else upper
    version = ""
    day = None
    for token in _SEPARATORS.split(rest):
        if not version and _VERSION.match(token):
            version = token
        elif day is None and re.fullmatch(r"(19|20)\d{6}", token):
            # Only this century's and the last: a far date would overflow the day arithmetic.
            try:
                day = dt.date(int(token[:4]), int(token[4:6]), int(token[6:]))
            except ValueError:
                continue
    item = best[1] if best else None
    return NameInfo(item=item, flux_code=item.code if item else "", version=version, day=day)


# -- recording an arrival -----------------------------------------------------------------------


def count_lines(data: bytes) -> int:
    return sum(1 for line in data.splitlines() if line.strip())


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9+._-]", "_", Path(name).name)[:120] or "fichier"


def ingest(
    *,
    organisation: Organisation,
    name: str,
    data: bytes,
    source: str,
    now: dt.datetime,
    retention_days: int | None = None,
    actor: Actor = NOBODY,
) -> Arrival:
    """Record one file: fingerprint, rows, checks, alerts; the file is kept in storage."""
    if source not in ArrivalSource.values:
        raise ArrivalRefused("source", _("source inconnue"))
    if len(data) > settings.VEGA_MAX_FILE_BYTES:
        raise ArrivalRefused(
            "file",
            _("fichier trop gros (> %(VEGA_MAX_FILE_BYTES)s octets)")
            % {"VEGA_MAX_FILE_BYTES": settings.VEGA_MAX_FILE_BYTES},
        )
    digest = hashlib.sha256(data).hexdigest()
    existing = Arrival.objects.filter(organisation=organisation, sha256=digest).first()
    if existing is not None:
        raise DuplicateArrival(existing)
    info = read_name(name)
    day = info.day or local_day_of(now)
    rows = count_lines(data)
    parser = parsers.parser_for(flux=info.flux_code, version=info.version) if info.item else None
    parsed = None
    issues: list[dict[str, str]] = []
    if parser is not None:
        try:
            parsed = parser.parse(data)
        except parsers.ParseError as exc:
            issues.append(_issue("illisible", f"format non reconnu ({exc})", Severity.CRITICAL))
    # Without a parser the first line is taken for a header.
    data_rows = parsed.data_rows if parsed else max(rows - 1, 0)
    keep = retention_days or settings.VEGA_RETENTION_DAYS
    arrival = Arrival(
        organisation=organisation,
        item=info.item,
        flux_code=info.flux_code,
        version=info.version,
        file_name=Path(name).name[:255],
        size=len(data),
        rows=rows,
        data_rows=data_rows,
        sha256=digest,
        source=source,
        publication_day=day,
        received_at=now,
        retain_until=day + dt.timedelta(days=keep),
        parser=parser.name if parser and parsed else "",
        gas_days=sorted(d.isoformat() for d in parsed.gas_days) if parsed else [],
        empty_values=parsed.empty_values if parsed else None,
    )
    issues += quality_issues(arrival=arrival)
    arrival.issues = issues
    try:
        with transaction.atomic():
            arrival.file.save(
                f"{organisation.pk}/{day:%Y/%m}/{digest[:16]}_{_safe_name(name)}",
                ContentFile(data),
                save=False,
            )
            arrival.save()
            audit.record(
                action="grdf.vega.arrival",
                actor=actor if actor != NOBODY else Actor.system(f"dépôt ({source})"),
                organisation=organisation,
                target=arrival,
                after={"file": arrival.file_name, "sha256": digest, "rows": rows},
                at=now,
            )
    except IntegrityError:
        arrival.file.delete(save=False)
        raise DuplicateArrival(
            Arrival.objects.get(organisation=organisation, sha256=digest)
        ) from None
    _alert_issues(arrival, now=now)
    _close_milestone(arrival, now=now)
    return arrival


def _issue(code: str, message: str, severity: str) -> dict[str, str]:
    return {"code": code, "message": message, "severity": severity}


def quality_issues(*, arrival: Arrival) -> list[dict[str, str]]:
    """The format-free checks of one arrival against the flux's recent arrivals."""
    issues = []
    tight = tight_watch(arrival.publication_day) or any(
        has_clock_change(dt.date.fromisoformat(d)) for d in arrival.gas_days
    )
    if arrival.size == 0:
        issues.append(_issue("vide", "fichier vide", Severity.CRITICAL))
    elif arrival.data_rows == 0:
        issues.append(_issue("sans_donnees", "aucune ligne de données", Severity.CRITICAL))
    if not arrival.flux_code:
        return issues
    previous = list(
        Arrival.objects.filter(
            organisation=arrival.organisation, flux_code=arrival.flux_code, data_rows__gt=0
        )
        .exclude(pk=arrival.pk)
        .order_by("-publication_day", "-received_at")[:MEDIAN_WINDOW]
    )
    if arrival.data_rows and len(previous) >= MEDIAN_MIN_HISTORY:
        median = statistics.median(a.data_rows for a in previous)
        tolerance = TIGHT_TOLERANCE if tight else TOLERANCE
        if median and abs(arrival.data_rows - median) / median > tolerance:
            issues.append(
                _issue(
                    "volume",
                    f"{arrival.data_rows} lignes de données pour une médiane récente de "
                    f"{median:g} (écart toléré {tolerance:.0%})",
                    Severity.CRITICAL if tight else Severity.WARNING,
                )
            )
    if arrival.empty_values and (tight or arrival.empty_values * 2 >= arrival.data_rows):
        issues.append(
            _issue(
                "valeurs_absentes",
                f"{arrival.empty_values} lignes sur {arrival.data_rows} sans valeur de "
                "consommation",
                Severity.CRITICAL,
            )
        )
    missing = _missing_gas_days(arrival, previous)
    if missing:
        issues.append(
            _issue(
                "journee_manquante",
                "journée(s) gazière(s) manquante(s) : "
                + ", ".join(d.strftime("%d/%m/%Y") for d in missing),
                Severity.CRITICAL,
            )
        )
    if tight and issues:
        for issue in issues:
            issue["message"] += " — surveillance renforcée après changement d'heure"
    return issues


def _missing_gas_days(arrival: Arrival, previous: list[Arrival]) -> list[dt.date]:
    """Gas days missing inside the file, or between the last parsed arrival and this one."""
    days = sorted(dt.date.fromisoformat(d) for d in arrival.gas_days)
    if not days:
        return []
    covered = set(days)
    start = days[0]
    earlier = [
        dt.date.fromisoformat(max(a.gas_days))
        for a in previous
        if a.gas_days and a.publication_day <= arrival.publication_day
    ]
    if earlier:
        last = max(earlier)
        if last < start:
            start = last + dt.timedelta(days=1)
    span = (days[-1] - start).days + 1
    return [d for d in (start + dt.timedelta(days=n) for n in range(span)) if d not in covered]


def _alert_issues(arrival: Arrival, *, now: dt.datetime) -> None:
    for issue in arrival.issues:
        notify(
            organisation=arrival.organisation,
            source=SOURCE,
            kind="quality",
            title=f"Publication {arrival.flux_code or arrival.file_name} : {issue['message']}"[
                :200
            ],
            body=(
                f"Fichier {arrival.file_name} reçu le "
                f"{arrival.received_at.astimezone(PARIS):%d/%m/%Y %H:%M} "
                f"(jour de publication {arrival.publication_day:%d/%m/%Y}). {issue['message']}."
            ),
            severity=issue["severity"],
            dedupe_key=f"vega:quality:{arrival.pk}:{issue['code']}",
            link="/grdf/vega/veille/",
            now=now,
        )


def _close_milestone(arrival: Arrival, *, now: dt.datetime) -> None:
    if arrival.item is None:
        return
    for missed in MissedPublication.objects.filter(
        organisation=arrival.organisation,
        expected__item=arrival.item,
        day=arrival.publication_day,
        arrived_at__isnull=True,
    ):
        missed.arrived_at = now
        missed.save(update_fields=["arrived_at"])
        resolve(
            organisation=arrival.organisation,
            source=SOURCE,
            dedupe_key=_milestone_key(missed.expected, missed.day),
            now=now,
        )


# -- milestones ("alarme jalon") ----------------------------------------------------------------


def _milestone_key(expected: ExpectedPublication, day: dt.date) -> str:
    return f"vega:jalon:{expected.pk}:{day.isoformat()}"


def check_milestones(*, now: dt.datetime, organisation: Organisation | None = None) -> int:
    """Raise an alarm for each expected publication past its time with no arrival."""
    today = local_day_of(now)
    raised = 0
    found = ExpectedPublication.objects.filter(active=True).select_related("item", "organisation")
    if organisation is not None:
        found = found.filter(organisation=organisation)
    for expected in found:
        first = max(local_day_of(expected.created_at), today - dt.timedelta(days=LOOK_BACK_DAYS))
        day = first
        while day <= today:
            due = due_at(expected, day)
            if is_expected_on(expected, day) and expected.created_at < due <= now:
                raised += _check_one(expected, day, now=now)
            day += dt.timedelta(days=1)
    return raised


def _check_one(expected: ExpectedPublication, day: dt.date, *, now: dt.datetime) -> int:
    arrived = Arrival.objects.filter(
        organisation=expected.organisation, item=expected.item, publication_day=day
    ).exists()
    if arrived:
        return 0
    missed, created = MissedPublication.objects.get_or_create(
        expected=expected,
        day=day,
        defaults={
            "organisation": expected.organisation,
            "due_at": due_at(expected, day),
            "detected_at": now,
        },
    )
    if not created:
        return 0
    tight = tight_watch(day)
    notify(
        organisation=expected.organisation,
        source=SOURCE,
        kind="milestone",
        title=(
            f"Alarme jalon : publication {expected.item.code} du {day:%d/%m/%Y} non reçue à "
            f"{missed.due_at.astimezone(PARIS):%H:%M}"
        ),
        body=(
            f"La publication {expected.item.code} ({expected.get_cadence_display()}) était "
            f"attendue à {expected.expected_time:%H:%M} (heure de Paris)."
            + (" Surveillance renforcée après changement d'heure." if tight else "")
        ),
        severity=Severity.CRITICAL if tight else Severity.WARNING,
        dedupe_key=_milestone_key(expected, day),
        link="/grdf/vega/veille/",
        now=now,
    )
    return 1


# -- watched directories ------------------------------------------------------------------------


def check_directory(path: str) -> Path:
    """The directory as an absolute path inside ``VEGA_DROP_ROOT`` (else DropRootViolation)."""
    root = Path(settings.VEGA_DROP_ROOT).resolve()
    resolved = Path(path).resolve()
    if resolved != root and root not in resolved.parents:
        raise DropRootViolation(
            _("%(path)s n'est pas sous VEGA_DROP_ROOT (%(root)s)") % {"path": path, "root": root}
        )
    return resolved


@dataclass
class ScanReport:
    recorded: int = 0
    duplicates: int = 0
    rejected: int = 0


def scan_directories(*, now: dt.datetime) -> ScanReport:
    report = ScanReport()
    for directory in WatchedDirectory.objects.filter(active=True).select_related("organisation"):
        try:
            scan_directory(directory=directory, now=now, report=report)
        except (DropRootViolation, OSError) as exc:
            logger.warning("vega watch: %s skipped: %s", directory.path, exc)
    return report


def scan_directory(
    *, directory: WatchedDirectory, now: dt.datetime, report: ScanReport | None = None
) -> ScanReport:
    """Record each complete file of the directory, then take it out of the drop directory."""
    report = report or ScanReport()
    base = check_directory(directory.path)
    for entry in sorted(base.iterdir()):
        name = entry.name
        if name.startswith(".") or name.lower().endswith(SKIPPED_SUFFIXES):
            continue
        if not entry.is_file() or entry.is_symlink():
            continue
        try:
            if entry.stat().st_size > settings.VEGA_MAX_FILE_BYTES:
                raise ArrivalRefused("file", _("fichier trop gros"))
            ingest(
                organisation=directory.organisation,
                name=name,
                data=entry.read_bytes(),
                source=ArrivalSource.DIRECTORY,
                retention_days=directory.retention_days,
                now=now,
            )
        except DuplicateArrival:
            report.duplicates += 1
            _set_aside(entry, DUPLICATES_DIR)
            continue
        except ArrivalRefused as exc:
            report.rejected += 1
            _set_aside(entry, REJECTED_DIR)
            notify(
                organisation=directory.organisation,
                source=SOURCE,
                kind="rejected",
                title=f"Dépôt refusé : {name} ({exc.reason})"[:200],
                severity=Severity.WARNING,
                dedupe_key=f"vega:rejected:{directory.pk}:{name}",
                link="/grdf/vega/veille/",
                now=now,
            )
            continue
        # Kept in storage: the drop directory only holds what is still to be read.
        entry.unlink()
        report.recorded += 1
    directory.last_scan_at = now
    directory.save(update_fields=["last_scan_at"])
    return report


def _set_aside(entry: Path, folder: str) -> None:
    target = entry.parent / folder
    target.mkdir(exist_ok=True)
    entry.replace(target / entry.name)


# -- retention ----------------------------------------------------------------------------------


def purge_files(*, now: dt.datetime) -> int:
    """Delete stored files past their retention; the arrival's record (fingerprint) stays."""
    today = local_day_of(now)
    purged = 0
    for arrival in Arrival.objects.filter(retain_until__lt=today, file_purged_at__isnull=True):
        if arrival.file:
            arrival.file.delete(save=False)
        arrival.file_purged_at = now
        arrival.save(update_fields=["file", "file_purged_at"])
        purged += 1
    return purged


# -- what an organisation expects ---------------------------------------------------------------


def save_expected(
    *,
    organisation: Organisation,
    item: CatalogueItem,
    cadence: str,
    expected_time: dt.time,
    weekday: int | None = None,
    day_of_month: int | None = None,
    grace_minutes: int = 30,
    actor: Actor = NOBODY,
    now: dt.datetime,
) -> ExpectedPublication:
    """Declare (or change) a publication the organisation expects; audited."""
    if item.kind != ItemKind.FLUX:
        raise ArrivalRefused("flux", _("seules les publications (flux) peuvent être attendues"))
    if cadence not in Cadence.values:
        raise ArrivalRefused(
            "cadence", _("une de %(value)s") % {"value": ", ".join(Cadence.values)}
        )
    if cadence == Cadence.WEEKLY and (weekday is None or not 0 <= weekday <= 6):
        raise ArrivalRefused("weekday", _("jour de la semaine de 0 (lundi) à 6 requis"))
    if cadence == Cadence.MONTHLY and (day_of_month is None or not 1 <= day_of_month <= 31):
        raise ArrivalRefused("day_of_month", _("jour du mois de 1 à 31 requis"))
    if not 0 <= grace_minutes <= 24 * 60:
        raise ArrivalRefused("grace_minutes", _("de 0 à 1440 minutes"))
    fields = {
        "cadence": cadence,
        "expected_time": expected_time,
        "weekday": weekday,
        "day_of_month": day_of_month,
        "grace_minutes": grace_minutes,
        "active": True,
    }
    with transaction.atomic():
        expected, created = ExpectedPublication.objects.update_or_create(
            organisation=organisation,
            item=item,
            defaults=fields,
            create_defaults={**fields, "created_at": now},
        )
        audit.record(
            action="grdf.vega.expected.save",
            actor=actor,
            organisation=organisation,
            target=expected,
            after={
                "flux": item.code,
                "cadence": cadence,
                "time": expected_time.isoformat(),
                "created": created,
            },
            at=now,
        )
    return expected


def delete_expected(
    *, expected: ExpectedPublication, actor: Actor = NOBODY, now: dt.datetime
) -> None:
    with transaction.atomic():
        audit.record(
            action="grdf.vega.expected.delete",
            actor=actor,
            organisation=expected.organisation,
            target=expected,
            before={"flux": expected.item.code, "cadence": expected.cadence},
            at=now,
        )
        expected.delete()
