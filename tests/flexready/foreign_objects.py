"""Another organisation's Flex Ready objects, for the URL-walking tenant-isolation test."""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from flexready.demo import BACS_1, load_annex_data_set
from flexready.journal import session_for
from flexready.models import Asset, FlexRequest
from tests.conftest import Tenant


def _session(foreign: Tenant) -> dict[str, Any]:
    session = session_for(
        organisation=foreign.organisation,
        session_id="their-session",
        now=timezone.now(),
        created_by="test",
    )
    return {"session_id": session.session_id}


def _request(foreign: Tenant) -> FlexRequest:
    load_annex_data_set(organisation=foreign.organisation, metering_point=foreign.point)
    asset = Asset.objects.get(bacs__organisation=foreign.organisation, bacs__bacs_id=BACS_1)
    start = dt.datetime(2025, 4, 2, 10, 0, tzinfo=dt.UTC)
    return FlexRequest.objects.create(
        asset=asset,
        request_id="theirs",
        flex_product="WID",
        program=[],
        start=start,
        end=start + dt.timedelta(minutes=2),
        status="accepted",
        received_at=start,
    )


def _bacs_route(foreign: Tenant) -> dict[str, Any]:
    request = _request(foreign)
    return {
        **_session(foreign),
        "bacs_id": request.asset.bacs.bacs_id,
        "asset_id": request.asset.asset_id,
        "request_id": request.request_id,
    }


# A certification session id is a name in the caller's own namespace: another organisation's
# answers as one never used (its own session made on first use), not with a 404.
CALLER_SCOPED = ("session_id",)

FOREIGN_KWARGS: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "bacs/<seg:bacs_id>": _bacs_route,
    "<seg:session_id>": _session,
    "flexready/assets": lambda f: {"pk": _request(f).asset.pk},
    "flexready/requests": lambda f: {"pk": _request(f).pk},
}

# The signals' routes (flexready/market) keep their factories beside their tests.
try:
    _market = importlib.import_module("tests.flexready.market.foreign_objects")
except ModuleNotFoundError:
    pass
else:
    FOREIGN_KWARGS.update(_market.FOREIGN_KWARGS)
