"""A wall clock that starts at a chosen instant and runs faster, shared by a test and a subprocess.

``python -m tests.fastclock <manage.py arguments>`` runs a management command (``tic_read``) whose
``datetime.now()`` and ``time.time()`` follow ``FastClock`` (time-machine), so a whole Paris day,
DST change included, passes through the real reader in a couple of minutes. ``time.monotonic``
is left alone: the reader's timeouts and flush intervals stay real. The clock holds at ``origin``
until the test writes the real start time into ``FASTCLOCK_FILE`` (once the reader is up).
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class FastClock:
    origin: dt.datetime
    speed: float
    file: Path

    def start(self) -> None:
        self.file.write_text(repr(time.time()))

    def env(self) -> dict[str, str]:
        return {
            "FASTCLOCK_ORIGIN": self.origin.isoformat(),
            "FASTCLOCK_SPEED": str(self.speed),
            "FASTCLOCK_FILE": str(self.file),
        }

    def now(self, real: float | None = None) -> dt.datetime:
        try:
            real0 = float(self.file.read_text())
        except (OSError, ValueError):
            return self.origin
        real = time.time() if real is None else real
        return self.origin + dt.timedelta(seconds=max(0.0, real - real0) * self.speed)


def main() -> None:
    import time_machine

    clock = FastClock(
        dt.datetime.fromisoformat(os.environ["FASTCLOCK_ORIGIN"]),
        float(os.environ["FASTCLOCK_SPEED"]),
        Path(os.environ["FASTCLOCK_FILE"]),
    )
    real_at_start, monotonic_at_start = time.time(), time.monotonic()

    def real() -> float:  # time.time is patched once travelling
        return real_at_start + time.monotonic() - monotonic_at_start

    travel = time_machine.travel(clock.now(real()), tick=True).start()

    def follow() -> None:
        while True:
            travel.move_to(clock.now(real()))
            time.sleep(0.002)

    threading.Thread(target=follow, name="fastclock", daemon=True).start()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
