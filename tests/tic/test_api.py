"""TIC API: meters, state, events, energy; tenant scoping and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from hub import quantities
from tests.api_problems import field_errors
from tests.conftest import Tenant
from tic import api
from tic.ingest import Ingestor
from tic.models import TicMeter, TicPort
from tic.simulator import SimulatedPmePmi

from .conftest import feed

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 3, 29, 8, 0, 3, tzinfo=dt.UTC)


@pytest.fixture
def meter(tic_port: TicPort) -> TicMeter:
    ingestor = Ingestor()
    sim = SimulatedPmePmi(ads="041436028024")
    for second in range(0, 120, 10):
        at = T0 + dt.timedelta(seconds=second)
        period = "HPE" if second < 60 else "HCE"
        feed(ingestor, tic_port, sim.frame(at=at, power_va=40_000, period=period), at)
    ingestor.flush(now=T0 + dt.timedelta(minutes=2))
    return TicMeter.objects.get()


def test_list_and_state(token_client: APIClient, meter: TicMeter) -> None:
    listed = token_client.get("/api/v1/tic/meters/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert row["identifier"] == "041436028024" and row["preavis_active"] is True
    state = token_client.get(f"/api/v1/tic/meters/{meter.pk}/state")
    assert state.status_code == 200
    body = state.json()
    assert body["tariff_periods"] == {"distributeur": "HCE", "fournisseur": "HCE"}
    assert body["preavis"]["active"] is True
    assert body["power"]["subscribed"] == 42_000 and body["power"]["unit"] == "VA"
    assert abs(body["clock_drift_seconds"]) < 1
    assert body["values"]["PREAVIS"] == "DEP"
    assert body["counters"]["valid"] == 12
    series = body["series"]
    assert {
        quantities.index_for("EAP_s").name,
        quantities.APPARENT_POWER_IMPORT.name,
        quantities.SUBSCRIBED_POWER_SHARE.name,
        quantities.CLOCK_DRIFT.name,
    } <= set(series)
    points = token_client.get(
        f"/api/v1/series/{series[quantities.SUBSCRIBED_POWER_SHARE.name]}/points/",
        {"start": "2026-03-29T00:00:00Z", "end": "2026-03-30T00:00:00Z"},
    )
    assert points.status_code == 200 and points.json()["points"]


def test_tariff_changes_through_events(token_client: APIClient, meter: TicMeter) -> None:
    response = token_client.get(f"/api/v1/tic/meters/{meter.pk}/events", {"kind": "tariff_change"})
    assert response.status_code == 200
    changes = response.json()["results"]
    assert {(c["calendar"], c["previous"], c["current"]) for c in changes} == {
        ("distributeur", "HPE", "HCE"),
        ("fournisseur", "HPE", "HCE"),
    }
    preavis = token_client.get(f"/api/v1/tic/meters/{meter.pk}/events", {"kind": "preavis_start"})
    assert [e["kind"] for e in preavis.json()["results"]] == ["preavis_start"]


def test_energy_per_period_on_the_dst_day(
    token_client: APIClient, meter: TicMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api, "_now", lambda: T0)
    response = token_client.get(f"/api/v1/tic/meters/{meter.pk}/energy")
    assert response.status_code == 200
    body = response.json()
    assert body["end"] == "2026-03-30"
    periods = {(r["day"], r["calendar"], r["period"]) for r in body["results"]}
    assert ("2026-03-29", "distributeur", "HPE") in periods
    assert ("2026-03-29", "distributeur", "HCE") in periods


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("energy", {"start": "2026-13-01"}, "start"),
        ("energy", {"start": "2026-03-02", "end": "2026-03-01"}, "end"),
        ("events", {"kind": "nope"}, "kind"),
        ("events", {"start": "yesterday"}, "start"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    token_client: APIClient, meter: TicMeter, path: str, query: dict, field: str
) -> None:
    response = token_client.get(f"/api/v1/tic/meters/{meter.pk}/{path}", query)
    assert field in field_errors(response)


def test_foreign_meter_is_404(meter: TicMeter, foreign: Tenant) -> None:
    from hub.services.tokens import create_token

    token = create_token(organisation=foreign.organisation, name="x").plaintext
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert client.get("/api/v1/tic/meters/").json()["results"] == []
    for path in ("state", "events", "energy"):
        assert client.get(f"/api/v1/tic/meters/{meter.pk}/{path}").status_code == 404


def test_anonymous_is_refused(api_client: APIClient, meter: TicMeter) -> None:
    assert api_client.get(f"/api/v1/tic/meters/{meter.pk}/state").status_code in (401, 403)


def test_the_documented_examples_have_the_answers_shape(
    token_client: APIClient, meter: TicMeter
) -> None:
    """An OpenAPI example names the keys the operation really answers (issue 19.5)."""
    from tests.api_examples import shape_mismatches
    from tic import api_examples

    answers = {
        "meters": (token_client.get("/api/v1/tic/meters/"), [api_examples.METER]),
        "state": (token_client.get(f"/api/v1/tic/meters/{meter.pk}/state"), api_examples.STATE),
        "events": (
            token_client.get(f"/api/v1/tic/meters/{meter.pk}/events"),
            api_examples.EVENTS,
        ),
        "energy": (
            token_client.get(
                f"/api/v1/tic/meters/{meter.pk}/energy",
                {"start": "2026-03-29", "end": "2026-03-30"},
            ),
            api_examples.ENERGY,
        ),
    }
    wrong = {}
    for name, (response, example) in answers.items():
        assert response.status_code == 200, name
        body = response.json()
        if isinstance(example, list):
            # A list answers one page: its items are compared with the documented items.
            assert set(body) == {"count", "next", "previous", "results"}, name
            body = body["results"]
        # The values (not the shape) of a meter's frame and series depend on its family.
        for free in ("values", "series"):
            if isinstance(body, dict) and free in body:
                body[free], example = {}, {**example, free: {}}
        wrong[name] = shape_mismatches(example, body)
    assert wrong == {name: [] for name in answers}
