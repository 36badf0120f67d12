"""SQL functions the embedded SQLite database lacks, registered on each new connection."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hub.clock import PARIS, gas_day_of, local_midnight

_FIXED = {"5min": 300, "10min": 600, "15min": 900, "30min": 1800, "1h": 3600}


def time_bucket(value: str | None, step: str) -> str | None:
    """Bucket start for a UTC timestamp as Django stores it in SQLite ('YYYY-MM-DD HH:MM:SS')."""
    if value is None:
        return None
    instant = dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    if step in _FIXED:
        n = _FIXED[step]
        start = dt.datetime.fromtimestamp(instant.timestamp() // n * n, tz=dt.UTC)
    elif step == "1d":
        start = local_midnight(instant.astimezone(PARIS).date())
    elif step == "1mo":
        start = local_midnight(instant.astimezone(PARIS).date().replace(day=1))
    elif step == "gasday":
        start = dt.datetime.combine(gas_day_of(instant), dt.time(6), tzinfo=PARIS).astimezone(
            dt.UTC
        )
    else:
        raise ValueError(f"unknown step {step}")
    return start.strftime("%Y-%m-%d %H:%M:%S")


def register(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function("hub_time_bucket", 2, time_bucket, deterministic=True)
