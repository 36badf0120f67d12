"""One request budget per GRDF credential, shared by every process through the cache."""

from __future__ import annotations

import uuid

import pytest
from django.test import override_settings

from grdf_access import adict_gateway
from grdf_access.adict_gateway import SharedRateLimiter
from tests.conftest import Tenant


class FakeClock:
    def __init__(self, start: float) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_two_processes_share_one_request_per_second() -> None:
    key = f"test-{uuid.uuid4()}"
    clock = FakeClock(1_000_000.25)
    # Two limiters on one credential stand for two worker processes.
    first = SharedRateLimiter(key=key, rate=1, clock=clock, sleep=clock.sleep)
    second = SharedRateLimiter(key=key, rate=1, clock=clock, sleep=clock.sleep)
    assert first.acquire() == 0
    assert second.acquire() == pytest.approx(0.75)  # waits for the next one-second slot
    assert first.acquire() == pytest.approx(1.0)
    assert clock.now == pytest.approx(1_000_002.0)
    other = SharedRateLimiter(key=f"{key}-other", rate=1, clock=clock, sleep=clock.sleep)
    assert other.acquire() == 0  # another credential has its own budget


def test_a_saturated_budget_gives_up_waiting() -> None:
    clock = FakeClock(2_000_000.0)
    limiter = SharedRateLimiter(
        key=f"test-{uuid.uuid4()}", rate=1, clock=clock, sleep=lambda s: None, max_wait=3
    )
    assert limiter.acquire() == 0
    assert limiter.acquire() >= 3  # the clock never moves: bounded, not for ever


@pytest.mark.django_db
def test_gateways_use_the_shared_budget_at_the_setting_rate(tenant: Tenant) -> None:
    with (
        override_settings(GRDF_REQUESTS_PER_SECOND=2.5),
        adict_gateway.gateway_for(tenant.organisation) as gateway,
    ):
        limiter = gateway.client.rate_limiter
    assert isinstance(limiter, SharedRateLimiter) and limiter.rate == 2.5
