"""Every vendor over real HTTP against its sandbox emulator: link, refresh, pull + format."""

from __future__ import annotations

from datetime import date, timedelta

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
    formatted = provider.format_split(raw)  # validated by IndicatorValueSchema
    assert formatted.quarantine.height == 0, formatted.quarantine
    assert formatted.values.height > raw.height


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
    forged = Connection(
        "legacy",
        "u",
        "garmin",
        result.tokens.__class__(
            access_token=result.tokens.access_token,
            token_type="oauth1",
            extra={"token_secret": "wrong"},
        ),
    )
    with pytest.raises(ReconnectRequiredError):
        await garmin.pull(forged, WINDOW, MemoryTokenStore(), record_types=("sleeps",))


async def test_a_401_in_the_middle_of_a_pull_costs_one_refresh(link, registry, sandbox):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    month = Window.for_days(date(2025, 1, 1), date(2025, 1, 30))  # two pages of 25
    clean = await whoop.pull(connection, month, MemoryTokenStore(), record_types=("sleep",))
    store = MemoryTokenStore()
    sandbox.cloud["whoop"].expire_after = 1  # the second page meets an expired token
    raw = await whoop.pull(connection, month, store, record_types=("sleep",))
    assert raw.height == clean.height > 25
    assert len(store.saved) == 1  # rotated tokens were saved (before they were used)
    with pytest.raises(ReconnectRequiredError):  # and the old refresh token is spent
        await whoop.refresh(connection.tokens)


@pytest.mark.parametrize(
    "slug,record_type,per_day",
    [("oura", "heartrate", 288), ("withings", "sleep", 1), ("oura", "daily_activity", 1)],
)
async def test_pagination_runs_to_the_end(slug, record_type, per_day, link, registry, sandbox):
    provider = registry.get(slug)
    connection = await link(provider)
    raw = await provider.pull(connection, WINDOW, MemoryTokenStore(), record_types=(record_type,))
    if record_type == "heartrate":  # one raw record per UTC day of 5-min rows, 500 a page
        assert raw.height == 14
        assert raw["payload"].str.count_matches('"bpm"').sum() == 14 * per_day
    else:
        from providers.sandbox.physiology import PERSONS, day_truth

        days = [WINDOW.start.date() + timedelta(days=i) for i in range(14)]
        expected = sum(1 for d in days if day_truth(PERSONS["ada"], d).sleep is not None)
        assert raw.height == expected > 10  # pages of 10
    assert raw["vendor_id"].n_unique() == raw.height


@pytest.mark.parametrize("slug", SLUGS)
async def test_429_then_success_for_each_vendor(slug, link, registry, sandbox):
    import httpx

    from providers.sandbox.oauth_server import Budget

    provider = registry.get(slug)
    connection = await link(provider)
    state = sandbox.cloud[slug]
    state.budget = Budget(limit=1, window_s=1.0)
    try:
        state.budget.take()  # someone else spent the budget
        raw = await provider.pull(
            connection,
            Window.for_days(date(2025, 2, 10), date(2025, 2, 10)),
            MemoryTokenStore(),
            record_types=(provider.info.record_types[0],),
        )
    finally:
        state.budget = None
    assert raw.height >= 0
    assert httpx  # the pull waited out the 429 (Retry-After, or backoff for Withings' 601)


@pytest.mark.parametrize("slug", SLUGS)
async def test_revoke_ends_the_grant(slug, link, registry, sandbox):
    provider = registry.get(slug)
    connection = await link(provider)
    await provider.revoke(connection)
    if slug != "withings":  # Withings revokes by user id; its tokens expire on their own
        with pytest.raises(ReconnectRequiredError):
            await provider.pull(
                connection,
                WINDOW,
                MemoryTokenStore(),
                record_types=(provider.info.record_types[0],),
            )


async def test_garmin_backfill_is_accepted_once(link, registry):
    garmin = registry.get("garmin")
    connection = await link(garmin)
    store = MemoryTokenStore()
    first = await garmin.request_backfill(connection, WINDOW, store, ("sleeps", "pulseox"))
    again = await garmin.request_backfill(connection, WINDOW, store, ("sleeps",))
    assert first == {"sleeps": 202, "pulseox": 202} and again == {"sleeps": 409}
