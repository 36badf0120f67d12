"""A day's schedule typed or pasted by an operator, for when the Smart OA API cannot be reached.

The seed's fallback is to « récupérer manuellement le signal via le portail web Smart OA ». What
the operator reads there is turned into the API's own answer and checked by the same validator
(``smartoa.client.parse_schedule``), so a manual version is stored exactly like a polled one.
Two inputs are accepted:

* the API's JSON answer, pasted whole (``{"id": …, "update_date": …, "data": […]}``);
* the day, the update date shown by the portal, and one stop per line, in Paris wall time:
  ``11:55 - 18:00`` (``-``, ``→`` or ``;`` between the two; ``24:00`` is the next midnight).
  On the day the clocks go back, a time between 02:00 and 03:00 exists twice and must carry
  its offset (``02:30+02:00``); on the day they go forward, 02:00-03:00 does not exist.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from typing import Any

from django.utils.translation import gettext as _

from hub.clock import PARIS, local_day_bounds
from smartoa.client import Schedule, SmartOAResponseError, parse_schedule

MAX_STOPS = 96
_TIME = re.compile(r"^(\d{1,2})[:h](\d{2})(?::(\d{2}))?([+-]\d{2}:\d{2})?$")
# "→", "->", an en or em dash, ";", or a hyphen between the two times.
_SEPARATORS = re.compile("\\s*(?:→|->|\u2013|\u2014|;|\\s-\\s|-(?=\\d))\\s*")


class ManualScheduleError(ValueError):
    """The entry is refused; ``field`` names the form field, ``reason`` says why (French)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def from_json(text: str, *, contract_id: str) -> Schedule:
    """The API's answer pasted whole, checked as a polled one is."""
    try:
        return parse_schedule(text, expected_id=contract_id)
    except SmartOAResponseError as exc:
        raise ManualScheduleError(
            "stops", _("réponse Smart OA invalide : %(reason)s") % {"reason": exc.reason}
        ) from exc


def from_stops(
    *, contract_id: str, day: dt.date, update_date: dt.datetime, stops_text: str
) -> Schedule:
    """A schedule of ``day`` whose stops are the lines of ``stops_text`` (empty: no stop)."""
    start_of_day, end_of_day = local_day_bounds(day)
    stops: list[tuple[dt.datetime, dt.datetime, int]] = []
    lines = [(n, line.strip()) for n, line in enumerate(stops_text.splitlines(), 1)]
    for number, line in lines:
        if not line:
            continue
        parts = [p for p in _SEPARATORS.split(line) if p]
        if len(parts) != 2:
            raise ManualScheduleError(
                "stops",
                _("ligne %(number)s : « %(value)s » n'est pas « début - fin » (HH:MM)")
                % {"number": number, "value": line[:40]},
            )
        start = wall_time(day, parts[0], where=f"ligne {number}")
        end = wall_time(day, parts[1], where=f"ligne {number}")
        if end <= start:
            raise ManualScheduleError(
                "stops", _("ligne %(number)s : la fin précède le début") % {"number": number}
            )
        stops.append((start, end, number))
    if len(stops) > MAX_STOPS:
        raise ManualScheduleError(
            "stops", _("au plus %(MAX_STOPS)s arrêts par jour") % {"MAX_STOPS": MAX_STOPS}
        )
    stops.sort()
    for (_s1, e1, n1), (s2, _e2, n2) in itertools.pairwise(stops):
        if s2 < e1:
            raise ManualScheduleError(
                "stops",
                _("lignes %(n1)s et %(n2)s : les arrêts se chevauchent") % {"n1": n1, "n2": n2},
            )
    data: list[dict[str, Any]] = []
    cursor = start_of_day
    for start, end, _number in stops:
        if start > cursor:
            data.append(_period(cursor, start, 0.0))
        if data and data[-1]["value"] == 1.0 and start == cursor:
            data[-1]["end_date"] = _text(end)  # back-to-back lines are one stop
        else:
            data.append(_period(start, end, 1.0))
        cursor = end
    if cursor < end_of_day:
        data.append(_period(cursor, end_of_day, 0.0))
    body = {
        "id": contract_id,
        "update_date": _text(update_date),
        "application_date": day.isoformat(),
        "data": data,
    }
    try:
        return parse_schedule(json.dumps(body), expected_id=contract_id)
    except SmartOAResponseError as exc:  # a stop outside the day
        raise ManualScheduleError(
            "stops", _("arrêts hors de la journée : %(reason)s") % {"reason": exc.reason}
        ) from exc


def wall_time(day: dt.date, text: str, *, where: str) -> dt.datetime:
    """The UTC instant of ``HH:MM[:SS][±HH:MM]`` on ``day`` in Paris (24:00: next midnight)."""
    match = _TIME.match(text.strip())
    if match is None:
        raise ManualScheduleError(
            "stops",
            _("%(where)s : heure illisible « %(value)s » (HH:MM)")
            % {"where": where, "value": text[:20]},
        )
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if (hour, minute, second) == (24, 0, 0) and not match[4]:
        return local_day_bounds(day)[1]
    if hour > 23 or minute > 59 or second > 59:
        raise ManualScheduleError(
            "stops", _("%(where)s : heure impossible « %(text)s »") % {"where": where, "text": text}
        )
    naive = dt.datetime.combine(day, dt.time(hour, minute, second))
    if match[4]:
        return dt.datetime.fromisoformat(f"{naive.isoformat()}{match[4]}").astimezone(dt.UTC)
    return paris_wall_time(naive, field="stops", where=where)


def paris_wall_time(naive: dt.datetime, *, field: str, where: str = "") -> dt.datetime:
    """A Paris wall time as a UTC instant; refused when it does not exist or exists twice."""
    prefix = f"{where} : " if where else ""
    early = naive.replace(tzinfo=PARIS, fold=0)
    instant = early.astimezone(dt.UTC)
    # A wall time skipped at spring forward does not come back from UTC unchanged.
    if instant.astimezone(PARIS).replace(tzinfo=None) != naive:
        raise ManualScheduleError(
            field,
            _("%(prefix)s%(naive)s n'existe pas ce jour-là (passage à l'heure d'été)")
            % {"prefix": prefix, "naive": format(naive, "%H:%M")},
        )
    if early.utcoffset() != naive.replace(tzinfo=PARIS, fold=1).utcoffset():
        raise ManualScheduleError(
            field,
            _(
                "%(prefix)s%(naive)s existe deux fois ce jour-là (retour à l'heure d'hiver) : "
                "précisez le décalage, +02:00 ou +01:00"
            )
            % {"prefix": prefix, "naive": format(naive, "%H:%M")},
        )
    return instant


def _text(instant: dt.datetime) -> str:
    return instant.astimezone(PARIS).isoformat(timespec="seconds")


def _period(start: dt.datetime, end: dt.datetime, value: float) -> dict[str, Any]:
    return {"start_date": _text(start), "end_date": _text(end), "value": value}
