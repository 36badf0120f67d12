"""Two workers evaluating one site at once never command a load twice (the site's row lock)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from hub.control import services
from hub.control.models import Command, ManualOverride
from tests.conftest import require
from tests.hub.control.conftest import make_building

NOW = dt.datetime(2026, 3, 29, 0, 30, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_concurrent_evaluations_send_one_command_per_load(tenant, building):
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    b = make_building(tenant, building)
    services.evaluate_site(site=b.site, now=NOW)
    for load in b.loads[:2]:
        ManualOverride.objects.create(
            organisation=tenant.organisation,
            load=load,
            value=0,
            reason="essai",
            starts_at=NOW,
            ends_at=NOW + dt.timedelta(hours=1),
            created_by="x",
        )
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(10)
            services.evaluate_site(site=b.site, now=NOW + dt.timedelta(seconds=1))
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    commands = list(Command.objects.order_by("load_id").values_list("load_id", "value"))
    assert commands == [(b.loads[0].pk, 0.0), (b.loads[1].pk, 0.0)]
