"""Test runs sharing one Redis keep to their own keys and leave none behind."""

from __future__ import annotations

import os

import pytest
import redis
from django.conf import settings
from django.core.cache import cache, caches

from tests.cache import PrefixedRedisCache, delete_prefixed
from tests.conftest import require


@pytest.fixture
def redis_url() -> str:
    require(os.environ.get("REDIS_URL", "").startswith("redis://"), "needs REDIS_URL")
    return settings.REDIS_URL


def test_cache_keys_carry_the_run_prefix(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    cache.set("isolation-probe", 1, timeout=60)
    caches["grdf_simulator"].set("isolation-probe-sim", 1, timeout=60)
    names = {n.decode() for n in client.scan_iter(match="*isolation-probe*")}
    mine = {n for n in names if n.startswith(f"{settings.TEST_REDIS_PREFIX}:")}
    assert len(mine) == 2
    cache.delete("isolation-probe")
    caches["grdf_simulator"].delete("isolation-probe-sim")


def test_clear_leaves_another_runs_keys(redis_url: str) -> None:
    """Django's RedisCache.clear() is FLUSHDB; another run's keys on the database must stay."""
    client = redis.Redis.from_url(redis_url)
    other = f"{settings.TEST_REDIS_PREFIX}-other-run"
    client.set(f"{other}:1:grdf-sim:generation", 7, ex=60)
    cache.set("mine", 1, timeout=60)
    assert isinstance(caches["default"], PrefixedRedisCache)
    cache.clear()
    assert cache.get("mine") is None
    assert client.get(f"{other}:1:grdf-sim:generation") == b"7"
    assert delete_prefixed(redis_url, other) == 1
    assert client.get(f"{other}:1:grdf-sim:generation") is None


def test_broker_keys_carry_the_run_prefix(redis_url: str) -> None:
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"].startswith(
        settings.TEST_REDIS_PREFIX
    )
