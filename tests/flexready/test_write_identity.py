"""An operator's create and confirm resolve its JWT's organisation in their own first statement:
the answers are those of a separate lookup (403 unmapped, 404 out of its organisation, the
exact subject before the issuer-wide row), and the ping still looks it up on its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from flexready.demo import load_annex_data_set
from flexready.models import Asset, FlexRequest, OperatorIdentity
from hub.models import AuditEvent
from hub.services.tokens import create_token
from tests.flexready.conftest import ISSUER, make_jwt
from tests.flexready.test_auth import BACS_1, bearer

START = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
BASE = f"/api/v1/operator/bacs/{BACS_1}/assets/WholeBuilding/flexibilities/request"


def _open(organisation: Any) -> None:
    """The annex's asset of ``organisation``, with room for any request."""
    Asset.objects.filter(bacs__organisation=organisation).update(
        power_w=10**9, mobilisation_delay_s=0, max_duration_s=86400, activations_per_day=1000
    )
    for asset in Asset.objects.filter(bacs__organisation=organisation):
        asset.periods.all().delete()


def _create(request_id: str) -> dict[str, Any]:
    end = START + dt.timedelta(minutes=30)
    power = {"unit": "W", "multiplier": "k", "value": 50.0}
    return {
        "requestID": request_id,
        "flexProduct": "WID",
        "power": [{"power": power, "start": START.isoformat(), "end": end.isoformat()}],
    }


def _confirm(request_id: str) -> dict[str, Any]:
    body = _create(request_id)
    del body["requestID"]
    return {**body, "ackPrice": {"unit": "EUR/MWh", "value": 100}}


@pytest.fixture
def annexed(tenant: Any) -> Any:
    load_annex_data_set(organisation=tenant.organisation, metering_point=tenant.point)
    _open(tenant.organisation)
    return tenant


@pytest.mark.usefixtures("clock")
def test_an_unmapped_operator_is_403_on_create_and_confirm_and_nothing_is_stored(
    annexed: Any,
) -> None:
    client = bearer(make_jwt())
    assert client.post(BASE, _create("u-1"), format="json").status_code == 403
    assert client.post(BASE, {"requestID": ""}, format="json").status_code == 403  # bad body
    assert client.post(f"{BASE}/u-1/confirm", _confirm("u-1"), format="json").status_code == 403
    assert client.post(f"{BASE}/u-1/confirm", {}, format="json").status_code == 403
    assert not FlexRequest.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="flexready.request").exists()


@pytest.mark.usefixtures("clock")
def test_an_operator_of_another_organisation_gets_404(annexed: Any, foreign: Any) -> None:
    OperatorIdentity.objects.create(organisation=foreign.organisation, issuer=ISSUER, subject="")
    client = bearer(make_jwt())
    assert client.post(BASE, _create("f-1"), format="json").status_code == 404
    mine = bearer(create_token(organisation=annexed.organisation, name="t").plaintext)
    assert mine.post(BASE, _create("f-2"), format="json").status_code == 201
    assert client.post(f"{BASE}/f-2/confirm", _confirm("f-2"), format="json").status_code == 404
    assert FlexRequest.objects.get().status == "accepted"


@pytest.mark.usefixtures("clock")
def test_the_exact_subject_wins_over_the_issuer_wide_row(annexed: Any, foreign: Any) -> None:
    load_annex_data_set(organisation=foreign.organisation)
    _open(foreign.organisation)
    OperatorIdentity.objects.create(organisation=annexed.organisation, issuer=ISSUER, subject="")
    OperatorIdentity.objects.create(
        organisation=foreign.organisation, issuer=ISSUER, subject="rival-operator"
    )
    rival, ours = bearer(make_jwt(subject="rival-operator")), bearer(make_jwt(subject="someone"))
    # The same BACS and asset ids in both organisations: each lands in its own.
    assert rival.post(BASE, _create("r-1"), format="json").status_code == 201
    assert ours.post(BASE, _create("o-1"), format="json").status_code == 201
    assert rival.post(f"{BASE}/o-1/confirm", _confirm("o-1"), format="json").status_code == 404
    assert rival.post(f"{BASE}/r-1/confirm", _confirm("r-1"), format="json").status_code == 200
    placed = {
        r.request_id: (r.asset.bacs.organisation_id, r.status)
        for r in FlexRequest.objects.select_related("asset__bacs")
    }
    assert placed == {
        "r-1": (foreign.organisation.pk, "confirmed"),
        "o-1": (annexed.organisation.pk, "accepted"),
    }
    events = AuditEvent.objects.filter(action__startswith="flexready.request")
    assert {(e.object_id, e.organisation_id) for e in events} == {
        (str(FlexRequest.objects.get(request_id="r-1").pk), foreign.organisation.pk),
        (str(FlexRequest.objects.get(request_id="o-1").pk), annexed.organisation.pk),
    }


@pytest.mark.usefixtures("clock")
def test_a_journalled_write_still_looks_its_operator_up_first(annexed: Any) -> None:
    OperatorIdentity.objects.create(organisation=annexed.organisation, issuer=ISSUER, subject="")
    client = bearer(make_jwt())
    url = f"/api/v1/s-1{BASE[len('/api/v1') :]}"
    assert client.post(url, _create("j-1"), format="json").status_code == 201
    assert FlexRequest.objects.get().session.session_id == "s-1"


def test_the_ping_still_looks_the_operator_up(annexed: Any, django_assert_num_queries) -> None:
    client = bearer(make_jwt())
    with django_assert_num_queries(1):
        assert client.get("/api/v1/flexready/ping").status_code == 403
    OperatorIdentity.objects.create(organisation=annexed.organisation, issuer=ISSUER, subject="")
    with django_assert_num_queries(1):
        assert client.get("/api/v1/flexready/ping").json()["organisation"] == "acme"


@pytest.mark.usefixtures("clock")
def test_the_hot_statements_are_prepared(annexed: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    OperatorIdentity.objects.create(organisation=annexed.organisation, issuer=ISSUER, subject="")
    client = bearer(make_jwt())
    assert client.post(BASE, _create("p-1"), format="json").status_code == 201
    assert client.post(f"{BASE}/p-1/confirm", _confirm("p-1"), format="json").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert sum("FOR NO KEY UPDATE OF a" in s for s in statements) == 1
    assert sum('INSERT INTO "flexready_flexrequest"' in s for s in statements) == 1
    assert sum('UPDATE "flexready_flexrequest"' in s for s in statements) == 1
    assert sum('"flexready_operatoridentity"' in s and "r.request_id" in s for s in statements) == 1
