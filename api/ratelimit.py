"""Fixed-window rate limits in Redis, shared by every API process (per user and per IP)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis

from api.errors import TooManyRequestsError, UnavailableError
from api.metrics import ApiMetrics
from mirobody_assets.storage.redis_client import PrefixedRedis

log = logging.getLogger(__name__)
WINDOW_S = 60
# Limits that refuse rather than allow when they cannot count (credential guessing).
FAIL_CLOSED = frozenset({"auth"})


@dataclass(frozen=True)
class Limit:
    """At most `per_minute` requests per window for one subject; 0 disables the limit."""

    scope: str
    subject: str
    per_minute: int


class RateLimiter:
    """Counts requests in the current minute with one INCR+EXPIRE round trip per check."""

    def __init__(self, redis_client: PrefixedRedis, metrics: ApiMetrics) -> None:
        self._redis = redis_client
        self._metrics = metrics

    def check(self, *limits: Limit, now: float | None = None) -> None:
        """Count one request against each limit; raise TooManyRequestsError if any is exceeded."""
        active = [lim for lim in limits if lim.per_minute > 0]
        if not active:
            return
        now = now if now is not None else time.time()
        window = int(now // WINDOW_S)
        retry_after = max(1, int((window + 1) * WINDOW_S - now + 0.999))
        pipe = self._redis.client.pipeline(transaction=False)
        for lim in active:
            key = self._redis.key("ratelimit", lim.scope, lim.subject, str(window))
            pipe.incr(key)
            pipe.expire(key, WINDOW_S * 2)
        try:
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            if any(lim.scope in FAIL_CLOSED for lim in active):
                # Password guessing must not become unlimited while Redis is down: a 503.
                log.warning("rate limiter unavailable (%s); sign-in refused", type(exc).__name__)
                raise UnavailableError(
                    "sign-in is briefly unavailable; try again shortly",
                    code="cache_unavailable",
                    headers={"Retry-After": "5"},
                ) from None
            # Fail open elsewhere: a Redis hiccup must not take the API down; it is logged and
            # visible in /readyz.
            log.warning("rate limiter unavailable (%s); request allowed", type(exc).__name__)
            return
        for lim, count in zip(active, counts, strict=True):
            if int(count) > lim.per_minute:
                self._metrics.rate_limited.labels(lim.scope).inc()
                raise TooManyRequestsError(retry_after, lim.scope)
