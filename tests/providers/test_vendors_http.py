"""Every vendor over real HTTP against its sandbox emulator: link, refresh, pull + format."""

from __future__ import annotations

from datetime import date

import pytest

from providers.errors import ReconnectRequiredError
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
WINDOW = Window.for_days(date(2025, 2, 3), date(2025, 2, 16))  # Polar keeps ~28 days
SLUGS = ["whoop", "oura", "garmin", "withings", "polar"]


@pytest.mark.parametrize("slug", SLUGS)
async def test_link_flow_for_each_provider(slug, link, registry):
    provider = registry.get(slug)
    connection = await link(provider)
    assert connection.tokens.access_token
    assert connection.vendor_user_id


@pytest.mark.parametrize("slug", [s for s in SLUGS if s != "polar"])
async def test_refresh_rotates_and_the_spent_token_is_refused(slug, link, registry):
    provider = registry.get(slug)
    connection = await link(provider)
    fresh = await provider.refresh(connection.tokens)
    assert fresh.refresh_token and fresh.refresh_token != connection.tokens.refresh_token
    with pytest.raises(ReconnectRequiredError):
        await provider.refresh(connection.tokens)


@pytest.mark.parametrize("slug", SLUGS)
async def test_pull_every_record_type_and_format(slug, link, registry):
    provider = registry.get(slug)
    connection = await link(provider)
    raw = await provider.pull(connection, WINDOW, MemoryTokenStore())
    types = set(raw["record_type"].unique())
    assert types == set(provider.info.record_types), types
    rows = provider.format(raw)
    assert rows.height > raw.height
    assert rows.select("user_id", "indicator", "source", "time").is_duplicated().sum() == 0
