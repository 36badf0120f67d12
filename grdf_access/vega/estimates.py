"""Long-estimated PCEs (seed 000 §05): the free special reading, GRDF's monthly list, differences.

"Demande fournisseur de relevé spécial gratuite 2 fois par an si au moins une estimation au cours
des 12 derniers mois." A PCE is eligible when the hub's stored GRDF readings (published and
daily, quality "estimée") show an estimation in the last 12 months — read only inside the
consent, like every GRDF read — or when GRDF's latest list names it; two free requests per
calendar year. GRDF publishes its list monthly on its portal; its layout is not public, so the
import reads a CSV of our own columns (``pce`` and, optionally, ``date_dernier_releve_reel``,
``mois_estimes``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from grdf_access import selectors
from grdf_access.models import DataType, Pce
from grdf_access.sync import SERIES, SOURCE
from grdf_access.vega.models import GrdfEstimatedEntry, GrdfEstimatedList, SpecialReadingRequest
from hub.actors import NOBODY, Actor
from hub.clock import gas_day_bounds, gas_day_of
from hub.identifiers import InvalidIdentifier, normalise
from hub.models import Organisation, Point, Quality, Series
from hub.services import audit

FREE_READINGS_PER_YEAR = 2
LOOK_BACK_MONTHS = 12
COLUMNS = ["pce", "date_dernier_releve_reel", "mois_estimes"]
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 100_000
# The series whose quality tells an estimation, with the consent type that lets us read them.
QUALITY_SERIES = {
    SERIES["published_energy"].quantity: DataType.PUBLISHED,
    SERIES["daily_energy"].quantity: DataType.INFORMATIVE_DAILY,
}


class RequestRefused(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def months_before(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(candidate, day.day))
        except ValueError:
            continue
    return dt.date(year, month, 28)


@dataclass
class Eligibility:
    pce: Pce
    estimated_readings: int = 0
    last_estimated: dt.date | None = None
    readable: bool = False
    requests_this_year: int = 0
    hub_long_estimated: bool = False
    months_estimated: int | None = None
    in_grdf_list: bool = False
    requests: list[SpecialReadingRequest] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(FREE_READINGS_PER_YEAR - self.requests_this_year, 0)

    @property
    def estimated_recently(self) -> bool:
        return self.estimated_readings > 0 or self.in_grdf_list

    @property
    def status(self) -> str:
        if not self.estimated_recently:
            return "non_eligible" if self.readable else "hors_consentement"
        return "eligible" if self.remaining else "plafond_atteint"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pce": self.pce.identifier,
            "libelle_site": self.pce.site_label,
            "statut": self.status,
            "lectures_estimees_12_mois": self.estimated_readings,
            "derniere_estimation": self.last_estimated,
            "dans_liste_grdf": self.in_grdf_list,
            "estimation_longue_hub": self.hub_long_estimated,
            "mois_estimes": self.months_estimated,
            "demandes_cette_annee": self.requests_this_year,
            "demandes_gratuites_restantes": self.remaining,
        }


EXPORT_HEADER = [
    "pce",
    "libelle_site",
    "statut",
    "lectures_estimees_12_mois",
    "derniere_estimation",
    "dans_liste_grdf",
    "estimation_longue_hub",
    "mois_estimes",
    "demandes_cette_annee",
    "demandes_gratuites_restantes",
]

STATUS_LABELS = {
    "eligible": "éligible",
    "plafond_atteint": "2 relevés gratuits déjà demandés cette année",
    "non_eligible": "aucune estimation depuis 12 mois",
    "hors_consentement": "données hors consentement",
}


def eligibility(*, organisation: Organisation, today: dt.date) -> list[Eligibility]:
    since = months_before(today, LOOK_BACK_MONTHS)
    pces = list(selectors.pces(organisation=organisation).prefetch_related("rights__pce"))
    found = {p.pk: Eligibility(pce=p) for p in pces}
    series = Series.objects.filter(
        metering_point__organisation=organisation,
        source=SOURCE,
        quantity__in=list(QUALITY_SERIES),
    ).values_list("pk", "metering_point_id", "quantity")
    by_point = {p.metering_point_id: p for p in pces}
    for series_pk, point_id, quantity in series:
        pce = by_point.get(point_id)
        if pce is None:
            continue
        window = selectors.readable_window(pce=pce, data_type=QUALITY_SERIES[quantity], today=today)
        if window is None:
            continue
        row = found[pce.pk]
        row.readable = True
        start = max(window.start, since)
        end = min(window.end, today + dt.timedelta(days=1))
        if start >= end:
            continue
        estimated = Point.objects.filter(
            series_id=series_pk,
            ts__gte=gas_day_bounds(start)[0],
            ts__lt=gas_day_bounds(end)[0],
            quality=Quality.ESTIMATED,
        ).values_list("ts", flat=True)
        for ts in estimated:
            row.estimated_readings += 1
            day = gas_day_of(ts)
            if row.last_estimated is None or day > row.last_estimated:
                row.last_estimated = day
    for request in SpecialReadingRequest.objects.filter(
        organisation=organisation, requested_on__year=today.year
    ):
        found[request.pce_id].requests_this_year += 1
        found[request.pce_id].requests.append(request)
    for long in selectors.long_estimated(organisation=organisation, today=today):
        found[long.pce.pk].hub_long_estimated = True
        found[long.pce.pk].months_estimated = long.months_estimated
    latest = latest_list(organisation=organisation)
    if latest is not None:
        listed = set(latest.entries.values_list("pce_identifier", flat=True))
        for row in found.values():
            row.in_grdf_list = row.pce.identifier in listed
    return sorted(
        found.values(),
        key=lambda r: (
            list(STATUS_LABELS).index(r.status),
            not r.hub_long_estimated,
            -(r.months_estimated or 0),
            r.pce.identifier,
        ),
    )


def to_act_on(*, organisation: Organisation, today: dt.date) -> list[Eligibility]:
    return [
        r for r in eligibility(organisation=organisation, today=today) if r.status == "eligible"
    ]


def record_request(
    *,
    organisation: Organisation,
    pce: Pce,
    requested_on: dt.date,
    reference: str = "",
    note: str = "",
    actor: Actor = NOBODY,
    now: dt.datetime,
    today: dt.date,
) -> SpecialReadingRequest:
    """Record a free special reading asked at GRDF, within the two a year of an eligible PCE."""
    if requested_on > today:
        raise RequestRefused("requested_on", _("date dans le futur"))
    if requested_on < months_before(today, LOOK_BACK_MONTHS):
        raise RequestRefused("requested_on", _("date de plus d'un an"))
    row = next(
        r for r in eligibility(organisation=organisation, today=requested_on) if r.pce == pce
    )
    if not row.estimated_recently:
        raise RequestRefused(
            "pce", _("aucune estimation au cours des 12 derniers mois (données du hub, liste GRDF)")
        )
    if not row.remaining:
        raise RequestRefused(
            "pce",
            _("%(FREE_READINGS_PER_YEAR)s relevés spéciaux gratuits déjà demandés cette année")
            % {"FREE_READINGS_PER_YEAR": FREE_READINGS_PER_YEAR},
        )
    with transaction.atomic():
        made = SpecialReadingRequest.objects.create(
            organisation=organisation,
            pce=pce,
            requested_on=requested_on,
            reference=reference,
            note=note,
            created_at=now,
        )
        audit.record(
            action="grdf.vega.special_reading",
            actor=actor,
            organisation=organisation,
            target=made,
            after={"pce": pce.identifier, "requested_on": requested_on, "reference": reference},
            at=now,
        )
    return made


# -- GRDF's monthly list ------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    field: str
    reason: str

    def as_json(self) -> dict[str, object]:
        return {"line": self.line, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class ListRow:
    line: int
    pce: str
    last_real_reading: dt.date | None
    months_estimated: int | None


_FRENCH_DATE = re.compile(r"^(\d{2})/(\d{2})/(\d{4})$")


def _date(text: str) -> dt.date:
    try:
        french = _FRENCH_DATE.match(text)
        if french:
            return dt.date(int(french[3]), int(french[2]), int(french[1]))
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(_("date attendue au format JJ/MM/AAAA ou AAAA-MM-JJ")) from None


def parse_list(data: bytes) -> tuple[list[ListRow], list[RowError]]:
    """Read GRDF's list: every bad row reported with the file's own line number."""
    if len(data) > MAX_BYTES:
        return [], [
            RowError(
                0, "file", _("fichier de plus de %(MAX_BYTES)s octets") % {"MAX_BYTES": MAX_BYTES}
            )
        ]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return [], [RowError(0, "file", _("le fichier n'est pas en UTF-8"))]
    sample = text.split("\n", 1)[0]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return _read_rows(reader)
    except csv.Error as exc:
        return [], [
            RowError(reader.line_num or 1, "file", _("CSV illisible (%(exc)s)") % {"exc": exc})
        ]


def _read_rows(reader: Any) -> tuple[list[ListRow], list[RowError]]:
    header = [h.strip().lower() for h in next(reader, [])]
    if "pce" not in header:
        return [], [RowError(1, "pce", _("colonne pce absente de l'entête"))]
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        return [], [RowError(1, unknown[0], _("colonne inconnue"))]
    rows: list[ListRow] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not values or all(not v.strip() for v in values):
            continue
        if len(rows) + len(errors) >= MAX_ROWS:
            errors.append(
                RowError(line, "file", _("plus de %(MAX_ROWS)s lignes") % {"MAX_ROWS": MAX_ROWS})
            )
            break
        if len(values) != len(header):
            errors.append(
                RowError(line, "file", _("%(value)s colonnes attendues") % {"value": len(header)})
            )
            continue
        cells = dict(zip(header, (v.strip() for v in values), strict=True))
        try:
            pce = normalise("gas_pce", cells["pce"])
        except InvalidIdentifier as exc:
            errors.append(RowError(line, "pce", exc.reason))
            continue
        if pce in seen:
            errors.append(
                RowError(line, "pce", _("PCE déjà présent ligne %(value)s") % {"value": seen[pce]})
            )
            continue
        seen[pce] = line
        last = None
        if cells.get("date_dernier_releve_reel"):
            try:
                last = _date(cells["date_dernier_releve_reel"])
            except ValueError as exc:
                errors.append(RowError(line, "date_dernier_releve_reel", str(exc)))
                continue
        months = None
        if cells.get("mois_estimes"):
            if not cells["mois_estimes"].isdigit() or int(cells["mois_estimes"]) > 600:
                errors.append(RowError(line, "mois_estimes", _("nombre entier de mois attendu")))
                continue
            months = int(cells["mois_estimes"])
        rows.append(ListRow(line, pce, last, months))
    return rows, errors


def import_list(
    *,
    organisation: Organisation,
    month: dt.date,
    file_name: str,
    rows: list[ListRow],
    actor: Actor = NOBODY,
    now: dt.datetime,
) -> GrdfEstimatedList:
    with transaction.atomic():
        listing = GrdfEstimatedList.objects.create(
            organisation=organisation,
            month=month.replace(day=1),
            file_name=file_name[:255],
            imported_at=now,
        )
        GrdfEstimatedEntry.objects.bulk_create(
            GrdfEstimatedEntry(
                listing=listing,
                pce_identifier=r.pce,
                last_real_reading=r.last_real_reading,
                months_estimated=r.months_estimated,
                line=r.line,
            )
            for r in rows
        )
        audit.record(
            action="grdf.vega.estimated_list.import",
            actor=actor,
            organisation=organisation,
            target=listing,
            after={"month": listing.month, "rows": len(rows), "file": file_name},
            at=now,
        )
    return listing


def latest_list(*, organisation: Organisation) -> GrdfEstimatedList | None:
    return GrdfEstimatedList.objects.filter(organisation=organisation).first()


@dataclass(frozen=True)
class Differences:
    listing: GrdfEstimatedList | None
    both: list[str]
    only_grdf: list[str]
    only_hub: list[str]
    unknown_to_hub: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "liste_grdf": (
                {"mois": self.listing.month, "fichier": self.listing.file_name}
                if self.listing
                else None
            ),
            "dans_les_deux": self.both,
            "seulement_grdf": self.only_grdf,
            "seulement_hub": self.only_hub,
            "inconnus_du_hub": self.unknown_to_hub,
        }


def differences(*, organisation: Organisation, today: dt.date) -> Differences:
    """GRDF's latest list against the hub's own long-estimated report."""
    listing = latest_list(organisation=organisation)
    grdf = set(listing.entries.values_list("pce_identifier", flat=True)) if listing else set()
    hub = {
        e.pce.identifier for e in selectors.long_estimated(organisation=organisation, today=today)
    }
    known = set(
        selectors.pces(organisation=organisation).values_list(
            "metering_point__identifier", flat=True
        )
    )
    return Differences(
        listing=listing,
        both=sorted(grdf & hub),
        only_grdf=sorted((grdf - hub) & known),
        only_hub=sorted(hub - grdf),
        unknown_to_hub=sorted(grdf - known),
    )
