"""A file cache for the simulator's state when there is no Redis (embedded defaults).

Django's file cache lists its whole directory on every write to decide whether to cull, and
culls (drops a third of the entries) beyond ``MAX_ENTRIES``: both wrong for a state that must
not lose a declared right and that holds one entry per right. This one never culls; entries
still expire with their timeout, and :func:`grdf_access.simulator.reset` clears it.
"""

from __future__ import annotations

from django.core.cache.backends.filebased import FileBasedCache


class SimulatorFileCache(FileBasedCache):
    def _cull(self) -> None:
        return None
