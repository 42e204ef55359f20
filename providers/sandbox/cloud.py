"""Shared state of the sandbox vendor cloud: one `VendorState` per emulated vendor."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import JSONResponse

# Re-exported: the emulators and tests import them from here.
from providers.sandbox.credentials import SANDBOX_CREDENTIALS as SANDBOX_CREDENTIALS
from providers.sandbox.credentials import VENDORS as VENDORS
from providers.sandbox.oauth_server import Budget, OAuthRefusal, SandboxOAuth
from providers.sandbox.physiology import DayTruth, Person, day_truth

RateHeaders = Callable[["VendorState", float | None], dict[str, str]]


@dataclass
class VendorState:
    """One emulated vendor: its OAuth server, request budget and clock."""

    vendor: str
    oauth: SandboxOAuth
    today: date
    budget: Budget | None = None
    rate_headers: RateHeaders | None = None
    fail_next: list[int] = field(default_factory=list)  # test hook: statuses to answer next
    expire_after: int | None = None  # test hook: expire access tokens after N more requests
    slow_next: list[float] = field(default_factory=list)  # test hook: seconds to stall next
    garble_next: int = 0  # test hook: answer the next N data GETs with truncated JSON
    push_url: str | None = None  # Garmin: the client's push endpoint (Developer Portal setting)
    pushes_pending: int = 0  # Garmin: backfills accepted whose PUSH deliveries have not ended
    requests: int = 0

    def reset_test_hooks(self) -> None:
        """Forget injected failures, stalls, expiries and budgets (not the push URL setting)."""
        self.fail_next.clear()
        self.slow_next.clear()
        self.expire_after = None
        self.garble_next = 0
        self.budget = None

    def truth(self, person: Person, day: date) -> DayTruth:
        """The person's day as the vendor holds it now: nothing after the present moment."""
        return day_truth(person, day, today=self.today, now=time.time())

    def guard(self, request: Request) -> Person:
        """Count the request against the budget, then authenticate the Bearer token."""
        self.requests += 1
        if self.slow_next:
            time.sleep(self.slow_next.pop(0))  # sync routes run in a worker thread
        if self.expire_after is not None:
            self.expire_after -= 1
            if self.expire_after < 0:
                self.expire_after = None
                self.oauth.expire_access_tokens()
        if self.fail_next:
            status = self.fail_next.pop(0)
            raise HTTPException(status, "sandbox injected failure")
        if self.budget is not None:
            wait = self.budget.take()
            if wait is not None:
                headers = self.rate_headers(self, wait) if self.rate_headers else {}
                headers.setdefault("Retry-After", str(max(1, round(wait))))
                raise HTTPException(429, "rate limit exceeded", headers=headers)
        person = self.oauth.person_for(request.headers.get("authorization"))
        if person is None:
            raise HTTPException(401, "invalid or expired access token")
        return person

    def sign(self, message: bytes, key: str | None = None) -> bytes:
        secret = (key or self.oauth.client_secret).encode()
        return hmac.new(secret, message, hashlib.sha256).digest()


def oauth_error(refusal: OAuthRefusal) -> JSONResponse:
    return JSONResponse(
        {"error": refusal.error, "error_description": refusal.description},
        status_code=refusal.status,
    )


def iso_z(epoch: int | float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def iso_local(epoch: int | float, offset_s: int, millis: bool = False) -> str:
    """ISO-8601 local wall time with its offset (`2025-03-10T23:14:09+01:00`)."""
    local = datetime.fromtimestamp(epoch + offset_s, UTC).replace(tzinfo=None)
    text = (
        local.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
        if millis
        else local.strftime("%Y-%m-%dT%H:%M:%S")
    )
    return text + offset_str(offset_s)


def offset_str(offset_s: int) -> str:
    sign = "+" if offset_s >= 0 else "-"
    minutes = abs(offset_s) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def stable_id(*parts: Any) -> str:
    """A deterministic UUID-shaped id."""
    h = hashlib.sha256(":".join(str(p) for p in parts).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"
