"""The demo's controllable building (four loads on an in-process Modbus simulator) and plant."""

from __future__ import annotations

import datetime as dt
from typing import Any


def on_demo_seeded(sender: Any, *, organisation: Any, today: dt.date, **kwargs: Any) -> None:
    return None
