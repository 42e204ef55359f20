"""The vendor HTTP client: retries with backoff on 5xx and timeouts, Retry-After and the
vendors' rate-limit headers, one token refresh then retry on 401, and rotated tokens saved
through the caller's TokenStore before they are used."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import anyio
import httpx

from providers.errors import (
    ProviderError,
    RateLimitedError,
    ReconnectRequiredError,
    TokenStoreError,
    VendorHTTPError,
)
from providers.types import Connection, Tokens, TokenStore

log = logging.getLogger(__name__)

RESET_HEADERS = ("retry-after", "x-ratelimit-reset", "ratelimit-reset")


class Outcome(Enum):
    """How the client should treat a response."""

    OK = "ok"
    UNAUTHORIZED = "unauthorized"
    RATE_LIMITED = "rate_limited"
    RETRY = "retry"
    FAIL = "fail"


def default_classify(response: httpx.Response) -> Outcome:
    """Status-code classification; vendors with in-body statuses (Withings) override it."""
    code = response.status_code
    if code == 401:
        return Outcome.UNAUTHORIZED
    if code == 429:
        return Outcome.RATE_LIMITED
    if code >= 500:
        return Outcome.RETRY
    if code >= 400 and code != 404:
        return Outcome.FAIL
    return Outcome.OK


def wait_from_headers(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (seconds or HTTP date) or a vendor reset header."""
    for name in RESET_HEADERS:
        raw = headers.get(name)
        if raw is None:
            continue
        raw = raw.strip()
        try:
            return max(0.0, float(raw))
        except ValueError:
            parsed = email.utils.parsedate_to_datetime(raw) if name == "retry-after" else None
            if parsed is not None:
                return max(0.0, parsed.timestamp() - (now or time.time()))
    return None


def budget_exhausted(headers: Mapping[str, str]) -> bool:
    """Whether rate-limit headers on a successful answer say no request is left."""
    try:
        remaining = headers.get("x-ratelimit-remaining")
        if remaining is not None:
            return int(remaining.split(",")[0].strip()) <= 0
        usage, limit = headers.get("ratelimit-usage"), headers.get("ratelimit-limit")
        if usage is not None and limit is not None:
            return int(usage.split(",")[0]) >= int(limit.split(",")[0])
    except ValueError:
        return False
    return False


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds on retrying: attempts per request, backoff, and the longest wait honoured."""

    max_attempts: int = 5
    backoff_base_s: float = 0.25
    backoff_max_s: float = 8.0
    max_wait_s: float = 120.0
    timeout_s: float = 30.0

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2.0**attempt)
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 (jitter, not crypto)


Refresher = Callable[[Tokens], Awaitable[Tokens]]
AuthBuilder = Callable[[Tokens], httpx.Auth | None]


def bearer_headers(tokens: Tokens) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens.access_token}"}


class VendorClient:
    """Calls one vendor on behalf of one connection."""

    def __init__(
        self,
        provider: str,
        http: httpx.AsyncClient,
        connection: Connection,
        token_store: TokenStore,
        refresh: Refresher | None,
        *,
        policy: RetryPolicy | None = None,
        classify: Callable[[httpx.Response], Outcome] = default_classify,
        auth: AuthBuilder | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        self.provider = provider
        self.http = http
        self.connection = connection
        self._store = token_store
        self._refresh = refresh
        self.policy = policy or RetryPolicy()
        self._classify = classify
        self._auth = auth
        self._sleep = sleep
        self._not_before = 0.0
        self.refreshes = 0
        self.waits: list[float] = []

    async def _rotate(self) -> None:
        """Refresh once, persist the new tokens, and only then use them."""
        if self._refresh is None:
            raise ReconnectRequiredError(self.provider, "access token rejected; no refresh flow")
        try:
            tokens = await self._store.rotate(self.connection, self._refresh)
        except (ProviderError, httpx.HTTPError):
            raise  # the vendor refused or failed the refresh: classified by the caller
        except Exception as exc:  # the store is the caller's: any failure stops token use
            log.error(
                "%s: saving rotated tokens for connection %s failed: %s",
                self.provider,
                self.connection.id,
                type(exc).__name__,
            )
            raise TokenStoreError(self.provider, "rotated tokens not persisted") from exc
        self.connection = self.connection.with_tokens(tokens)
        self.refreshes += 1

    async def _wait(self, seconds: float, url: str) -> None:
        if seconds > self.policy.max_wait_s:
            log.warning(
                "%s: rate limited on %s for %.0fs, over budget", self.provider, url, seconds
            )
            raise RateLimitedError(self.provider, "rate limit wait exceeds budget", seconds)
        self.waits.append(seconds)
        await self._sleep(seconds)

    def _note_budget(self, response: httpx.Response) -> None:
        """Wait before the next call when the vendor says the budget is spent (WHOOP's
        X-RateLimit-Remaining, Polar's RateLimit-Usage against RateLimit-Limit)."""
        if budget_exhausted(response.headers):
            wait = wait_from_headers(response.headers) or 0.0
            self._not_before = time.monotonic() + min(wait, self.policy.max_wait_s)

    async def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send one request with the connection's credentials; return the OK response."""
        refreshed = False
        if self._refresh is not None and self.connection.tokens.is_expired():
            await self._rotate()
            refreshed = True
        extra_headers = dict(kwargs.pop("headers", None) or {})
        attempt = 0
        while True:
            delay = self._not_before - time.monotonic()
            if delay > 0:
                await self._wait(delay, url)
            tokens = self.connection.tokens
            auth = self._auth(tokens) if self._auth else None
            headers = {} if auth else bearer_headers(tokens)
            headers.update(extra_headers)
            response: httpx.Response | None
            try:
                sent = await self.http.request(
                    method, url, headers=headers, auth=auth, timeout=self.policy.timeout_s, **kwargs
                )
            except httpx.TimeoutException:
                log.info(
                    "%s: %s %s timed out after %.1f s (attempt %d)",
                    self.provider,
                    method,
                    url,
                    self.policy.timeout_s,
                    attempt + 1,
                )
                outcome, response = Outcome.RETRY, None
            else:
                outcome, response = self._classify(sent), sent
            if outcome is Outcome.OK:
                assert response is not None
                self._note_budget(response)
                return response
            if outcome is Outcome.UNAUTHORIZED:
                if refreshed:
                    log.warning("%s: %s still unauthorized after a refresh", self.provider, url)
                    raise ReconnectRequiredError(self.provider, "unauthorized after refresh")
                await self._rotate()
                refreshed = True
                continue
            attempt += 1
            status = response.status_code if response is not None else None
            if outcome is Outcome.FAIL or attempt >= self.policy.max_attempts:
                log.warning(
                    "%s: %s %s failed with %s after %d attempts",
                    self.provider,
                    method,
                    url,
                    status or "timeout",
                    attempt,
                )
                if outcome is Outcome.RATE_LIMITED:
                    raise RateLimitedError(self.provider, "still rate limited", None)
                why = (
                    f"answered {status}"
                    if status is not None
                    else f"timed out after {self.policy.timeout_s:g} s"
                )
                raise VendorHTTPError(
                    self.provider, f"{method} {url} failed: {why}, {attempt} attempts", status
                )
            if outcome is Outcome.RATE_LIMITED and response is not None:
                wait = wait_from_headers(response.headers)
                await self._wait(wait if wait is not None else self.policy.backoff(attempt), url)
            else:
                await self._sleep(self.policy.backoff(attempt))

    async def get_json(self, url: str, **kwargs: Any) -> Any:
        """GET and decode JSON. A body that is not JSON (a truncated answer, a proxy's error
        page) is retried like a 5xx, then reported as a VendorHTTPError naming the URL."""
        for attempt in range(1, self.policy.max_attempts + 1):
            response = await self.request("GET", url, **kwargs)
            if response.status_code in (204, 404):
                return None
            try:
                return response.json()
            except ValueError:
                log.warning(
                    "%s: GET %s answered malformed JSON (attempt %d)", self.provider, url, attempt
                )
                if attempt < self.policy.max_attempts:
                    await self._sleep(self.policy.backoff(attempt))
        raise VendorHTTPError(
            self.provider, f"GET {url} answered malformed JSON", response.status_code
        )
