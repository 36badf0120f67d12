"""Queries per call on the operator API's hot paths: a bound each, so an N+1 or a lost
select_related fails here instead of in production (NetBox's query-count tests)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flexready.models import Asset, FlexRequest
from hub.models import AuditEvent

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def asset(annex):
    asset = Asset.objects.select_related("bacs").get(bacs=annex[0], asset_id="WholeBuilding")
    asset.power_w, asset.mobilisation_delay_s, asset.max_duration_s = 10**9, 0, 86400
    asset.activations_per_day = 1000
    asset.save()
    asset.periods.all().delete()
    return asset


def _base(asset: Asset) -> str:
    return (
        f"/api/v1/operator/bacs/{asset.bacs.bacs_id}/assets/{asset.asset_id}/flexibilities/request"
    )


def _power(hour: int = 0) -> list[dict[str, object]]:
    start = START + dt.timedelta(hours=hour)
    return [
        {
            "power": {"unit": "W", "multiplier": "k", "value": 50.0},
            "start": start.isoformat(),
            "end": (start + dt.timedelta(minutes=30)).isoformat(),
        }
    ]


def _inserts_into(queries: CaptureQueriesContext, table: str) -> int:
    return sum(f'INSERT INTO "{table}"' in q["sql"] for q in queries.captured_queries)


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """What the call sent, but the savepoints the test's own transaction turns BEGIN and COMMIT
    into (in production: a BEGIN and a COMMIT, not counted by Django)."""
    return [
        q["sql"]
        for q in queries.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def test_ping_is_one_query(jwt_client, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert jwt_client.get("/api/v1/flexready/ping").status_code == 200


def test_create_is_three_statements_in_one_transaction(jwt_client, asset, clock):
    """The operator's organisation (from the JWT's identity) with the asset, its BACS and
    periods, locked; then, under the lock, the day's count and the requestID check (sent in
    the same round trip, a pipeline); the request and both its audit events in one statement.
    One transaction (here, the test's savepoint)."""
    body = {"requestID": "q-1", "flexProduct": asset.flex_product, "power": _power()}
    with CaptureQueriesContext(connection) as queries:
        response = jwt_client.post(_base(asset), body, format="json")
    assert response.status_code == 201, response.content
    statements = _statements(queries)
    # The one-statement reads and writes are PostgreSQL's; SQLite takes the ORM's.
    if connection.vendor == "postgresql":
        assert len(queries) == 5, queries.captured_queries
        assert len(statements) == 3, statements
        assert '"flexready_operatoridentity"' in statements[0]
        assert statements[0].endswith("FOR NO KEY UPDATE OF a")
        assert "count(*)" in statements[1]
        assert 'INSERT INTO "flexready_flexrequest"' in statements[-1]
        assert 'INSERT INTO "hub_auditevent"' in statements[-1]
    request = FlexRequest.objects.get(request_id="q-1")
    events = AuditEvent.objects.filter(object_id=str(request.pk)).order_by("pk")
    assert list(events.values_list("action", flat=True)) == [
        "flexready.request.received",
        "flexready.request.accepted",
    ]
    assert {e.object_repr for e in events} == {str(request)}


def test_create_locks_the_asset_row_only_without_blocking_its_references(jwt_client, asset, clock):
    """Lock only what must be locked: FOR NO KEY UPDATE of the asset's row alone (the BACS it
    is read with stays unlocked)."""
    body = {"requestID": "q-lock", "flexProduct": asset.flex_product, "power": _power()}
    with CaptureQueriesContext(connection) as queries:
        assert jwt_client.post(_base(asset), body, format="json").status_code == 201
    locking = [q["sql"] for q in queries.captured_queries if " FOR " in q["sql"]]
    if connection.vendor == "postgresql":
        assert len(locking) == 1
        assert locking[0].endswith("FOR NO KEY UPDATE OF a")
        assert ' "flexready_asset" a ' in locking[0]


def test_a_duplicate_request_id_is_still_a_409(jwt_client, asset, clock):
    body = {"requestID": "dup", "flexProduct": asset.flex_product, "power": _power()}
    assert jwt_client.post(_base(asset), body, format="json").status_code == 201
    again = jwt_client.post(_base(asset), {**body, "power": _power(3)}, format="json")
    assert again.status_code == 409
    assert FlexRequest.objects.filter(request_id="dup").count() == 1


def test_confirm_is_two_statements_without_a_transaction_of_its_own(jwt_client, asset, clock):
    """The request with its asset, periods, the day's count and the operator's organisation
    (from the JWT's identity); one conditional UPDATE (its own row lock: no SELECT ... FOR
    UPDATE before it) with its audit event in the same statement, which commits on its own:
    no BEGIN, no COMMIT, no savepoint."""
    body = {"requestID": "q-2", "flexProduct": asset.flex_product, "power": _power()}
    assert jwt_client.post(_base(asset), body, format="json").status_code == 201
    confirm = {
        "flexProduct": asset.flex_product,
        "power": _power(),
        "ackPrice": {"unit": "EUR/MWh", "value": 100},
    }
    with CaptureQueriesContext(connection) as queries:
        response = jwt_client.post(f"{_base(asset)}/q-2/confirm", confirm, format="json")
    assert response.status_code == 200, response.content
    if connection.vendor == "postgresql":
        assert len(queries) == 2, queries.captured_queries
        assert '"flexready_operatoridentity"' in queries.captured_queries[0]["sql"]
        assert not [q["sql"] for q in queries.captured_queries if " FOR " in q["sql"]]
    assert _inserts_into(queries, "hub_auditevent") == 1
    request = FlexRequest.objects.get(request_id="q-2")
    assert request.status == "confirmed"
    events = AuditEvent.objects.filter(object_id=str(request.pk)).order_by("pk")
    assert list(events.values_list("action", flat=True))[-1] == "flexready.request.confirmed"


def test_a_confirmation_on_a_copy_that_moved_on_is_refused_and_confirms_once(
    jwt_client, asset, clock
):
    """The lifecycle's rule: only an accepted request is confirmed, once. A copy read before
    another confirmation landed must end as WrongState, with one "confirmed" event."""
    from flexready import program as prog
    from flexready import services

    body = {"requestID": "q-race", "flexProduct": asset.flex_product, "power": _power()}
    assert jwt_client.post(_base(asset), body, format="json").status_code == 201
    stale = FlexRequest.objects.select_related("asset__bacs__organisation").get(request_id="q-race")
    steps = prog.parse_program(_power())
    caller = services.Caller("test")
    confirm = {
        "flexProduct": asset.flex_product,
        "power": _power(),
        "ackPrice": {"unit": "EUR/MWh", "value": 100},
    }
    assert (
        jwt_client.post(f"{_base(asset)}/q-race/confirm", confirm, format="json").status_code == 200
    )
    assert stale.status == "accepted"
    with pytest.raises(services.WrongState) as raised:
        services.confirm_request(
            request=stale,
            flex_product=asset.flex_product,
            steps=steps,
            ack_price=None,
            now=START - dt.timedelta(days=1),
            caller=caller,
        )
    assert raised.value.status == "confirmed"
    events = AuditEvent.objects.filter(
        object_id=str(stale.pk), action="flexready.request.confirmed"
    )
    assert events.count() == 1
    assert FlexRequest.objects.get(pk=stale.pk).ack_price is not None  # the first one's


def test_request_detail_and_lists_do_not_grow_with_rows(
    jwt_client, asset, clock, django_assert_max_num_queries
):
    for i in range(5):
        body = {"requestID": f"n-{i}", "flexProduct": asset.flex_product, "power": _power(i)}
        assert jwt_client.post(_base(asset), body, format="json").status_code == 201
    with django_assert_max_num_queries(3):
        assert jwt_client.get(f"{_base(asset)}/n-0").status_code == 200
    bacs = asset.bacs.bacs_id
    with django_assert_max_num_queries(4):
        assert jwt_client.get(f"/api/v1/bacs/{bacs}/assets").status_code == 200
    with django_assert_max_num_queries(2):
        assert jwt_client.get("/api/v1/bacs").status_code == 200
