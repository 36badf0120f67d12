"""Another organisation's control objects, for the URL-walking tenant-isolation test."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from hub.control.models import ManualOverride
from tests.conftest import Tenant
from tests.hub.control.conftest import make_building


def _ids(foreign: Tenant) -> dict[str, Any]:
    b = make_building(foreign, None, name="Leur site")
    now = timezone.now()
    override = ManualOverride.objects.create(
        organisation=foreign.organisation,
        load=b.loads[0],
        value=0,
        reason="theirs",
        starts_at=now,
        ends_at=now + dt.timedelta(hours=1),
        created_by="them",
    )
    return {
        "pk": b.site.pk,
        "site_id": b.site.pk,
        "load_id": b.loads[0].pk,
        "override_id": override.pk,
    }


def _with_pk(key: str) -> Callable[[Tenant], dict[str, Any]]:
    def factory(foreign: Tenant) -> dict[str, Any]:
        ids = _ids(foreign)
        return {**ids, "pk": ids[key]}

    return factory


# Portal routes name every id ``pk``; the API names them.
FOREIGN_KWARGS: dict[str, Callable[[Tenant], dict[str, Any]]] = {
    "control/sites": _with_pk("site_id"),
    "control/loads": _with_pk("load_id"),
    "control/overrides": _with_pk("override_id"),
}
