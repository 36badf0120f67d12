"""API rate limits per token, per organisation and per person: no tenant spends another's."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from hub.api.throttling import PersonRateThrottle
from hub.services.tokens import create_token

pytestmark = pytest.mark.django_db
URL = "/api/v1/metering-points/"


@pytest.fixture
def small_rates(monkeypatch):
    # DRF reads the rates once at import; the buckets are what is under test, not the figures.
    monkeypatch.setattr(
        SimpleRateThrottle,
        "THROTTLE_RATES",
        {"token": "4/min", "organisation": "6/min", "user": "4/min", "flexready_jwt": "4/min"},
    )
    cache.clear()
    yield
    cache.clear()


def token_client(organisation, name: str) -> APIClient:
    client = APIClient()
    issued = create_token(organisation=organisation, name=name)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issued.plaintext}")
    return client


def test_one_organisation_exhausting_its_tokens_does_not_block_another(
    tenant, foreign, small_rates
):
    """Finding: "`UserRateThrottle` keys token callers on `TokenPrincipal.pk`, which is `None`:
    all tokens of all organisations share one bucket". Another organisation's first request
    must still pass."""
    first, second = token_client(tenant.organisation, "a"), token_client(tenant.organisation, "b")
    statuses = [c.get(URL).status_code for c in (first, second) * 5]
    assert statuses.count(429) >= 3  # the organisation hit its own limits
    other = token_client(foreign.organisation, "c").get(URL)
    assert other.status_code == 200
    assert other.headers["RateLimit-Limit"] == "4"
    assert other.headers["RateLimit-Remaining"] == "3"


def test_an_organisations_tokens_share_one_organisation_budget(tenant, small_rates):
    """Two tokens of one organisation: each has 4/min, the organisation 6/min together."""
    clients = [token_client(tenant.organisation, name) for name in ("a", "b")]
    statuses = [c.get(URL).status_code for c in clients * 4]
    assert statuses == [200] * 6 + [429] * 2


def test_a_token_gets_its_own_bucket_and_the_headers(tenant, small_rates):
    client = token_client(tenant.organisation, "a")
    remaining = [client.get(URL).headers["RateLimit-Remaining"] for _ in range(4)]
    assert remaining == ["3", "2", "1", "0"]
    refused = client.get(URL)
    assert refused.status_code == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert int(refused.headers["RateLimit-Reset"]) <= 60


def test_people_are_counted_per_person_not_together(tenant, foreign, small_rates):
    mine, theirs = APIClient(), APIClient()
    mine.force_authenticate(tenant.viewer)
    theirs.force_authenticate(foreign.viewer)
    assert [mine.get(URL).status_code for _ in range(5)][-1] == 429
    assert theirs.get(URL).status_code == 200


def test_flexready_person_throttle_keeps_tokens_of_two_organisations_apart(
    tenant, foreign, small_rates
):
    """Flex Ready's own throttle list had the same shared bucket for tokens."""
    url = "/api/v1/bacs"
    first = token_client(tenant.organisation, "a")
    assert [first.get(url).status_code for _ in range(5)][-1] == 429
    assert token_client(foreign.organisation, "b").get(url).status_code == 200


def test_anonymous_callers_are_counted_by_address_not_by_forwarded_header():
    """X-Forwarded-For from an untrusted peer must not buy a fresh bucket per request."""
    from django.contrib.auth.models import AnonymousUser
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    keys = set()
    for i in range(3):
        django_request = APIRequestFactory().get(
            URL, REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}"
        )
        request = Request(django_request)
        request.user = AnonymousUser()
        keys.add(PersonRateThrottle().get_cache_key(request, view=None))
    assert keys == {"throttle_user_ip:203.0.113.9"}


def test_concurrent_hits_on_one_bucket_are_all_counted():
    """The bucket is shared by every web process: 8 threads spending one bucket of 100 get
    exactly 100 calls, none lost to a read-modify-write race (DRF's list rewrite lost them)."""
    from concurrent.futures import ThreadPoolExecutor

    from django.conf import settings

    from hub.cache import window_hit
    from tests.conftest import require

    require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL): the counter is atomic there")
    key = f"throttle-race-{uuid.uuid4().hex}"

    def spend(_: int) -> int:
        return sum(
            window_hit(
                key=f"{key}:1", previous_key=f"{key}:0", weight=0.5, limit=100, timeout=60
            ).allowed
            for _ in range(40)
        )

    with ThreadPoolExecutor(8) as pool:
        assert sum(pool.map(spend, range(8))) == 100


class _Fixed(PersonRateThrottle):
    """A 4/min bucket on a clock the test sets."""

    rate = "4/min"
    clock = 0.0
    ident = ""

    def get_rate(self) -> str:
        return self.rate

    def get_cache_key(self, request, view):
        return f"throttle-test-{self.ident}"

    def timer(self) -> float:
        return self.clock


def _allowed(ident: str, at: float) -> tuple[bool, float | None]:
    from django.test import RequestFactory
    from rest_framework.request import Request

    throttle = _Fixed()
    throttle.ident, throttle.clock = ident, at
    allowed = throttle.allow_request(Request(RequestFactory().get("/")), view=None)
    return allowed, throttle.wait()


def test_the_previous_window_fades_as_the_window_slides():
    """Sliding window: 4 calls at the end of one minute still count in full at the start of
    the next, and half of them half-way through it."""
    ident = uuid.uuid4().hex
    minute = 60 * 1_000_000
    assert [_allowed(ident, minute + 59)[0] for _ in range(4)] == [True] * 4
    refused, wait = _allowed(ident, minute + 60.5)
    assert not refused
    assert wait is not None and 0 < wait <= 60
    # Half-way through the next minute: 4 x 0.5 = 2 used, room for 2 more.
    assert [_allowed(ident, minute + 90)[0] for _ in range(3)] == [True, True, False]


def test_a_token_call_counts_all_its_buckets_in_one_cache_call(tenant, token_client, monkeypatch):
    """ "Throttling (Redis round-trips: pipeline them)": the token's and the organisation's
    buckets go to the cache together, once per call, and both are counted."""
    from hub.api import throttling

    calls: list[int] = []
    real = throttling.window_hits

    def counting(buckets):
        calls.append(len(buckets))
        return real(buckets)

    monkeypatch.setattr(throttling, "window_hits", counting)
    cache.clear()
    response = token_client.get(URL)
    assert response.status_code == 200
    assert calls == [2]
    assert response.headers["RateLimit-Remaining"] == str(
        int(response.headers["RateLimit-Limit"]) - 1
    )


@pytest.mark.parametrize("redis_backend", [False, True])
def test_window_hits_counts_or_refuses_each_bucket_on_its_own(settings, redis_backend):
    """One call for several buckets answers what one call per bucket would."""
    from hub.cache import Bucket, window_hits
    from tests.conftest import require

    if redis_backend:
        require(bool(settings.REDIS_URL), "needs Redis (REDIS_URL)")
    else:
        settings.CACHES = {
            **settings.CACHES,
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        }
    key = f"hits-{uuid.uuid4().hex}"
    full = Bucket(f"{key}-a:1", f"{key}-a:0", weight=0.0, limit=1, timeout=60)
    roomy = Bucket(f"{key}-b:1", f"{key}-b:0", weight=0.0, limit=5, timeout=60)
    first = window_hits([full, roomy])
    assert [(h.allowed, h.current) for h in first] == [(True, 1), (True, 1)]
    second = window_hits([full, roomy])
    assert [(h.allowed, h.current) for h in second] == [(False, 1), (True, 2)]
    assert window_hits([]) == []
