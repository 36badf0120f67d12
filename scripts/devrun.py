"""``make run``'s process runner: honcho, with a stop grace period the Celery worker can meet.

honcho sends SIGKILL 5 s after SIGTERM, a fixed figure. Celery's worker on the embedded
filesystem broker polls in 2-second cycles and finishes the cycle in progress and one more
before a warm stop: up to about 5 s on an idle worker, longer while a task ends. The worker
runs the solo pool, so honcho's SIGTERM to its process group reaches no pool children.
"""

from __future__ import annotations

import os
import sys

import honcho.manager
from honcho.command import main

honcho.manager.KILL_WAIT = int(os.environ.get("HUB_STOP_GRACE_SECONDS", "30"))

if __name__ == "__main__":
    sys.exit(main())
