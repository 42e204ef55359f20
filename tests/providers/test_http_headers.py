"""Reading the vendors' rate-limit headers (the HTTP behaviour itself is tested over HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from providers.http import budget_exhausted, wait_from_headers


def test_retry_after_in_seconds_or_as_an_http_date():
    assert wait_from_headers({"retry-after": "7"}) == 7.0
    now = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert wait_from_headers({"retry-after": later}, now=now.timestamp()) == pytest.approx(30)


def test_vendor_reset_headers_are_read_when_there_is_no_retry_after():
    assert wait_from_headers({"x-ratelimit-reset": "12"}) == 12.0  # WHOOP
    assert wait_from_headers({"ratelimit-reset": "900"}) == 900.0  # Polar
    assert wait_from_headers({}) is None


def test_a_spent_budget_is_recognised_for_whoop_and_polar():
    assert budget_exhausted({"x-ratelimit-remaining": "0"})
    assert not budget_exhausted({"x-ratelimit-remaining": "41"})
    assert budget_exhausted({"ratelimit-usage": "520", "ratelimit-limit": "520"})
    assert not budget_exhausted({"ratelimit-usage": "12", "ratelimit-limit": "520"})
    assert not budget_exhausted({"x-ratelimit-remaining": "soon"})
