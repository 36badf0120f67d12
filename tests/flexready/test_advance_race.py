"""Two advancers of one request at once (beat and a reader): one move, one audit event each."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from flexready import realisation, services
from flexready.models import Asset, FlexRequest, RequestStatus
from hub.models import AuditEvent
from tests.conftest import require
from tests.flexready.conftest import hourly_curve, paris
from tests.flexready.test_realisation import make_request, shape


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_advancers_move_and_audit_once(
    annex: Any, tenant: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beat's task and a GET of the request both call ``advance`` on an ended, confirmed
    request: the row is locked like ``confirm_request`` locks it, so it goes active and then
    realised or failed once, with one audit event per step."""
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    asset = Asset.objects.get(bacs__bacs_id=annex[0].bacs_id, asset_id="WholeBuilding")
    day = dt.date(2026, 6, 12)
    hourly_curve(tenant.point, first=day - dt.timedelta(days=10), last=day, watts=shape)
    start = paris(2026, 6, 12, 12)
    request = make_request(asset, start, start + dt.timedelta(hours=1))
    now = start + dt.timedelta(hours=2)

    # Both advancers meet inside the realisation when nothing serialises them; with the row
    # lock the second waits for the first, the meeting never happens and the first goes on.
    meeting = threading.Barrier(2)
    real_realise = realisation.realise

    def realise_meeting(**kwargs: Any) -> realisation.Realisation:
        with contextlib.suppress(threading.BrokenBarrierError):
            meeting.wait(timeout=2)
        return real_realise(**kwargs)

    monkeypatch.setattr(realisation, "realise", realise_meeting)
    start_together = threading.Barrier(2)

    def advance(label: str) -> str:
        try:
            own = FlexRequest.objects.get(pk=request.pk)  # each its own stale copy
            start_together.wait()
            return services.advance(request=own, now=now, caller=services.Caller(label)).status
        finally:
            connections.close_all()  # each thread has its own connection

    with ThreadPoolExecutor(2) as pool:
        statuses = list(pool.map(advance, ["flexready.tasks", "reader"]))

    request.refresh_from_db()
    assert request.status in (RequestStatus.REALISED, RequestStatus.FAILED)
    assert statuses == [request.status, request.status]
    actions = list(
        AuditEvent.objects.filter(object_id=str(request.pk)).values_list("action", flat=True)
    )
    assert sorted(actions) == sorted(
        ["flexready.request.active", f"flexready.request.{request.status}"]
    )
