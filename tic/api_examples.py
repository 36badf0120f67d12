"""Example values of the TIC API's OpenAPI operations (the demo building's PME-PMI meter)."""

from __future__ import annotations

from hub import quantities

COUNTERS = {"frames": 86410, "valid": 86396, "invalid": 14, "interrupted": 2, "bad_groups": 9}
PORT = {"id": 2, "name": "Bâtiment A — TIC", "state": "reading"}
METER = {
    "id": 4,
    "identifier": "041436028024",
    "family": "pmepmi",
    "mode": "historique",
    "metering_point_id": 31,
    "port": PORT,
    "last_frame_at": "2026-01-15T08:05:12.402000+00:00",
    "preavis_active": False,
    "tariff_periods": {"distributeur": "HPH", "fournisseur": "HPH"},
    "counters": {**COUNTERS, "implausible": 0},
}
STATE = {
    "id": 4,
    "identifier": "041436028024",
    "family": "pmepmi",
    "mode": "historique",
    "metering_point_id": 31,
    "last_frame_at": "2026-01-15T08:05:12.402000+00:00",
    "updated_at": "2026-01-15T08:05:12.518000+00:00",
    "values": {
        "ADS": "041436028024",
        "MESURES1": "BT 4 SUP36",
        "DATE": "15/01/26 09:05:10",
        "EA_s": "6250Wh",
        "ER+_s": "0varh",
        "ER-_s": "0varh",
        "EAPP_s": "6944VAh",
        "PTCOUR1": "HPH",
        "TARIFDYN": "INACTIF",
        "CONFIG": "CONSO",
        "EAP_s": "1284310kWh",
        "PS": "120kVA",
        "MESURES2": "BT 4 SUP36",
        "PTCOUR2": "HPH",
    },
    "tariff_periods": {"distributeur": "HPH", "fournisseur": "HPH"},
    "preavis": {"active": False, "since": None},
    "clock_drift_seconds": -2.0,
    "power": {"value": 83330.0, "subscribed": 120000.0, "unit": "VA", "share_percent": 69.4},
    "counters": {**COUNTERS, "implausible": 0},
    "port": {
        **PORT,
        "state_since": "2026-01-14T06:00:03+00:00",
        "baud": 1200,
        "last_error": "",
        "counters": {**COUNTERS, "noise_bytes": 0, "parity_errors": 3},
    },
    "series": {
        quantities.APPARENT_POWER_IMPORT.name: 119,
        quantities.CLOCK_DRIFT.name: 121,
        quantities.index_for("EAP_s").name: 122,
        quantities.SUBSCRIBED_POWER.name: 123,
        quantities.SUBSCRIBED_POWER_SHARE.name: 124,
        quantities.tariff_period_for("distributeur").name: 125,
        quantities.tariff_period_for("fournisseur").name: 126,
        quantities.TD_ACTIVE_ENERGY_IMPORT.name: 118,
        quantities.TD_APPARENT_ENERGY_IMPORT.name: 120,
    },
}
EVENTS = [
    {
        "id": 5521,
        "meter": "041436028024",
        "kind": "tariff_change",
        "at": "2026-01-15T05:00:04+00:00",
        "calendar": "distributeur",
        "previous": "HCH",
        "current": "HPH",
        "value": None,
    },
    {
        "id": 5509,
        "meter": "041436028024",
        "kind": "preavis_start",
        "at": "2026-01-14T17:42:10+00:00",
        "calendar": "",
        "previous": "",
        "current": "",
        "value": 92.5,
    },
]
ENERGY = {
    "start": "2026-01-14",
    "end": "2026-01-15",
    "results": [
        {"day": "2026-01-14", "calendar": "distributeur", "period": "HCH", "energy_wh": 412380.0},
        {"day": "2026-01-14", "calendar": "distributeur", "period": "HPH", "energy_wh": 1021640.5},
    ],
}
