"""Wall clocks a test shares with a subprocess: one that runs faster, one the test steps.

``python -m tests.fastclock <manage.py arguments>`` runs a management command (``tic_read``) whose
``datetime.now()`` and ``time.time()`` follow the test's clock (time-machine). ``time.monotonic``
is left alone: the reader's timeouts and flush intervals stay real.

* ``FastClock``: runs ``speed`` times faster, so a whole Paris day, DST change included, passes
  through the real reader in a couple of minutes. It holds at ``origin`` until the test writes
  the real start time into ``FASTCLOCK_FILE`` (once the reader is up). What the reader books at
  reception time then depends on how fast the machine is.
* ``SteppedClock``: stands still where the test puts it. The test moves it (``move``: the child
  answers once its clock is there), writes one meter frame, and waits until the reader's ingest
  has handled that frame (``handled``: the child reports each frame's reception instant, from a
  hook on ``Ingestor.handle``). Every frame is thus received at the instant it was written for,
  whatever the machine's load.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


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


@dataclass
class SteppedClock:
    origin: dt.datetime
    path: Path  # the Unix socket the child connects to
    timeout: float = 60.0  # real seconds: a child that never answers fails the test
    _server: socket.socket | None = field(default=None, repr=False)
    _child: socket.socket | None = field(default=None, repr=False)
    _lines: TextIO | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(self.path))
        self._server.listen(1)
        self._server.settimeout(self.timeout)

    def env(self) -> dict[str, str]:
        return {"FASTCLOCK_ORIGIN": self.origin.isoformat(), "FASTCLOCK_SOCKET": str(self.path)}

    def move(self, instant: dt.datetime) -> None:
        """Set the child's clock to ``instant``; returns once the child is there."""
        if self._child is None:
            assert self._server is not None
            self._child, _address = self._server.accept()
            self._child.settimeout(self.timeout)
            self._lines = self._child.makefile("r", encoding="ascii")
        self._child.sendall(f"{instant.isoformat()}\n".encode("ascii"))
        assert self._next() == ("clock", instant)

    def handled(self) -> tuple[str, dt.datetime]:
        """The next frame the child's ingest handled: its result and reception instant."""
        return self._next()

    def _next(self) -> tuple[str, dt.datetime]:
        assert self._lines is not None
        line = self._lines.readline()
        assert line, "the reader's process went away"
        kind, instant = line.split()
        return kind, dt.datetime.fromisoformat(instant)

    def close(self) -> None:
        for closable in (self._lines, self._child, self._server):
            if closable is not None:
                closable.close()


def _stepped(travel: Any) -> None:
    """In the child: follow the test's moves, and report each frame the ingest handles."""
    import django

    django.setup()
    from tic.ingest import Ingestor, Received

    link = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    link.connect(os.environ["FASTCLOCK_SOCKET"])
    lock = threading.Lock()

    def send(line: str) -> None:
        with lock:
            link.sendall(line.encode("ascii"))

    handle = Ingestor.handle

    def handled(self: Ingestor, item: Any) -> None:
        handle(self, item)
        if isinstance(item, Received):
            result = "valid" if item.frame.valid else "invalid"
            send(f"{result} {item.at.isoformat()}\n")

    Ingestor.handle = handled  # type: ignore[method-assign]

    def follow() -> None:
        for line in link.makefile("r", encoding="ascii"):
            instant = dt.datetime.fromisoformat(line.strip())
            travel.move_to(instant)
            send(f"clock {instant.isoformat()}\n")

    threading.Thread(target=follow, name="steppedclock", daemon=True).start()


def main() -> None:
    import time_machine

    if "FASTCLOCK_SOCKET" in os.environ:
        origin = dt.datetime.fromisoformat(os.environ["FASTCLOCK_ORIGIN"])
        _stepped(time_machine.travel(origin, tick=False).start())
        from django.core.management import execute_from_command_line

        execute_from_command_line(["manage.py", *sys.argv[1:]])
        return
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
