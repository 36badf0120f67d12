"""TIC test fixtures: the real captures in ``tests/fixtures/tic`` (``TIC_FIXTURES`` overrides)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

DEFAULT_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "tic"


def fixtures_dir() -> Path:
    return Path(os.environ.get("TIC_FIXTURES", DEFAULT_FIXTURES))


@pytest.fixture(scope="session")
def tic_fixtures() -> Path:
    path = fixtures_dir()
    if not path.is_dir():
        pytest.fail(f"TIC captures not found in {path} (set TIC_FIXTURES)")
    return path


@pytest.fixture
def tic_port(tenant):  # type: ignore[no-untyped-def]
    from tic.models import TicPort

    return TicPort.objects.create(
        organisation=tenant.organisation, name="TGBT", url="loop://", family="pmepmi"
    )


def feed(ingestor, port, data: bytes, at, baud: int | None = 9600):  # type: ignore[no-untyped-def]
    """Decode ``data`` and hand its frames to ``ingestor`` as received at ``at``."""
    from tic.ingest import Received
    from tic.protocol import TicStreamDecoder

    frames = TicStreamDecoder().feed(data)
    for frame in frames:
        ingestor.handle(Received(port.pk, frame, at, baud))
    return frames


@pytest.fixture(autouse=True)
def public_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Webhook hosts resolve to a public documentation address: no DNS in tests."""
    from hub.http import urlsafety

    monkeypatch.setattr(urlsafety, "system_resolver", lambda host, port: ["93.184.216.34"])
