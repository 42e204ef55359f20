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


async def test_garmin_legacy_oauth1_link_and_signed_pull(registry):
    import httpx

    garmin = registry.get("garmin")
    strategy = garmin.legacy_oauth()
    request = await strategy.authorization_request("http://127.0.0.1/callback")
    async with httpx.AsyncClient() as http:
        consent = await http.get(httpx.URL(request.url).copy_add_param("sandbox_user", "ada"))
    assert consent.status_code == 302
    from urllib.parse import parse_qsl, urlsplit

    params = dict(parse_qsl(urlsplit(consent.headers["location"]).query))
    result = await garmin.complete_legacy_link(params, request.state, request.request_token)
    assert result.tokens.token_type == "oauth1" and result.vendor_user_id
    from providers.types import Connection

    connection = Connection("legacy", "u", "garmin", result.tokens, result.vendor_user_id)
    raw = await garmin.pull(connection, WINDOW, MemoryTokenStore(), record_types=("sleeps",))
    assert raw.height > 5
    forged = Connection("legacy", "u", "garmin", result.tokens.__class__(
        access_token=result.tokens.access_token, token_type="oauth1",
        extra={"token_secret": "wrong"}))
    with pytest.raises(ReconnectRequiredError):
        await garmin.pull(forged, WINDOW, MemoryTokenStore(), record_types=("sleeps",))
