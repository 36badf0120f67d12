"""Another organisation's GRDF objects, for the URL-walking tenant-isolation test.

``tests/test_tenant_isolation.py`` maps a route fragment to a factory of foreign ids; every
GRDF route (API and portal) takes its ids from the one below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from grdf_access.models import AccessRight, RightState, Role, Subscription, Threshold
from grdf_access.services import ensure_pce
from tests.conftest import Tenant
from tests.grdf_access.vega.foreign_objects import vega_foreign_kwargs


def grdf_foreign_kwargs(foreign: Tenant) -> dict[str, Any]:
    pce = ensure_pce(organisation=foreign.organisation, identifier="GI900001")
    right = AccessRight.objects.create(
        organisation=foreign.organisation,
        pce=pce,
        grdf_id="foreign-right",
        role=Role.AUTHORISED,
        holder_company="Rival SA",
        postcode="75011",
        consent_start=dt.date(2026, 1, 1),
        consent_end=dt.date(2027, 1, 1),
        data_start=dt.date(2026, 1, 1),
        data_end=dt.date(2027, 1, 1),
        published=True,
        state=RightState.ACTIVE,
    )
    threshold = Threshold.objects.create(
        organisation=foreign.organisation, pce=pce, frequency="daily", value_kwh=10
    )
    subscription = Subscription.objects.create(
        organisation=foreign.organisation, pce=pce, kind="TJDC", start=dt.date(2026, 1, 1)
    )
    return {
        "pce": pce.identifier,
        "right_pk": right.pk,
        "threshold_pk": threshold.pk,
        "subscription_pk": subscription.pk,
    }


# The VEGA routes (grdf/vega/…) take their ids from the sub-package's own factory.
FOREIGN_KWARGS = {"grdf": grdf_foreign_kwargs, "vega/": vega_foreign_kwargs}
