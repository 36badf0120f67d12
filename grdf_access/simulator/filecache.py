"""A file cache for the simulator's state when there is no Redis (embedded defaults).

Django's file cache lists its whole directory on every write to decide whether to cull, and
culls (drops a third of the entries) beyond ``MAX_ENTRIES``: both wrong for a state that must
not lose a declared right and that holds one entry per right. This one never culls; entries
still expire with their timeout, and :func:`grdf_access.simulator.reset` clears it.

Its ``incr``/``add`` read a file then write another, so two callers at once lose an update:
:meth:`SimulatorFileCache.locked` serialises read-modify-writes with an ``flock`` on a file of
the directory, which holds between threads (each opens its own descriptor) and between the
web, worker and beat processes sharing the directory.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache.backends.filebased import FileBasedCache

# Not a ``.djcache`` file: ``clear()`` leaves it in place for the processes holding it open.
LOCK_FILE = "state.lock"


class SimulatorFileCache(FileBasedCache):
    _dir: str  # set by FileBasedCache.__init__ (its LOCATION)

    def _cull(self) -> None:
        return None

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Run the block while no other thread or process of this directory runs one."""
        os.makedirs(self._dir, 0o700, exist_ok=True)
        with open(os.path.join(self._dir, LOCK_FILE), "ab") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def add_to(self, key: str, delta: int = 1, *, timeout: float | None) -> int:
        """Add ``delta`` to the integer at ``key`` (0 when missing) and return the new value."""
        with self.locked():
            value = int(self.get(key) or 0) + delta
            self.set(key, value, timeout=timeout)
        return value
