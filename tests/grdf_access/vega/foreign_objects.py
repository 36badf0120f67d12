"""Another organisation's VEGA objects, for the URL-walking tenant-isolation test."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from grdf_access.vega import calendar, watch
from grdf_access.vega.models import ArrivalSource, Cadence
from tests.conftest import Tenant


def vega_foreign_kwargs(foreign: Tenant) -> dict[str, Any]:
    now = timezone.now()
    sdem = calendar.find_item("SDEM")
    rejj = calendar.find_item("REJJ")
    assert sdem is not None and rejj is not None
    usage = calendar.save_usage(
        organisation=foreign.organisation, item=sdem, version="V14", now=now
    )
    expected = watch.save_expected(
        organisation=foreign.organisation,
        item=rejj,
        cadence=Cadence.DAILY,
        expected_time=dt.time(8),
        now=now,
    )
    arrival = watch.ingest(
        organisation=foreign.organisation,
        name="REJJ_V1_20261026.csv",
        data=b"a;b\n1;2\n",
        source=ArrivalSource.API,
        now=now,
    )
    return {"usage_pk": usage.pk, "expected_pk": expected.pk, "arrival_pk": arrival.pk}
