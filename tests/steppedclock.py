"""A wall clock a test steps and shares with a subprocess, acknowledged at every step.

``python -m tests.steppedclock <manage.py arguments>`` runs a management command (``tic_read``)
whose ``datetime.now()`` and ``time.time()`` stand still where the test puts them (time-machine);
``time.monotonic`` is left alone, so the reader's timeouts and flush intervals stay real. The
test moves the clock (``SteppedClock.move``: the child answers once its clock is there), writes
one meter frame, and waits until the reader's ingest has handled it (``handled``: the child
reports each frame's result and reception instant, from a hook on ``Ingestor.handle_many``). Every
frame is thus received at the instant it was written for, and a whole day, a clock change
included, passes through the real reader as fast as the machine goes, with the same result
however loaded it is.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO


@dataclass
class SteppedClock:
    """The test's side: listens on ``path`` before the child starts (``env`` tells it where)."""

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
        return {
            "STEPPEDCLOCK_ORIGIN": self.origin.isoformat(),
            "STEPPEDCLOCK_SOCKET": str(self.path),
        }

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
    link.connect(os.environ["STEPPEDCLOCK_SOCKET"])
    lock = threading.Lock()

    def send(line: str) -> None:
        with lock:
            link.sendall(line.encode("ascii"))

    handle_many = Ingestor.handle_many

    def handled(self: Ingestor, items: Any) -> None:
        items = list(items)
        handle_many(self, items)
        for item in items:
            if isinstance(item, Received):
                result = "valid" if item.frame.valid else "invalid"
                send(f"{result} {item.at.isoformat()}\n")

    Ingestor.handle_many = handled  # type: ignore[method-assign]

    def follow() -> None:
        for line in link.makefile("r", encoding="ascii"):
            instant = dt.datetime.fromisoformat(line.strip())
            travel.move_to(instant)
            send(f"clock {instant.isoformat()}\n")

    threading.Thread(target=follow, name="steppedclock", daemon=True).start()


def main() -> None:
    import time_machine

    origin = dt.datetime.fromisoformat(os.environ["STEPPEDCLOCK_ORIGIN"])
    _stepped(time_machine.travel(origin, tick=False).start())
    from django.core.management import execute_from_command_line

    execute_from_command_line(["manage.py", *sys.argv[1:]])


if __name__ == "__main__":
    main()
