"""The runner behind ``manage.py tic_read``: one thread reading the leased ports, one writer.

Serial devices and ``socket://`` bridges are read by one thread waiting on all their descriptors
(``tic.multiplex``); other pyserial URLs (``rfc2217://``, ``loop://``) and the ports of a custom
opener get a thread each. Reading threads only read and decode; the calling thread drains their
queue into an ``Ingestor`` and, every ``flush_interval`` seconds, hands what is due to one
writer thread, so that computing and writing overlap (the writer mostly waits on PostgreSQL) and
what is stored is at most about one second behind the wire. The hand-over queue is short: a
database slower than the wire slows the handling down instead of filling memory. The enabled
ports are looked up again every ``reload_interval`` seconds, with the port leases
(``tic.leases``): the reader renews its leases, takes free or expired ports up to ``capacity``
and reads only the ports it holds, so readers on several hosts share the ports and take over
those of a reader that died. A port added, changed or disabled in the admin is picked up without
a restart. One port's failure stays that port's.

Every batch carries the generation of each lease the reader holds (the fencing token), checked
in the batch's transaction: a port whose lease another reader took meanwhile (this one was cut
off from the database or paused past the lease's expiry) has its part of the batch refused, and
its reading stops at once, not at the next lease pass. A port whose lease was lost, or taken
again at a new generation, is read afresh: what was kept of its meters in memory is dropped and
restored from the database, as on a takeover.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import DatabaseError, close_old_connections, connections

from tic import leases
from tic.ingest import Batch, FlushStats, Ingestor, LineCounts, PortStatus, Received
from tic.models import TicPort
from tic.multiplex import Multiplexer, multiplexed, open_port
from tic.reader import DEFAULT_TIMING, Opener, PortReader, Timing, open_serial

logger = logging.getLogger(__name__)
# Items handed to the ingestor at once: a chunk's new meters are made in a few statements.
DRAIN_CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class _Config:
    url: str
    family: str
    baud: int | None
    parity: bool


@dataclass(slots=True)
class _Running:
    config: _Config
    stop: threading.Event
    thread: threading.Thread | None  # None: read by the multiplexer


def _config(port: TicPort) -> _Config:
    baud = None if port.baud == "auto" else int(port.baud)
    return _Config(port.url, port.family, baud, port.check_parity)


class ReaderService:
    def __init__(
        self,
        *,
        ingestor: Ingestor,
        opener: Opener = open_serial,
        timing: Timing = DEFAULT_TIMING,
        flush_interval: float = 0.5,
        reload_interval: float = leases.DEFAULT_INTERVAL,
        port_ids: Iterable[int] | None = None,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        holder: str | None = None,
        capacity: int = 10_000,
        lease_ttl: dt.timedelta = leases.DEFAULT_TTL,
    ) -> None:
        self.ingestor = ingestor
        self.opener = opener
        self.timing = timing
        self.flush_interval = flush_interval
        self.reload_interval = reload_interval
        self.port_ids = set(port_ids) if port_ids is not None else None
        self.now = now
        self.holder = holder or leases.reader_id()
        self.capacity = capacity
        self.lease_ttl = lease_ttl
        self._renewed_at = time.monotonic()
        self.generations: dict[int, int] = {}  # the leases held: port → generation
        self._lost: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        self.queue: queue.SimpleQueue[Received | PortStatus | LineCounts] = queue.SimpleQueue()
        self.running: dict[int, _Running] = {}
        self.multiplexer: Multiplexer | None = None
        self.stats = FlushStats()

    def run(self, stop: threading.Event) -> None:
        next_reload = 0.0
        next_flush = time.monotonic() + self.flush_interval
        batches: queue.Queue[Batch | None] = queue.Queue(maxsize=2)
        writer = threading.Thread(target=self._write, args=(batches,), name="tic-writer")
        writer.start()
        try:
            while not stop.is_set():
                clock = time.monotonic()
                if clock >= next_reload:
                    self._reload()
                    next_reload = clock + self.reload_interval
                self._drain(timeout=max(0.0, next_flush - time.monotonic()), until=next_flush)
                self._drop_lost()
                if time.monotonic() >= next_flush:
                    batches.put(self.ingestor.collect(now=self.now()))
                    next_flush = time.monotonic() + self.flush_interval
        finally:
            self._stop_all()
            self._drain(timeout=0)
            batches.put(self.ingestor.collect(now=self.now(), final=True))
            batches.put(None)
            writer.join()
            self._release()

    def _write(self, batches: queue.Queue[Batch | None]) -> None:
        try:
            while (batch := batches.get()) is not None:
                stats = self.ingestor.write(batch)
                self.stats.rows += stats.rows
                self.stats.frames += stats.frames
                self.stats.events += stats.events
                self.stats.refused_rows += stats.refused_rows
                for lost in stats.lost.items():
                    self._lost.put(lost)
        finally:
            # The thread ends: its connections go with it. close_old_connections() would keep
            # a healthy one (CONN_MAX_AGE), left open until the garbage collector frees it.
            connections.close_all()

    def _drain(self, *, timeout: float, until: float | None = None) -> None:
        """Handle what is queued, in chunks (the meters and series first seen in a chunk are
        made together), until the queue is empty or, given ``until``, the flush is due: a long
        queue (thousands of meters connecting at once) must not hold the next batch back."""
        try:
            item = self.queue.get(timeout=timeout) if timeout > 0 else self.queue.get_nowait()
        except queue.Empty:
            return
        chunk = [item]
        while True:
            try:
                while len(chunk) < DRAIN_CHUNK:
                    chunk.append(self.queue.get_nowait())
            except queue.Empty:
                self.ingestor.handle_many(chunk)
                return
            self.ingestor.handle_many(chunk)
            chunk = []
            if until is not None and time.monotonic() >= until:
                return

    def _drop_lost(self) -> None:
        """Stop reading the ports whose batches were refused for a lost lease."""
        while True:
            try:
                port_id, generation = self._lost.get_nowait()
            except queue.Empty:
                return
            if self.generations.get(port_id) != generation:
                continue  # a refused batch of an earlier lease: the port was re-read since
            self._stop(port_id)
            del self.generations[port_id]
            self.ingestor.lost(port_id, generation)

    def _stop(self, port_id: int) -> None:
        running = self.running.pop(port_id, None)
        if running is None:
            return
        running.stop.set()
        if running.thread is not None:
            running.thread.join(timeout=5)
        elif self.multiplexer is not None:
            self.multiplexer.remove(port_id)

    def _reload(self) -> None:
        try:
            held = leases.renew_and_claim(
                holder=self.holder,
                capacity=self.capacity,
                now=self.now(),
                ttl=self.lease_ttl,
                port_ids=self.port_ids,
            )
            wanted = {port.pk: _config(port) for port in TicPort.objects.filter(pk__in=held)}
            held = {pk: generation for pk, generation in held.items() if pk in wanted}
        except DatabaseError:
            logger.exception("tic: leases not renewed (database unavailable)")
            close_old_connections()
            if time.monotonic() - self._renewed_at < self.lease_ttl.total_seconds():
                return
            # Our leases have expired: another reader may hold these ports by now.
            logger.warning("tic: leases expired, reading stops until the database answers")
            wanted = {}
        else:
            self._renewed_at = time.monotonic()
            # A lease lost, or lost and taken again: another reader may have stored data of
            # the port meanwhile, so its meters' memory is stale.
            changed = {pk for pk, g in self.generations.items() if held.get(pk) != g}
            for pk in changed:
                self._stop(pk)
                self.ingestor.forget(pk)
                if pk not in held:
                    logger.info("tic: port %s no longer leased, reading stops", pk)
            self.generations = held
            self.ingestor.lease(holder=self.holder, generations=held)
        for pk, running in list(self.running.items()):
            if wanted.get(pk) != running.config or not self._alive(running):
                self._stop(pk)
        for pk, config in wanted.items():
            if pk not in self.running:
                self._start(pk, config)

    def _alive(self, running: _Running) -> bool:
        if running.thread is not None:
            return running.thread.is_alive()
        return self.multiplexer is not None and self.multiplexer.is_alive()

    def _start(self, port_id: int, config: _Config) -> None:
        stop = threading.Event()
        # The multiplexer reads what it knows the descriptor of: pyserial's devices and
        # sockets, opened by ``open_port``; a custom opener's ports keep a thread each.
        shared = self.opener is open_serial and multiplexed(config.url)
        reader = PortReader(
            port_id=port_id,
            url=config.url,
            family=config.family,
            baud=config.baud,
            opener=open_port if shared else self.opener,
            sink=self.queue.put,
            stop=stop,
            timing=self.timing,
            now=self.now,
            parity=config.parity,
        )
        if shared:
            if self.multiplexer is None or not self.multiplexer.is_alive():
                self.multiplexer = Multiplexer(timing=self.timing)
            self.multiplexer.add(reader)
            self.running[port_id] = _Running(config, stop, None)
            logger.info("tic: reading port %s (%s)", port_id, config.url)
            return
        thread = threading.Thread(target=self._guarded, args=(reader,), name=f"tic-port-{port_id}")
        thread.daemon = True
        thread.start()
        self.running[port_id] = _Running(config, stop, thread)
        logger.info("tic: reading port %s (%s)", port_id, config.url)

    @staticmethod
    def _guarded(reader: PortReader) -> None:
        try:
            reader.run()
        except Exception:  # a bug in one port's thread must not stop the others
            logger.exception("tic: reader of port %s stopped", reader.port_id)

    def _release(self) -> None:
        try:
            leases.release(holder=self.holder)
        except DatabaseError:  # they expire on their own
            logger.warning("tic: leases of %s not released", self.holder)

    def _stop_all(self) -> None:
        for running in self.running.values():
            running.stop.set()
        for running in self.running.values():
            if running.thread is not None:
                running.thread.join(timeout=5)
        if self.multiplexer is not None:
            self.multiplexer.close()
            self.multiplexer = None
        self.running.clear()
