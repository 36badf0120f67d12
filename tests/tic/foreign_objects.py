"""Another organisation's TIC meter, for the URL-walking tenant-isolation test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hub.models import MeteringPoint
from tests.conftest import Tenant
from tic.models import TicMeter, TicPort


def _tic_meter(foreign: Tenant) -> dict[str, Any]:
    port = TicPort.objects.create(organisation=foreign.organisation, name="theirs", url="loop://")
    point = MeteringPoint.objects.create(
        organisation=foreign.organisation, kind="tic_meter", identifier="041436028099"
    )
    meter = TicMeter.objects.create(
        organisation=foreign.organisation,
        port=port,
        metering_point=point,
        identifier="041436028099",
        family="pmepmi",
    )
    return {"pk": meter.pk}


FOREIGN_KWARGS: dict[str, Callable[[Tenant], dict[str, Any]]] = {"tic/meters": _tic_meter}
