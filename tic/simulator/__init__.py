"""Frames of simulated meters (demo data, tests, benchmarks), built with the decoder's encoder.

A ``SimulatedPmePmi`` walks a consumption at a given power through Td periods the way a
PME-PMI meter reports it (02E §2.9): ``EA_s``/``EAPP_s`` grow from 0 at each Td top, the
``EAP_s`` index grows with them, ``PREAVIS DEP`` is sent while the power exceeds 90 % of PS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hub.clock import PARIS
from tic.protocol import encode_frame


def linky_standard_frame(*, adsc: str, at: dt.datetime, east: int, sinsts: int = 900) -> bytes:
    """A short Linky standard frame (HT, checksum mode 2, 54E §6.2) with a running index."""
    local = at.astimezone(PARIS)
    season = "E" if local.dst() else "H"
    horodate = season + local.strftime("%y%m%d%H%M%S")
    return encode_frame(
        [
            ("ADSC", adsc),
            ("VTIC", "02"),
            ("DATE", horodate, ""),
            ("NGTF", "      BASE      "),
            ("LTARF", "      BASE      "),
            ("EAST", f"{east:09d}"),
            ("EASF01", f"{east:09d}"),
            ("IRMS1", "004"),
            ("URMS1", "231"),
            ("PREF", "06"),
            ("SINSTS", f"{sinsts:05d}"),
            ("NTARF", "01"),
        ],
        mode=2,
        separator="\t",
    )


@dataclass(slots=True)
class SimulatedPmePmi:
    ads: str
    ps_kva: int = 42
    td_minutes: int = 10
    power_factor: float = 0.9
    drift: dt.timedelta = dt.timedelta(0)
    index_wh: float = 9_649_000.0
    # A producer's meter (02E §2.9.3: CONFIG PROD) also reports injection: EA_i since the Td
    # top and the EAP_i index of the current period.
    producer: bool = False
    export_index_wh: float = 1_234_000.0
    _ei: float = 0.0
    _eappi: float = 0.0
    _period_start: dt.datetime | None = None
    _ea: float = 0.0
    _eapp: float = 0.0
    _last: dt.datetime | None = field(default=None)

    def frame(
        self, *, at: dt.datetime, power_va: float, period: str = "HPE", export_w: float = 0.0
    ) -> bytes:
        """The frame sent at ``at`` (UTC) after drawing ``power_va`` (and, for a producer,
        injecting ``export_w``) since the previous one."""
        meter_time = (at + self.drift).astimezone(PARIS)
        top = meter_time.replace(
            minute=meter_time.minute - meter_time.minute % self.td_minutes, second=0, microsecond=0
        )
        if self._last is not None:
            hours = (at - self._last).total_seconds() / 3600
            if self._period_start != top:
                self._ea = self._eapp = self._ei = self._eappi = 0.0
            self._ei += export_w * hours
            self._eappi += export_w / self.power_factor * hours
            self.export_index_wh += export_w * hours
            self._eapp += power_va * hours
            self._ea += power_va * self.power_factor * hours
            self.index_wh += power_va * self.power_factor * hours
        self._period_start, self._last = top, at
        groups: list[tuple[str, str]] = [
            ("ADS", self.ads),
            ("MESURES1", "BT 4 SUP36"),
            ("DATE", meter_time.strftime("%d/%m/%y %H:%M:%S")),
            ("EA_s", f"{int(self._ea)}Wh"),
            ("ER+_s", "0varh"),
            ("ER-_s", "0varh"),
            ("EAPP_s", f"{int(self._eapp)}VAh"),
            ("PTCOUR1", period),
            ("TARIFDYN", "INACTIF"),
            ("CONFIG", "PROD" if self.producer else "CONSO"),
            ("EAP_s", f"{int(self.index_wh // 1000)}kWh"),
            ("PS", f"{self.ps_kva}kVA"),
        ]
        if self.producer:
            position = [label for label, _raw in groups].index("EAPP_s") + 1
            groups[position:position] = [
                ("EA_i", f"{int(self._ei)}Wh"),
                ("ER+_i", "0varh"),
                ("ER-_i", "0varh"),
                ("EAPP_i", f"{int(self._eappi)}VAh"),
            ]
            groups.append(("EAP_i", f"{int(self.export_index_wh // 1000)}kWh"))
        if power_va > 0.9 * self.ps_kva * 1000:
            groups.append(("PREAVIS", "DEP"))
        groups += [("MESURES2", "BT 4 SUP36"), ("PTCOUR2", period)]
        return encode_frame(groups, mode=1, separator=" ")
