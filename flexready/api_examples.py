"""Example values of the Annex 1 operations: the annex's BACS 1, its asset, a request."""

from __future__ import annotations

BACS_ID = "f47ac10b-58cc-4372-a567-0e02b2c3d479"
ASSET_ID = "WholeBuilding"
BACS = {
    "bacsID": BACS_ID,
    "name": "BACS Whole Building Only",
    "description": "A BACS configured for a whole building that has a single associated asset.",
}
POTENTIAL = {
    "flexProduct": "WID",
    "power": {"unit": "W", "multiplier": "k", "value": 100.0},
    "mobilizationDelay": "PT1M",
    "maxDuration": "PT2M",
    "activationPerDay": 1,
    "timePeriod": [{"start": "2025-04-02T12:00:00+02:00", "end": "2025-04-02T14:00:00+02:00"}],
}
ASSET = {
    "assetID": ASSET_ID,
    "bacsID": BACS_ID,
    "description": "Whole building",
    "flexProduct": "WID",
    "potential": POTENTIAL,
}
ASSET_POTENTIAL = {"bacsID": BACS_ID, "assetID": ASSET_ID, "potential": POTENTIAL}
PROGRAM = [
    {
        "power": {"unit": "W", "multiplier": "k", "value": 80.0},
        "start": "2025-04-02T12:00:00",
        "end": "2025-04-02T12:02:00",
    }
]
CREATE_IN = {"requestID": "req-001", "flexProduct": "WID", "power": PROGRAM}
CONFIRM_IN = {
    "flexProduct": "WID",
    "power": PROGRAM,
    "ackPrice": {"unit": "EUR/MWh", "multiplier": "", "value": 120.0},
}
REQUEST = {
    "requestID": "req-001",
    "bacsID": BACS_ID,
    "assetID": ASSET_ID,
    "flexProduct": "WID",
    "status": "accepted",
    "power": [
        {
            "power": {"unit": "W", "multiplier": "k", "value": 80.0},
            "start": "2025-04-02T12:00:00+02:00",
            "end": "2025-04-02T12:02:00+02:00",
        }
    ],
    "ackPrice": None,
    "receivedAt": "2025-04-02T09:41:17+02:00",
    "confirmedAt": None,
    "reasons": [],
}
CONFIRMED = {
    **REQUEST,
    "status": "confirmed",
    "ackPrice": {"unit": "EUR/MWh", "multiplier": "", "value": 120.0},
    "confirmedAt": "2025-04-02T09:43:02+02:00",
}


def _kw(value: float) -> dict[str, object]:
    return {"unit": "W", "multiplier": "k", "value": value}


REALISATION = {
    "requestID": "req-001",
    "bacsID": BACS_ID,
    "assetID": ASSET_ID,
    "status": "realised",
    "complete": True,
    "measurementStatus": "complete",
    "note": "",
    "seriesID": 119,
    "stepSeconds": 60,
    "baseline": {
        "method": "mean of the same local window on similar previous days",
        "days": ["2025-03-26", "2025-03-27", "2025-03-28", "2025-03-31", "2025-04-01"],
    },
    "steps": [
        {
            "start": "2025-04-02T12:00:00+02:00",
            "end": "2025-04-02T12:01:00+02:00",
            "requested": _kw(80.0),
            "measured": _kw(61.2),
            "baseline": _kw(142.5),
            "delivered": _kw(81.3),
        },
        {
            "start": "2025-04-02T12:01:00+02:00",
            "end": "2025-04-02T12:02:00+02:00",
            "requested": _kw(80.0),
            "measured": _kw(60.4),
            "baseline": _kw(141.9),
            "delivered": _kw(81.5),
        },
    ],
    "total": {
        "requested": {"unit": "Wh", "multiplier": "k", "value": 2.666667},
        "measured": {"unit": "Wh", "multiplier": "k", "value": 2.026667},
        "baseline": {"unit": "Wh", "multiplier": "k", "value": 4.74},
        "delivered": {"unit": "Wh", "multiplier": "k", "value": 2.713333},
    },
}
CONSUMPTIONS = {
    "bacsID": BACS_ID,
    "assetID": ASSET_ID,
    "start": "2025-04-02T12:00:00+02:00",
    "end": "2025-04-02T12:20:00+02:00",
    "stepSeconds": 600,
    "consumptions": [
        {
            "start": "2025-04-02T12:00:00+02:00",
            "end": "2025-04-02T12:10:00+02:00",
            "power": _kw(138.6),
        },
        {
            "start": "2025-04-02T12:10:00+02:00",
            "end": "2025-04-02T12:20:00+02:00",
            "power": _kw(141.2),
        },
    ],
}
AGGREGATED = {
    "bacsID": BACS_ID,
    "assetID": ASSET_ID,
    "step": "1d",
    "aggregate": "sum",
    "consumptions": [
        {
            "start": "2025-04-01T00:00:00+02:00",
            "value": {"unit": "Wh", "multiplier": "k", "value": 1874.25},
        },
        {
            "start": "2025-04-02T00:00:00+02:00",
            "value": {"unit": "Wh", "multiplier": "k", "value": 1790.5},
        },
    ],
}
SESSION = {
    "session_id": "6d1f0b5e-2c47-4a8e-9f13-0b7c5e2a9d41",
    "created_at": "2025-04-02T09:30:12+02:00",
    "emulator_module": "operator",
}
PING = {"ok": True, "organisation": "demo"}
