"""Example values of the Smart OA API's OpenAPI operations (a 250 kW rooftop PV plant)."""

from __future__ import annotations

CONTRACT_ID = "BOA-2024-000123"
CONTRACT = {
    "contract_id": CONTRACT_ID,
    "label": "Centrale PV du toit",
    "site": "Campus Lyon",
    "metering_point": CONTRACT_ID,
    "enabled": True,
    "poll_interval": 300,
    "last_polled_at": "2026-06-14T09:55:02Z",
    "last_success_at": "2026-06-14T09:55:02Z",
}
# A stop ordered from 12:00 to 14:00 Paris time (UTC+2 in June); 1.0 = stop, 0.0 = produce.
STOP = {"start": "2026-06-14T10:00:00Z", "end": "2026-06-14T12:00:00Z"}
VERSION_HEAD = {
    "application_date": "2026-06-14",
    "update_date": "2026-06-13T14:32:00+00:00",
    "fetched_at": "2026-06-13T14:35:03+00:00",
    "source": "api",
}
SETPOINT = {
    "contract_id": CONTRACT_ID,
    "at": "2026-06-14T09:55:00+00:00",
    "value": 0.0,
    "current_episode": None,
    "next_episode": STOP,
    "version": VERSION_HEAD,
}
SCHEDULES = {
    "contract_id": CONTRACT_ID,
    "date": "2026-06-14",
    "versions": [
        {
            **VERSION_HEAD,
            "periods": [
                {"start": "2026-06-13T22:00:00Z", "end": "2026-06-14T10:00:00Z", "value": 0.0},
                {**STOP, "value": 1.0},
                {"start": "2026-06-14T12:00:00Z", "end": "2026-06-14T22:00:00Z", "value": 0.0},
            ],
            "episodes": [STOP],
            "diff": {"added": [STOP], "removed": [], "moved": [], "unchanged": 0},
        }
    ],
}
# The first and last five minutes of the stop are neutralised; energies per 5-minute step,
# in the meter's unit (Wh): about 20.8 kWh per step at full power.
BILLING = {
    "day": "2026-06-14",
    "unit": "Wh",
    "steps_in_day": 288,
    "stop_duration_seconds": 7200,
    "stop_steps": 22,
    "neutralised_steps": 2,
    "missing_steps": 0,
    "non_compliant_energy": 0.0,
    "neutralised_energy": 14620.0,
    "compliant": True,
    "back_at_full_power": True,
    "returns": [
        {
            "stop_end": "2026-06-14T12:00:00+00:00",
            "step": "2026-06-14T12:00:00+00:00",
            "energy": 19650.0,
            "reference": 20100.0,
            "status": "ok",
            "reason": "à pleine puissance dès la fin de l'arrêt",
        }
    ],
    "episodes": [STOP],
    "steps": [
        {"start": "2026-06-14T10:00:00+00:00", "state": "neutralised", "energy": 8420.0},
        {"start": "2026-06-14T10:05:00+00:00", "state": "stop", "energy": 0.0},
        {"start": "2026-06-14T12:00:00+00:00", "state": "normal", "energy": 19650.0},
    ],
}
