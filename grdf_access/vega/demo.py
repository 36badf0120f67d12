"""The demo organisation's VEGA state: three items in use and one expected publication."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from grdf_access.vega import calendar, watch
from grdf_access.vega.models import Cadence, Usage
from hub.models import Organisation

DEMO_USAGES = [("SDEM", "V14"), ("REJJ", "V1"), ("RecupererDonneesPCE", "V16")]


def seed(*, organisation: Organisation, today: dt.date) -> None:
    if Usage.objects.filter(organisation=organisation).exists():
        return  # seeded already: the demo is idempotent
    now = timezone.now()
    for code, version in DEMO_USAGES:
        item = calendar.find_item(code)
        if item is not None:
            calendar.save_usage(organisation=organisation, item=item, version=version, now=now)
    rejj = calendar.find_item("REJJ")
    if rejj is not None:
        watch.save_expected(
            organisation=organisation,
            item=rejj,
            cadence=Cadence.WORKING_DAYS,
            expected_time=dt.time(8, 0),
            now=now,
        )
