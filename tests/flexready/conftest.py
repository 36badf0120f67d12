"""Flex Ready fixtures: the annex data set in the tenant's organisation, JWTs, a pinned clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import jwt
import pytest
from rest_framework.test import APIClient

from flexready import api
from flexready.demo import load_annex_data_set
from flexready.models import Bacs, OperatorIdentity
from hub.clock import PARIS
from tests.conftest import Tenant

TEST_SECRET = "flexready-test-secret-0123456789abcdef"
ISSUER = "https://idp.flexready.test"


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=PARIS).astimezone(dt.UTC)


@pytest.fixture(autouse=True)
def flexready_settings(settings: Any) -> None:
    settings.FLEXREADY_JWT_HS256_SECRET = TEST_SECRET
    settings.FLEXREADY_JWT_ISSUER = ISSUER
    settings.FLEXREADY_JWT_AUDIENCE = ""
    settings.FLEXREADY_JWT_JWKS_URL = ""
    settings.FLEXREADY_ANONYMOUS_READ_ORGANISATION = ""
    settings.FLEXREADY_BASELINE_DAYS = 5
    settings.FLEXREADY_BASELINE_LOOKBACK_DAYS = 30


@pytest.fixture
def annex(tenant: Tenant) -> list[Bacs]:
    OperatorIdentity.objects.create(organisation=tenant.organisation, issuer=ISSUER, subject="")
    return load_annex_data_set(organisation=tenant.organisation, metering_point=tenant.point)


def make_jwt(
    *,
    subject: str = "aggregator-1",
    issuer: str = ISSUER,
    secret: str = TEST_SECRET,
    expires_in: dt.timedelta = dt.timedelta(hours=1),
    now: dt.datetime | None = None,
) -> str:
    now = now or dt.datetime.now(dt.UTC)
    claims = {
        "iss": issuer,
        "sub": subject,
        "iat": int(now.timestamp()),
        "exp": int((now + expires_in).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


@pytest.fixture
def token() -> str:
    return make_jwt()


@pytest.fixture
def jwt_client(annex: list[Bacs], token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[dt.datetime], None]]:
    """Pin the API's "now": ``clock(paris(2025, 4, 2, 11, 0))``."""
    current = {"now": paris(2025, 4, 2, 11, 0)}
    monkeypatch.setattr(api, "_now", lambda: current["now"])

    def set_now(now: dt.datetime) -> None:
        current["now"] = now

    yield set_now


def hourly_curve(
    point: Any, *, first: dt.date, last: dt.date, watts: Callable[[dt.datetime], float]
) -> Any:
    """An hourly energy series (Wh per hour) on ``point`` for local days ``[first, last]``;
    ``watts(local_start_of_hour)`` gives the hour's mean power."""
    from hub.clock import local_day_bounds
    from hub.models import SeriesKind
    from hub.services.series import PointIn, ensure_series, upsert_points

    series = ensure_series(
        metering_point=point,
        quantity="active_energy_import",
        unit="Wh",
        source="tic",
        kind=SeriesKind.INTERVAL,
        step_seconds=3600,
    )
    start, _ = local_day_bounds(first)
    _, end = local_day_bounds(last)
    points = []
    ts = start
    while ts < end:
        points.append(PointIn(ts, watts(ts.astimezone(PARIS))))
        ts += dt.timedelta(hours=1)
    upsert_points(series=series, points=points)
    return series
