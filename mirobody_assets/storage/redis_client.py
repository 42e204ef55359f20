"""Redis clients whose every key carries the configured prefix."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import redis


class PrefixedRedis:
    """A thin wrapper: `key(name)` gives the prefixed key; `client` is the raw redis client.

    Callers build keys with `key()`; tests and tenants sharing one Redis never collide.
    """

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def ping(self) -> bool:
        return bool(self.client.ping())

    def delete_all(self) -> int:
        """Delete every key under the prefix (tests, and deleting an installation's cache)."""
        removed = 0
        for batch in _batched(self.client.scan_iter(match=self.prefix + "*", count=500), 500):
            removed += int(self.client.delete(*batch))
        return removed


def _batched(items: Iterable[str], size: int) -> Iterator[list[str]]:
    batch: list[str] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def make_redis(redis_url: str, prefix: str) -> PrefixedRedis:
    """A Redis client (decoded strings) with a key prefix; supports redis:// and unix:// URLs."""
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    return PrefixedRedis(client, prefix)
