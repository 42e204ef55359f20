"""Redis clients whose every key carries the configured prefix; one Redis or a Redis Cluster.

REDIS_URL names a Redis Cluster with the scheme `redis+cluster://` (`rediss+cluster://` with
TLS) and any one of its nodes; redis-py's cluster client discovers the others and follows slot
moves. What Mirobody does with Redis works on a cluster as it is: every command names one key
(SET NX/EX, GETDEL, EXISTS, INCR, EXPIRE), the rate limiter's pipeline is not a transaction (the
cluster client sends each node its own keys), and deleting many keys is split by slot. There
are no Lua scripts, no MULTI/EXEC and no Redis locks (locks are PostgreSQL advisory locks).
Keys that a script or a transaction must find on one node share a hash tag: `user_key`.

One difference is smoothed over: when no node answers, redis-py's cluster client raises
`RedisClusterException`, which is not a `redis.RedisError`; here it becomes a
`redis.ConnectionError`, so the callers' outage handling (rate limits fail open, revocation
checks fail closed, 503 with Retry-After) holds for a cluster too.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeAlias

import redis
from redis.cluster import ClusterPipeline, RedisCluster
from redis.exceptions import RedisClusterException, SlotNotCoveredError

CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}

Client: TypeAlias = "redis.Redis | RedisCluster"


class PrefixedRedis:
    """A thin wrapper: `key(name)` gives the prefixed key; `client` is the raw redis client
    (`redis.Redis`, or `redis.cluster.RedisCluster` for a cluster).

    Callers build keys with `key()`; tests and tenants sharing one Redis never collide.
    """

    def __init__(self, client: Client, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    @property
    def is_cluster(self) -> bool:
        return isinstance(self.client, RedisCluster)

    def key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def user_key(self, user_id: str, *parts: str) -> str:
        """A key of one user's that lives in that user's hash slot (`{user:<id>}`), so that
        a transaction or script over several of the user's keys works on a cluster."""
        return self.prefix + ":".join(("{user:" + user_id + "}", *parts))

    def ping(self) -> bool:
        """True when Redis answers (on a cluster: every node)."""
        return bool(self.client.ping())

    def delete_all(self) -> int:
        """Delete every key under the prefix (tests, and deleting an installation's cache).
        On a cluster the scan visits every primary and the deletes are split by slot."""
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


class ClusterUnreachableError(redis.ConnectionError):
    """No node of the Redis Cluster could be reached (or the key's slot has no node)."""


def _unreachable(exc: RedisClusterException) -> Exception:
    # Its subclasses are usage errors (a cross-slot transaction...), not outages: kept as is.
    if type(exc) is RedisClusterException or isinstance(exc, SlotNotCoveredError):
        return ClusterUnreachableError(str(exc))
    return exc


class _ClusterPipeline(ClusterPipeline):
    def execute(self, raise_on_error: bool = True) -> list[Any]:
        try:
            return super().execute(raise_on_error)
        except RedisClusterException as exc:
            raise _unreachable(exc) from exc


class _Cluster(RedisCluster):
    """redis-py's cluster client whose "no node reachable" is a redis.ConnectionError."""

    def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().execute_command(*args, **kwargs)  # type: ignore[no-untyped-call]
        except RedisClusterException as exc:
            raise _unreachable(exc) from exc

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> ClusterPipeline:
        pipe: ClusterPipeline = super().pipeline(  # type: ignore[no-untyped-call]
            transaction, shard_hint
        )
        pipe.__class__ = _ClusterPipeline  # same object and state; only execute() differs
        return pipe


def make_redis(redis_url: str, prefix: str) -> PrefixedRedis:
    """A Redis client (decoded strings) with a key prefix: redis://, rediss:// and unix://
    URLs name one server; redis+cluster:// and rediss+cluster:// a cluster (connected, and
    its slots read, right away: a cluster that cannot be reached fails here)."""
    scheme, sep, rest = redis_url.partition("://")
    if sep and scheme.lower() in CLUSTER_SCHEMES:
        cluster = _Cluster.from_url(
            f"{CLUSTER_SCHEMES[scheme.lower()]}://{rest}",
            decode_responses=True,
            health_check_interval=30,
        )
        return PrefixedRedis(cluster, prefix)
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=30)
    return PrefixedRedis(client, prefix)
