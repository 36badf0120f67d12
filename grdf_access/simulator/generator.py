"""Deterministic meter data for any PCE: nothing is stored, everything derives from the PCE id.

A PCE's meter index is a closed-form function of the gas day number ``n``::

    F(n) = base + a·n + 0.8·a·(P/2π)·sin(2π(n - peak)/P) + 0.15·a·u(n)

(``P`` a year, ``u`` a seeded uniform noise): its daily increase ``a·(1 + 0.8·cos(…)) + noise``
is always positive, larger in winter, and any day or month is computed without summing the
days before it. Integer index differences give ``volume_brut`` (1 m3 resolution, ref §3.2);
informative energy comes from the finer volume, so for informative rows ``energie`` is not
``volume_brut * coeff`` while for published rows it is (as observed in GRDF's data, ref §3.2).

Shapes follow ref §1.5; gas days run 06:00 → 06:00 Paris time with explicit offsets (ref §3.3),
so the hourly series has 23 or 25 points on the gas days that contain a DST change.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grdf_access.simulator.sandbox import Scenario, scenario
from hub.clock import PARIS

_EPOCH = dt.date(2000, 1, 1)
_YEAR = 365.25
_ONE_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)
# Share of a day's gas by local hour: night low, morning and evening peaks (heating, hot water).
_HOURLY_WEIGHTS = (
    2, 2, 2, 2, 3, 5, 8, 9, 7, 5, 4, 4, 4, 4, 4, 4, 5, 7, 9, 9, 7, 5, 4, 3,
)  # fmt: skip


def _uniform(*parts: object) -> float:
    """A seeded uniform number in [0, 1): the same parts always give the same number."""
    return zlib.crc32(":".join(map(str, parts)).encode()) / 4294967296.0


def day_number(day: dt.date) -> int:
    return (day - _EPOCH).days


def local(day: dt.date, time: dt.time = dt.time(6)) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=PARIS)


def iso(instant: dt.datetime) -> str:
    """Local ISO 8601 with the offset in force at that instant."""
    return instant.astimezone(PARIS).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Meter:
    pce: str
    frequency: str
    mean_m3: float  # average gas per day
    base_index: float
    peak: float  # day-of-year offset of the winter peak
    commissioning: dt.date
    scenario: Scenario | None
    salt: str = ""

    def raw(self, n: int) -> float:
        """F(n): the unshifted meter index at the start of gas day ``n`` (m3)."""
        a = self.mean_m3
        season = 0.8 * a * _YEAR / (2 * math.pi) * math.sin(2 * math.pi * (n - self.peak) / _YEAR)
        return self.base_index + a * n + season + 0.15 * a * _uniform(self.pce, self.salt, n)

    def shift(self, n: int) -> float:
        """What the displayed index lacks on day ``n``: it restarts at zero after a meter change."""
        change = self.scenario.meter_change if self.scenario else None
        if change is not None and n >= day_number(change):
            return self.raw(day_number(change))
        return 0.0

    def index(self, n: int) -> float:
        return self.raw(n) - self.shift(n)

    def frequency_on(self, day: dt.date) -> str:
        frequency = self.frequency
        for since, changed in self.scenario.frequency_changes if self.scenario else ():
            if day >= since:
                frequency = changed
        return frequency

    def coefficient(self, day: dt.date) -> float:
        """kWh per m3, computed monthly for communicating meters (ref §3.2)."""
        return round(10.9 + 0.6 * _uniform(self.pce, "k", day.year, day.month), 2)

    def estimated(self, n: int) -> bool:
        return _uniform(self.pce, self.salt, "q", n) < 0.05


@lru_cache(maxsize=16384)
def meter(pce: str, salt: str = "") -> Meter:
    item = scenario(pce)
    professional = pce.startswith("GI")
    mean = (60 + 1500 * _uniform(pce, salt, "a")) if professional else (1 + 9 * _uniform(pce, "a"))
    # Residential meters are all monthly-read Gazpar (1M) by now: "les compteurs 6M … ont
    # normalement tous été remplacés par des compteurs 1M à fin 2023" (ref §1.8).
    frequency = ("JJ" if _uniform(pce, "f") < 0.5 else "MM") if professional else "1M"
    commissioning = _EPOCH + dt.timedelta(days=5000 + int(2000 * _uniform(pce, "mes")))
    if item is not None:
        frequency = item.frequency
        commissioning = item.commissioning or dt.date(2015, 6, 1)
    return Meter(
        pce=pce,
        frequency=frequency,
        mean_m3=mean,
        base_index=1000 + 40000 * _uniform(pce, salt, "b"),
        peak=15 + 10 * _uniform(pce, "p"),
        commissioning=commissioning,
        scenario=item,
        salt=salt,
    )


# -- availability and status -------------------------------------------------------------------


def informative_available(day: dt.date, now: dt.datetime) -> bool:
    """A gas day's informative data exists once the gas day is over."""
    return local(day + _ONE_DAY) <= now


def _settled(now: dt.datetime) -> dt.date:
    """Gas days before this one are definitive: a month is published about a week into M+1."""
    return (now.astimezone(PARIS) - dt.timedelta(days=7)).date().replace(day=1)


def definitive(day: dt.date, now: dt.datetime) -> bool:
    return day < _settled(now)


# -- records -----------------------------------------------------------------------------------


def _reading(stamp: str, index: float, suffix: str, estimated: bool) -> dict[str, Any]:
    return {
        "date_releve": stamp,
        "raison_releve": "RNO",
        "libelle_raison_releve": "Relevé normal",
        "qualite_releve": "Estimation" if estimated else "Mesure",
        "statut_releve": "Normal",
        f"index_brut_{suffix}": {"valeur_index": index, "horodate_Index": stamp},
        f"index_converti_{suffix}": {"valeur_index": index, "horodate_Index": stamp},
    }


def _record(
    item: Meter,
    *,
    start: dt.datetime,
    end: dt.datetime,
    period: tuple[dt.date, dt.date],
    gas_day: dt.date | None,
    start_index: float,
    end_index: float,
    volume: float,
    energy: float,
    coefficient: float,
    estimated: bool,
    status: str,
    type_label: str,
    zero_reset: bool = False,
    injection: bool = False,
    period_label: str | None = None,
    publication: dict[str, Any] | None = None,
) -> dict[str, Any]:
    # Dates say "consommation", the other fields "conso" (ref §1.5).
    start_text, end_text = iso(start), iso(end)
    block, suffix, short = (
        ("injection", "injection", "injection")
        if injection
        else ("consommation", "consommation", "conso")
    )
    body: dict[str, Any] = {
        f"date_debut_{suffix}": start_text,
        f"date_fin_{suffix}": end_text,
        "flag_retour_zero": "Vrai" if zero_reset else "Faux",
        "volume_brut": volume,
        "coeff_calcul": {
            "coeff_pta": 1.0,
            "valeur_pcs": coefficient,
            "coeff_conversion": coefficient,
        },
        "volume_converti": volume,
        "energie": energy,
        f"type_qualif_{short}": "Estimé" if estimated else "Mesuré",
        "sens_flux_gaz": "Production" if injection else "Consommation",
        f"statut_{short}": status,
        "journee_gaziere": gas_day.isoformat() if gas_day else None,
        f"type_{short}": type_label,
    }
    record: dict[str, Any] = {
        "pce": {"id_pce": item.pce},
        "periode": {
            "valeur": period_label,
            "date_debut": period[0].isoformat(),
            "date_fin": period[1].isoformat(),
        },
        "releve_debut": _reading(start_text, start_index, "debut", estimated),
        "releve_fin": _reading(end_text, end_index, "fin", estimated),
        block: body,
    }
    if publication is not None:
        record["bordereau_publication"] = publication
    record["statut_restitution"] = None
    return record


def informative_daily(
    pce: str, first: dt.date, last: dt.date, now: dt.datetime
) -> list[dict[str, Any]]:
    """One record per gas day of ``[first, last)`` whose data exists at ``now``."""
    item = meter(pce)
    communicating = item.scenario.communicating_from if item.scenario else None
    begin = max(first, item.commissioning, communicating or first)
    records = []
    day = begin
    settled = _settled(now)
    n = day_number(day)
    raw_start = item.raw(n)  # each day's end is the next day's start: computed once
    while day < last and informative_available(day, now):
        raw_end = item.raw(n + 1)
        start_index = math.floor(raw_start - item.shift(n))
        end_index = math.floor(raw_end - item.shift(n + 1))
        coefficient = item.coefficient(day)
        next_day = day + _ONE_DAY
        records.append(
            _record(
                item,
                start=local(day),
                end=local(next_day),
                period=(day, next_day),
                gas_day=day,
                start_index=start_index,
                end_index=end_index,
                volume=math.floor(raw_end) - math.floor(raw_start),
                energy=round((raw_end - raw_start) * coefficient),
                coefficient=coefficient,
                estimated=item.estimated(n),
                status="Définitive" if day < settled else "Provisoire",
                type_label="Informative Journalier",
                # The old meter's last day ends on the new meter's index, from zero.
                zero_reset=end_index < start_index,
            )
        )
        day, n, raw_start = next_day, n + 1, raw_end
    return records


def informative_hourly(
    pce: str, first: dt.date, last: dt.date, now: dt.datetime
) -> list[dict[str, Any]]:
    """One record per hour of each gas day of ``[first, last)``: 23 or 25 on DST gas days."""
    item = meter(pce)
    records = []
    day = max(first, item.commissioning)
    while day < last and informative_available(day, now):
        n = day_number(day)
        start, end = local(day).astimezone(dt.UTC), local(day + _ONE_DAY).astimezone(dt.UTC)
        hours = []
        instant = start
        while instant < end:
            hours.append((instant, _HOURLY_WEIGHTS[instant.astimezone(PARIS).hour]))
            instant += _HOUR
        total_weight = sum(w for _, w in hours)
        fine = item.raw(n + 1) - item.raw(n)
        coefficient = item.coefficient(day)
        index = item.index(n)
        estimated = item.estimated(n)
        status = "Définitive" if definitive(day, now) else "Provisoire"
        for hour_start, weight in hours:
            volume = fine * weight / total_weight
            records.append(
                _record(
                    item,
                    start=hour_start,
                    end=hour_start + _HOUR,
                    period=(day, day + _ONE_DAY),
                    gas_day=day,
                    start_index=round(index, 3),
                    end_index=round(index + volume, 3),
                    volume=round(volume, 3),
                    energy=round(volume * coefficient, 3),
                    coefficient=coefficient,
                    estimated=estimated,
                    status=status,
                    type_label="Informative Horaire",
                )
            )
            index += volume
        day += _ONE_DAY
    return records


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _period_of(item: Meter, day: dt.date) -> tuple[dt.date, dt.date, str]:
    """The published period containing ``day``: a day (JJ), a month (1M, MM) or a half-year."""
    frequency = item.frequency_on(day)
    if frequency == "JJ":
        return day, day + _ONE_DAY, frequency
    if frequency == "6M":
        start = dt.date(day.year, 1 if day.month <= 6 else 7, 1)
        end = dt.date(day.year, 7, 1) if day.month <= 6 else dt.date(day.year + 1, 1, 1)
    else:
        start, end = _month_start(day), _next_month(day)
    # A frequency change closes the period it falls in.
    for since, _changed in item.scenario.frequency_changes if item.scenario else ():
        if start < since <= day:
            start = since
        elif day < since < end:
            end = since
    return start, end, frequency


def _published_after(end: dt.date, frequency: str) -> dt.datetime:
    if frequency == "JJ":
        return local(end + _ONE_DAY, dt.time(12))
    delay = 10 if frequency == "6M" else 5
    return local(end + dt.timedelta(days=delay - 1), dt.time(12))


def published(
    pce: str, first: dt.date, last: dt.date, now: dt.datetime, *, injection: bool = False
) -> list[dict[str, Any]]:
    """The published periods lying inside ``[first, last)`` and published at ``now``."""
    item = meter(pce, "inj" if injection else "")
    records = []
    day = max(first, item.commissioning)
    while day < last:
        start, end, frequency = _period_of(item, day)
        start = max(start, item.commissioning)
        if start >= first and end <= last and _published_after(end, frequency) <= now:
            records.append(_published_record(item, start, end, frequency, injection))
        day = end
    return records


def _published_record(
    item: Meter, start: dt.date, end: dt.date, frequency: str, injection: bool
) -> dict[str, Any]:
    n0, n1 = day_number(start), day_number(end)
    start_index, end_index = math.floor(item.index(n0)), math.floor(item.index(n1))
    volume = math.floor(item.raw(n1)) - math.floor(item.raw(n0))
    change = item.scenario.meter_change if item.scenario else None
    coefficient = item.coefficient(start)
    label = (
        start.strftime("%Y-%m") if frequency in ("1M", "MM") and end == _next_month(start) else None
    )
    return _record(
        item,
        start=local(start),
        end=local(end),
        period=(start, end),
        gas_day=start if frequency == "JJ" else None,
        start_index=start_index,
        end_index=end_index,
        volume=volume,
        energy=round(volume * coefficient),
        coefficient=coefficient,
        estimated=item.estimated(n0),
        status="Définitive",
        type_label="Publiée",
        zero_reset=change is not None and start <= change < end,
        injection=injection,
        period_label=label,
        publication={
            "date_debut_bordereau": start.isoformat(),
            "date_fin_bordereau": (end - _ONE_DAY).isoformat(),
            "nb_jour_gazier": (end - start).days,
        },
    )


# -- contractual and technical data -----------------------------------------------------------


def _new_shape(pce: str) -> bool:
    """Half the PCEs answer spec 1.6's scalars, half v1.9's objects (ref §1.5)."""
    return zlib.crc32(pce.encode()) % 2 == 1


def _tariff(car_kwh: float) -> str:
    if car_kwh < 6000:
        return "T1"
    if car_kwh < 300_000:
        return "T2"
    if car_kwh < 5_000_000:
        return "T3"
    return "T4"


def contractual(pce: str, today: dt.date) -> dict[str, Any]:
    item = meter(pce)
    car = round(item.mean_m3 * 365 * 11.2)
    cja = round(car / 365 * 1.4, 1)
    tariff = _tariff(car)
    change = item.scenario.tariff_change if item.scenario else None
    if change is not None and today >= change:
        tariff = "TP"
    profile = "P016" if pce.startswith("GI") else "P012"
    data: dict[str, Any] = {"id_pce": pce, "tarif_acheminement": tariff}
    data["date_mes"] = item.commissioning.isoformat()
    if _new_shape(pce):
        data.update(
            car={"car_actuelle": car, "car_future": round(car * 1.02)},
            cja={"cja": cja, "cja_journaliere": cja, "cja_mensuelle": round(cja * 30.4, 1)},
            profil={
                "profil_type_actuel": profile,
                "date_debut_profil_type_actuel": (change or dt.date(today.year, 4, 1)).isoformat(),
                "date_fin_profil_type_actuel": None,
                "profil_type_futur": profile,
            },
            date_publication=today.replace(day=1).isoformat(),
            consommation_journaliere_plafond=round(cja * 1.2, 1),
            modulation={
                "modulation_n_1": 0.42,
                "modulation_n_2": 0.4,
                "modulation_n_3": 0.41,
                "assiette": car,
            },
        )
    else:
        data.update(car=car, cja=cja, profil={"profil_type_actuel": profile})
    data["statut_restitution"] = None
    return data


_STREETS = ("rue de la Paix", "avenue Jean Jaurès", "boulevard Voltaire", "place Bellecour")
_CITIES = (("75011", "PARIS"), ("69002", "LYON"), ("13001", "MARSEILLE"), ("31000", "TOULOUSE"))


def technical(pce: str, postcode: str = "") -> dict[str, Any]:
    item = meter(pce)
    pick = zlib.crc32(pce.encode())
    city_postcode, city = _CITIES[pick % len(_CITIES)]
    data: dict[str, Any] = {
        "id_pce": pce,
        "situation_compteur": {
            "numero_rue": str(1 + pick % 120),
            "nom_rue": _STREETS[(pick // 7) % len(_STREETS)],
            "complement_adresse": None,
            "code_postal": postcode or city_postcode,
            "commune": city,
        },
        "caracteristiques_compteur": {"frequence": item.frequency, "client_sensible_mig": "Non"},
        "pitd": {"identifiant_pitd": f"GD{pick % 9000 + 1000}", "libelle_pitd": f"PITD {city}"},
    }
    if _new_shape(pce):
        data.update(
            code_calibre="G4" if not pce.startswith("GI") else "G65",
            code_debit="D1",
            code_debit_normalise=None,
            pression_livraison="21 mbar",
            matricule_compteur=f"M{pick % 10**8:08d}",
            regime_propriete={
                "regime_propriete_compteur": "GRDF",
                "regime_propriete_convertisseur": None,
                "regime_propriete_poste": None,
                "regime_propriete_enregistreur": None,
            },
        )
    data["statut_restitution"] = None
    return data
