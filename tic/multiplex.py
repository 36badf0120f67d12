"""One thread reading many TIC ports: it waits on their descriptors and reads what each has.

No Django here. Each port keeps its ``PortReader`` (decoder, rate probing, silence, counters,
what it hands to the sink); the ``Multiplexer`` only replaces the reader's own thread and its
blocking read: ``selectors`` says which ports have bytes, each is read once without blocking
and fed to its reader, and every ``tick`` seconds every reader is fed nothing so that its
probe window and silence are checked, as the 0.1 s read timeout did. A failing port is closed,
reported ``down`` and reopened with the reader's backoff; opening runs in a few threads of its
own, for a ``socket://`` connect may take seconds and must not hold the other ports up.

Reads bypass pyserial's ``read``: pyserial waits with ``select.select``, which refuses
descriptors from 1,024 on (``FD_SETSIZE``), and a reader with thousands of ports has such
descriptors. For the same reason ``socket://`` ports are opened here (``open_socket``), not
by pyserial's ``protocol_socket``, whose ``open`` also calls ``select.select``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import selectors
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import serial
from serial.serialposix import Serial as PosixSerial

from tic.reader import DEFAULT_TIMING, PortReader, SerialLike, Timing, open_serial

logger = logging.getLogger(__name__)


class SocketLink:
    """A ``socket://host:port`` bridge, non-blocking; what the reader needs of a port."""

    def __init__(self, url: str, baud: int, *, connect_timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "socket" or not parts.hostname or parts.port is None:
            raise serial.SerialException(f"not a socket://host:port URL: {url}")
        try:
            self.socket = socket.create_connection(
                (parts.hostname, parts.port), timeout=connect_timeout
            )
        except OSError as exc:
            raise serial.SerialException(f"could not open port {url}: {exc}") from exc
        self.socket.setblocking(False)
        self.baudrate = baud  # the bridge sets the line's rate; kept for the reader's probing

    def fileno(self) -> int:
        return self.socket.fileno()

    def read(self, size: int = 1) -> bytes:
        try:
            chunk = self.socket.recv(size)
        except BlockingIOError:
            return b""
        if not chunk:
            raise serial.SerialException("socket disconnected")
        return chunk

    def close(self) -> None:
        self.socket.close()


def open_port(url: str, baud: int) -> SerialLike:
    """The opener of multiplexed ports: device paths through pyserial, ``socket://`` here."""
    if url.startswith("socket://"):
        return SocketLink(url, baud)
    return open_serial(url, baud, timeout=0)


def multiplexed(url: str) -> bool:
    """Ports with a descriptor to wait on: serial devices and ``socket://`` bridges.

    ``rfc2217://`` (pyserial reads its socket in a thread of its own and parses telnet
    options, so the socket being readable does not mean bytes for the reader), ``loop://``
    and other pyserial URLs keep a thread each."""
    return url.startswith("socket://") or "://" not in url


def _read_now(link: SerialLike) -> Callable[[int], bytes]:
    """Reads what the link has without blocking, once its descriptor is readable."""
    if isinstance(link, SocketLink):
        return link.read
    if isinstance(link, PosixSerial):
        fd = link.fileno()

        def read(size: int) -> bytes:
            try:
                chunk = os.read(fd, size)
            except BlockingIOError:
                return b""
            if not chunk:  # readable and nothing: the device is gone (as pyserial says it)
                raise serial.SerialException(
                    "device reports readiness to read but returned no data"
                )
            return chunk

        return read
    raise serial.SerialException(f"{type(link).__name__} has no descriptor to wait on")


@dataclass(slots=True)
class _Port:
    reader: PortReader
    delay: float
    link: SerialLike | None = None
    read: Callable[[int], bytes] | None = None
    opening: Future[SerialLike] | None = None
    retry_at: float = 0.0
    registered: bool = False


class Multiplexer:
    """Serves ``PortReader`` s from one thread; ``add`` and ``remove`` from any thread."""

    def __init__(
        self,
        *,
        timing: Timing = DEFAULT_TIMING,
        tick: float = 0.2,
        openers: int = 4,
        name: str = "tic-ports",
    ) -> None:
        self.timing = timing
        self.tick = tick
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._commands: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self._ports: dict[int, _Port] = {}
        self._opening = ThreadPoolExecutor(max_workers=openers, thread_name_prefix=f"{name}-open")
        self._closing = False
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def add(self, reader: PortReader) -> None:
        self._command(lambda: self._add(reader))

    def remove(self, port_id: int, *, timeout: float = 5.0) -> None:
        """Stop reading the port; returns once it is closed and reported stopped."""
        done = threading.Event()

        def remove() -> None:
            self._remove(port_id)
            done.set()

        if self._thread.is_alive():  # a dead loop has nothing left to stop
            self._command(remove)
            done.wait(timeout)

    def close(self, *, timeout: float = 5.0) -> None:
        def close() -> None:
            for port_id in list(self._ports):
                self._remove(port_id)
            self._closing = True

        self._command(close)
        self._thread.join(timeout)
        self._opening.shutdown(wait=False, cancel_futures=True)

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def _command(self, command: Callable[[], None]) -> None:
        self._commands.put(command)
        with contextlib.suppress(BlockingIOError):  # full: the loop has wake-ups pending
            self._wake_w.send(b"\0")

    def _loop(self) -> None:
        next_tick = time.monotonic() + self.tick
        try:
            while not self._closing:
                timeout = max(0.0, next_tick - time.monotonic())
                for key, _events in self._selector.select(timeout):
                    if key.data is None:
                        self._run_commands()
                    elif key.data.read is not None:  # not closed by a command of this round
                        self._read(key.data)
                clock = time.monotonic()
                if clock >= next_tick:
                    self._check(clock)
                    next_tick = clock + self.tick
        finally:
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()

    def _run_commands(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except BlockingIOError:
            pass
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            command()

    def _add(self, reader: PortReader) -> None:
        self._ports[reader.port_id] = _Port(reader, delay=self.timing.backoff_start)
        self._open(self._ports[reader.port_id])

    def _open(self, port: _Port) -> None:
        future = self._opening.submit(port.reader.begin)
        port.opening = future
        future.add_done_callback(lambda _done: self._command(lambda: self._opened(port, future)))

    def _check(self, clock: float) -> None:
        """Reopenings due, and each open port's probe window and silence."""
        for port in list(self._ports.values()):
            if port.link is not None:
                self._guarded(port, b"")
            elif port.opening is None and clock >= port.retry_at:
                self._open(port)

    def _opened(self, port: _Port, future: Future[SerialLike]) -> None:
        if port.opening is not future:  # removed meanwhile: ``_remove`` closes what it opened
            return
        port.opening = None
        try:
            link = future.result()
        except Exception as exc:
            self._down(port, exc)
            return
        port.link = link
        try:
            port.read = _read_now(link)
            self._selector.register(link.fileno(), selectors.EVENT_READ, port)  # type: ignore[attr-defined]
        except (serial.SerialException, OSError, ValueError) as exc:
            self._close(port)
            self._down(port, exc)
            return
        port.registered = True

    def _read(self, port: _Port) -> None:
        assert port.read is not None
        try:
            chunk = port.read(self.timing.chunk)
        except (serial.SerialException, OSError) as exc:
            port.reader.cut()
            self._close(port)
            self._down(port, exc)
            return
        self._guarded(port, chunk)

    def _guarded(self, port: _Port, chunk: bytes) -> None:
        try:
            port.reader.feed(chunk)
            if port.reader.seen_valid:
                port.delay = self.timing.backoff_start
        except Exception as exc:  # one port's failure (or a bug) must not stop the others
            if not isinstance(exc, serial.SerialException | OSError):
                logger.exception("tic: reading port %s failed", port.reader.port_id)
            self._close(port)
            self._down(port, exc)

    def _down(self, port: _Port, exc: BaseException) -> None:
        port.reader.down(exc)
        port.retry_at = time.monotonic() + port.delay
        port.delay = min(port.delay * 2, self.timing.backoff_max)

    def _close(self, port: _Port) -> None:
        if port.registered:
            self._selector.unregister(port.link.fileno())  # type: ignore[union-attr]
            port.registered = False
        if port.link is not None:
            try:
                port.link.close()
            except (serial.SerialException, OSError):
                logger.warning("tic: port %s did not close cleanly", port.reader.port_id)
        port.link = port.read = None

    def _remove(self, port_id: int) -> None:
        port = self._ports.pop(port_id, None)
        if port is None:
            return
        if port.opening is not None and not port.opening.cancel():
            # Opening right now: close what it opens, when it has.
            port.opening.add_done_callback(_close_opened)
        port.opening = None
        self._close(port)
        port.reader.stopped()


def _close_opened(future: Future[SerialLike]) -> None:
    if future.cancelled() or future.exception() is not None:
        return
    try:
        future.result().close()
    except (serial.SerialException, OSError):
        logger.warning("tic: a port opened while being stopped did not close cleanly")
