"""Example values of the market-signal operations: Annex 2 supplier signal, RTE Ecowatt v5."""

from __future__ import annotations

PRM = "30001234567890"  # the signal comes in 15-minute steps
CEMS_IN = {
    "delivery_point": PRM,
    "start_date": "2026-01-15T00:00:00+01:00",
    "end_date": "2026-01-15T00:30:00+01:00",
}


def _triplet(value: float, unit: str, multiplier: str = "") -> dict[str, object]:
    return {"value": value, "unit": unit, "multiplier": multiplier}


CEMS_CHECK = {
    "session_id": "demo",
    "delivery_point": PRM,
    "start_date": "2026-01-15T00:00:00+01:00",
    "end_date": "2026-01-15T00:30:00+01:00",
    "checked_at": "2026-01-14T18:02:44+01:00",
    "status": "valid",
    "errors": [],
    "last_poll": {
        "status": "valid",
        "polled_at": "2026-01-14T18:00:03+01:00",
        "succeeded_at": "2026-01-14T18:00:03+01:00",
        "error": "",
    },
    "signal": {
        "step": [1, 2],
        "horodate": ["2026-01-15T00:00:00+01:00", "2026-01-15T00:15:00+01:00"],
        "power": [_triplet(36.0, "W", "k"), _triplet(36.0, "W", "k")],
        "cost": [_triplet(0.1247, "€/kWh"), _triplet(0.1182, "€/kWh")],
        "co2": [_triplet(38.0, "gCO2eq/kWh"), _triplet(35.0, "gCO2eq/kWh")],
    },
}
# A January day: orange (2) on the evening peak, green (1) otherwise.
ECOWATT = {
    "fetched_at": "2026-01-14T17:45:02+01:00",
    "next_call_at": "2026-01-14T18:00:02+01:00",
    "signals": [
        {
            "jour": "2026-01-15T00:00:00+01:00",
            "GenerationFichier": "2026-01-14T17:30:00+01:00",
            "dvalue": 2,
            "message": "Système électrique tendu. Les écogestes sont les bienvenus.",
            "values": [{"pas": pas, "hvalue": 2 if 17 <= pas <= 19 else 1} for pas in range(24)],
        }
    ],
}
