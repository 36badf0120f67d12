"""Example values of the control API's OpenAPI operations (the demo building's four loads)."""

from __future__ import annotations

LOAD = {
    "id": 12,
    "name": "Pompe à chaleur",
    "kind": "sheddable",
    "kind_label": "délestable",
    "channel": "Automate du bâtiment",
    "metering_point": 31,
    "nominal_power_w": 20000.0,
    "priority": 40,
    "full_value": 100.0,
    "safe_value": 100.0,
    "value": 50.0,
    "value_read_at": "2026-01-15T08:05:12Z",
    "changed_at": "2026-01-15T08:00:03Z",
    "held_by": "flexready.ecowatt",
    "held_reason": "Ecowatt orange",
    "min_on_seconds": 600,
    "min_off_seconds": 300,
    "max_off_seconds_per_day": 7200,
}
OVERRIDE_IN = {
    "value": 0.0,
    "ends_at": "2026-01-15T12:00:00+01:00",
    "reason": "Maintenance du groupe froid",
}
OVERRIDE = {
    "id": 5,
    "load": 11,
    "value": 0.0,
    "reason": "Maintenance du groupe froid",
    "starts_at": "2026-01-15T09:30:00Z",
    "ends_at": "2026-01-15T11:00:00Z",
    "created_by": "jeton supervision",
}
PLANNED = {
    "load": 12,
    "value": 50.0,
    "start": "2026-01-15T17:00:00Z",
    "end": "2026-01-15T19:00:00Z",
    "reason": "Ecowatt orange",
}
COMMAND = {
    "id": 901,
    "load": 12,
    "load_name": "Pompe à chaleur",
    "at": "2026-01-15T08:00:03Z",
    "value": 50.0,
    "previous": 100.0,
    "source": "flexready.ecowatt",
    "reason": "Ecowatt orange",
    "status": "acked",
    "acked_value": 50.0,
    "latency_ms": 38.4,
    "error": "",
}
SITE = {
    "id": 7,
    "name": "Campus Lyon",
    "dry_run": False,
    "loads": [LOAD],
    "overrides": [OVERRIDE],
    "planned": [PLANNED],
    "commands": [COMMAND],
}
DRY_RUN = {"dry_run": True}
