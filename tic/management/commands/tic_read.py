"""``manage.py tic_read``: read every enabled TIC port of the admin and store what they send.

Long-running (Procfile ``tic``). Run as many as needed, on as many hosts: each reads the ports
it leases (``tic.leases``), up to ``--capacity``, and takes over those of a reader that stopped
within ``--lease-seconds`` plus ``--reload-interval``. Counters are added in the database, so
readers never overwrite one another's, and each batch is written only for the ports whose lease
the reader still holds (fencing, ``tic.leases.still_held``). ``--port`` limits the command to
some ports.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from hub import mqtt
from tic import leases
from tic.ingest import Ingestor
from tic.reader import Timing, default_probe_window
from tic.runner import ReaderService


class Command(BaseCommand):
    help = "Read the enabled TIC ports and store their frames (runs until stopped)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, action="append", help="port id (repeatable)")
        parser.add_argument("--flush-interval", type=float, default=0.5)
        parser.add_argument(
            "--reload-interval",
            type=float,
            default=leases.DEFAULT_INTERVAL,
            help="seconds between two lease passes (heartbeat, claims, port list)",
        )
        parser.add_argument(
            "--capacity", type=int, default=10_000, help="most ports this reader leases"
        )
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=leases.DEFAULT_TTL.total_seconds(),
            help="a lease not renewed for this long is taken over",
        )
        parser.add_argument(
            "--silence", type=float, default=settings.TIC_SILENCE_SECONDS, help="seconds"
        )
        parser.add_argument(
            "--probe-window", type=float, help="seconds per probed rate (default: one frame)"
        )
        parser.add_argument("--run-seconds", type=float, help="stop after this long")

    def handle(self, *args: Any, **options: Any) -> None:
        mqtt.set_role("tic")  # named on the MQTT broker page beside its host and pid
        window = options["probe_window"]
        timing = Timing(
            silence=options["silence"],
            probe_window=(lambda _rate: window) if window else default_probe_window,
        )
        service = ReaderService(
            ingestor=Ingestor(
                drift_threshold=settings.TIC_DRIFT_THRESHOLD_SECONDS,
                state_interval=settings.TIC_STATE_INTERVAL_SECONDS,
            ),
            timing=timing,
            flush_interval=options["flush_interval"],
            reload_interval=options["reload_interval"],
            port_ids=options["port"],
            capacity=options["capacity"],
            lease_ttl=dt.timedelta(seconds=options["lease_seconds"]),
        )
        stop = threading.Event()
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, lambda *_: stop.set())
        if options["run_seconds"]:
            timer = threading.Timer(options["run_seconds"], stop.set)
            timer.daemon = True  # a signal may stop the command first
            timer.start()
        self.stdout.write(
            f"tic_read: {service.holder} reading up to {options['capacity']} leased TIC ports"
            " (Ctrl-C stops)"
        )
        service.run(stop)
        stats = service.stats
        self.stdout.write(
            f"tic_read: stopped; {stats.frames} frames, {stats.rows} points, "
            f"{stats.events} events stored; {stats.refused_rows} points refused (lease lost)"
        )
