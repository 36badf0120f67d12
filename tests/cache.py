"""The test suite's Redis cache: ``clear()`` deletes this run's keys only, never the database."""

from __future__ import annotations

import redis
from django.core.cache.backends.redis import RedisCache


def delete_prefixed(url: str, prefix: str) -> int:
    """Delete every key starting with ``prefix`` at ``url``; returns how many went."""
    client = redis.Redis.from_url(url)
    deleted = 0
    batch: list[bytes] = []
    for name in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(name)
        if len(batch) == 500:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    client.close()
    return deleted


class PrefixedRedisCache(RedisCache):
    """Django's Redis cache flushes the whole database on ``clear()``: another run sharing the
    database would lose its keys mid-test. This one deletes the keys under its own prefix."""

    def clear(self) -> bool:
        delete_prefixed(self._servers[0], f"{self.key_prefix}:")
        return True
