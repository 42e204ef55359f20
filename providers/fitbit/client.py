"""Fitbit's rate limit: 150 requests an hour per user, told on every answer by
`Fitbit-Rate-Limit-Limit`, `-Remaining` and `-Reset` (seconds until the hour resets). When
none is left the client waits for the reset before its next call instead of spending a 429;
a 429 itself carries `Retry-After` (handled by the shared client)."""

from __future__ import annotations

import time

import httpx

from providers.http import VendorClient

REMAINING = "fitbit-rate-limit-remaining"
RESET = "fitbit-rate-limit-reset"


def seconds_to_reset(headers: httpx.Headers) -> float | None:
    """The wait Fitbit's headers ask for: the reset when nothing is left, else None."""
    try:
        remaining = int(headers.get(REMAINING, "1"))
        reset = float(headers.get(RESET, "0"))
    except ValueError:
        return None
    return max(0.0, reset) if remaining <= 0 else None


class FitbitClient(VendorClient):
    """The shared vendor client, reading Fitbit's own rate-limit headers. `offset_ms`: the
    user's profile offset, asked once per pull."""

    offset_ms: float | None = None

    def _note_budget(self, response: httpx.Response) -> None:
        super()._note_budget(response)
        wait = seconds_to_reset(response.headers)
        if wait is not None:
            self._not_before = max(
                self._not_before, time.monotonic() + min(wait, self.policy.max_wait_s)
            )
