"""Signals the shared core sends; domain apps connect to them in their ``AppConfig.ready``.

``hub`` never imports a domain app, so extension points go this way round.
"""

from django.dispatch import Signal

# Sent by ``seed_demo`` once the demo organisation exists: ``organisation=``, ``today=`` (local
# date). Each app seeds its own demo objects idempotently in a receiver.
demo_seeded = Signal()
