"""``manage.py tic_read`` over ``socket://``: a TCP bridge on 127.0.0.1 serves a meter's frames.

The runner opens ``socket://`` ports itself (``tic.multiplex.SocketLink``), not through
pyserial's handler, which empties its input once connected (``open`` ends with
``reset_input_buffer``) and so dropped what a bridge sent first. The bridge here sends its five
frames as soon as it accepts the connection, and all five must be stored.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading

import pytest
from django.core.management import call_command

from tests.conftest import Tenant
from tic.models import TicMeter, TicPort
from tic.protocol import with_parity
from tic.simulator import linky_standard_frame


def _bridge(frames: list[bytes]) -> tuple[socket.socket, threading.Thread]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def serve() -> None:
        connection, _ = server.accept()
        with connection:
            for frame in frames:
                connection.sendall(frame)
            connection.recv(1)  # hold the line open until the reader goes away

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return server, thread


@pytest.mark.django_db(transaction=True)
def test_tic_read_stores_frames_from_a_socket_port(tenant: Tenant) -> None:
    """The bridge carries the 8-bit bytes of a 7E1 line (parity bit in bit 7, 02E §1.5.1)."""
    at = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)
    frames = [
        with_parity(linky_standard_frame(adsc="061961361253", at=at, east=100 + i))
        for i in range(5)
    ]
    server, _thread = _bridge(frames)
    host, port = server.getsockname()
    TicPort.objects.create(
        organisation=tenant.organisation,
        name="pont",
        url=f"socket://{host}:{port}",
        family="linky-standard",
        baud="9600",
    )
    disabled = TicPort.objects.create(
        organisation=tenant.organisation, name="off", url="/dev/nonexistent", enabled=False
    )
    try:
        call_command("tic_read", run_seconds=6, flush_interval=0.2)
    finally:
        server.close()
    meter = TicMeter.objects.get()
    assert meter.valid == 5 and meter.last_values["EAST"] == "000000104"
    port = TicPort.objects.get(name="pont")
    assert port.state == "stopped" and port.valid == 5
    assert (port.invalid, port.interrupted, port.parity_errors) == (0, 0, 0)
    disabled.refresh_from_db()
    assert disabled.state == "stopped" and disabled.frames == 0  # never opened
