"""Another organisation's supplier-signal feed, for the URL-walking tenant-isolation test."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flexready.market.services.supplier import follow_delivery_point
from tests.conftest import Tenant


def _feed_session(foreign: Tenant) -> dict[str, Any]:
    feed = follow_delivery_point(
        organisation=foreign.organisation,
        delivery_point=foreign.point.identifier,
        session_id="theirs",
    )
    return {"session_id": feed.session_id}


FOREIGN_KWARGS: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "cems/commodity": _feed_session,
}
