"""Two creates on one asset with one activation left: the second waits for the first's lock,
then counts what the first committed and is refused (PostgreSQL's row lock)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, connections

from flexready import program as prog
from flexready import selectors, services
from flexready.models import Asset, FlexRequest, OperatorIdentity
from tests.conftest import require
from tests.flexready.conftest import ISSUER

START = dt.datetime(2030, 1, 1, 9, tzinfo=dt.UTC)


def _steps(hour: int) -> list[prog.ProgramStep]:
    start = START + dt.timedelta(hours=hour)
    return [prog.ProgramStep(start, start + dt.timedelta(minutes=30), prog.Decimal(50_000))]


def _waiting_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            # The test's database is its own: a backend waiting on a lock is the second create.
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return bool(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_the_second_create_counts_the_first_once_it_holds_the_lock(
    annex: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(connection.vendor == "postgresql", "row locks need PostgreSQL")
    asset = Asset.objects.select_related("bacs__organisation").get(
        bacs=annex[0], asset_id="WholeBuilding"
    )
    Asset.objects.filter(pk=asset.pk).update(
        power_w=10**9, mobilisation_delay_s=0, max_duration_s=86400, activations_per_day=1
    )
    asset.periods.all().delete()
    organisation = asset.bacs.organisation
    OperatorIdentity.objects.filter(issuer=ISSUER).delete()
    OperatorIdentity.objects.create(organisation=organisation, issuer=ISSUER, subject="")
    key = selectors.AssetKey(selectors.Operator(ISSUER, "op"), asset.bacs.bacs_id, asset.asset_id)

    # The first create stops under its lock until the second is seen waiting for it.
    first_locked, go_on = threading.Event(), threading.Event()
    real_check = prog.check

    def check_then_wait(**kwargs: Any) -> list[prog.Reason]:
        if threading.current_thread().name.endswith("first"):
            first_locked.set()
            assert go_on.wait(timeout=30)
        return real_check(**kwargs)

    monkeypatch.setattr(prog, "check", check_then_wait)

    def create(request_id: str, hour: int) -> services.Outcome:
        threading.current_thread().name = f"create-{request_id}"
        try:
            return services.create_request(
                asset=key,
                request_id=request_id,
                flex_product="WID",
                steps=_steps(hour),
                now=START - dt.timedelta(days=1),
                caller=services.Caller("test"),
            )
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(create, "first", 0)
        assert first_locked.wait(timeout=30)
        second = pool.submit(create, "second", 1)
        deadline = time.monotonic() + 30
        while not _waiting_on_a_lock():
            assert not second.done(), second.exception()
            assert time.monotonic() < deadline, "the second create never waited for the lock"
        go_on.set()
        outcomes = first.result(timeout=30), second.result(timeout=30)

    assert [o.refused for o in outcomes] == [False, True]
    assert [r.code for r in outcomes[1].reasons] == ["activations_per_day"]
    assert dict(FlexRequest.objects.values_list("request_id", "status")) == {
        "first": "accepted",
        "second": "refused",
    }
