"""Example values of the core API's OpenAPI operations (the demo's Campus Lyon)."""

from __future__ import annotations

SITE = {
    "id": 7,
    "name": "Campus Lyon",
    "address": "12 rue Garibaldi",
    "postcode": "69003",
    "city": "Lyon",
}
SITE_IN = {key: value for key, value in SITE.items() if key != "id"}
METERING_POINT = {
    "id": 31,
    "kind": "elec_prm",
    "identifier": "30001234567890",
    "label": "Bâtiment A — PRM",
    "site": 7,
    "created_at": "2026-01-12T08:30:00Z",
}
METERING_POINT_IN = {
    "kind": "elec_prm",
    "identifier": "30001234567890",
    "label": "Bâtiment A — PRM",
    "site": 7,
}
SERIES = {
    "id": 118,
    "metering_point": 31,
    "quantity": "active_energy_import",
    "unit": "Wh",
    "kind": "interval",
    "step_seconds": 1800,
    "source": "tic",
}
# An hour resampled from two half-hours (count): a winter morning of an office building.
POINTS = {
    "series": 118,
    "unit": "Wh",
    "step": "1h",
    "aggregate": "sum",
    "points": [
        {"ts": "2026-01-15T07:00:00Z", "value": 41250.0, "count": 2, "quality": 0},
        {"ts": "2026-01-15T08:00:00Z", "value": 46800.0, "count": 2, "quality": 0},
        {"ts": "2026-01-15T09:00:00Z", "value": 44120.0, "count": 2, "quality": 1},
    ],
}
POINTS_CSV = "ts,value,count,quality\r\n2026-01-15T07:00:00Z,41250.0,2,0\r\n"
POINTS_IN = {
    "points": [
        {"ts": "2026-01-15T07:00:00Z", "value": 20500.0, "quality": 0, "provisional": False},
        {"ts": "2026-01-15T07:30:00Z", "value": 20750.0, "quality": 0, "provisional": False},
    ]
}
POINTS_WRITTEN = {"received": 2, "written": 2}
PING = {"ok": True, "organisation": "demo"}
JOB = {
    "id": "3f2b8c4e-6a1d-4e9b-9a57-0c1d2e3f4a5b",
    "kind": "grdf.export",
    "label": "Export GRDF de 2 PCE (2026-01-01 au 2026-01-31)",
    "status": "succeeded",
    "progress": {"done": 1, "total": 1, "percent": 100},
    "result": {"pces": 2, "bytes": 5312, "message": "Export prêt : export-grdf.csv."},
    "result_url": "https://hub.example/api/v1/jobs/3f2b8c4e-6a1d-4e9b-9a57-0c1d2e3f4a5b/result",
    "error": "",
    "created_at": "2026-02-02T09:14:03Z",
    "started_at": "2026-02-02T09:14:04Z",
    "finished_at": "2026-02-02T09:14:06Z",
    "url": "https://hub.example/api/v1/jobs/3f2b8c4e-6a1d-4e9b-9a57-0c1d2e3f4a5b/",
}
JOB_QUEUED = {
    **JOB,
    "status": "queued",
    "progress": {"done": 0, "total": None, "percent": None},
    "result": None,
    "result_url": None,
    "started_at": None,
    "finished_at": None,
}
