"""WHOOP over real HTTP against the sandbox: link, rotation, 401 recovery, 429, paging."""

from __future__ import annotations

import time
from datetime import date

import httpx
import pytest

from providers.errors import ReconnectRequiredError, WebhookVerificationError
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from providers.sandbox import whoop as whoop_emulator
from providers.sandbox.oauth_server import Budget
from providers.sandbox.physiology import PERSONS
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
WINDOW = Window.for_days(date(2025, 1, 1), date(2025, 1, 30))


async def test_link_flow_yields_tokens_and_the_vendor_user_id(link, registry: ProviderRegistry):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    assert connection.tokens.refresh_token
    assert connection.vendor_user_id == str(PERSONS["ada"].vendor_int_id("whoop"))


async def test_refresh_rotates_and_the_spent_refresh_token_is_refused(link, registry):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    fresh = await whoop.refresh(connection.tokens)
    assert fresh.refresh_token != connection.tokens.refresh_token
    with pytest.raises(ReconnectRequiredError):
        await whoop.refresh(connection.tokens)


async def test_pull_pages_to_the_end(link, registry, sandbox: SandboxServer):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    raw = await whoop.pull(connection, WINDOW, MemoryTokenStore(), record_types=("sleep",))
    # 30 days plus the widened day, minus the days the sandbox person skipped: > 25 (one page)
    assert raw.height > 25
    assert raw["vendor_id"].n_unique() == raw.height


async def test_a_401_mid_pull_is_recovered_by_one_refresh_saved_before_use(link, registry, sandbox):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    store = MemoryTokenStore()
    sandbox.cloud["whoop"].oauth.expire_access_tokens()
    async with httpx.AsyncClient() as http:
        client = whoop.client(http, connection, store)
        page = await client.get_json(
            whoop.url("api") + "/v2/activity/sleep",
            params={"start": "2025-01-01T00:00:00Z", "limit": 5},
        )
    assert page["records"]
    assert client.refreshes == 1
    saved = store.latest(connection.id)
    assert saved is not None and saved.refresh_token != connection.tokens.refresh_token
    assert client.connection.tokens == saved


async def test_429_with_retry_after_is_honoured(link, registry, sandbox):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    state = sandbox.cloud["whoop"]
    state.budget = Budget(limit=1, window_s=1.0)
    try:
        async with httpx.AsyncClient() as http:
            client = whoop.client(http, connection, MemoryTokenStore())
            url = whoop.url("api") + "/v2/cycle"
            spend = await http.get(
                url, headers={"Authorization": f"Bearer {connection.tokens.access_token}"}
            )
            assert spend.status_code == 200
            before = state.requests
            await client.get_json(url, params={"start": "2025-01-01T00:00:00Z"})
    finally:
        state.budget = None
    assert client.waits and client.waits[0] >= 1
    # One 429, then one request that got through: a retry sooner than Retry-After would have
    # met the full budget again (the budget's window is the 1 s it advertised).
    assert state.requests - before == 2


async def test_5xx_is_retried_with_backoff(link, registry, sandbox):
    whoop = registry.get("whoop")
    connection = await link(whoop)
    sandbox.cloud["whoop"].fail_next.extend([503, 502])
    async with httpx.AsyncClient() as http:
        client = whoop.client(http, connection, MemoryTokenStore())
        body = await client.get_json(whoop.url("api") + "/v2/user/measurement/body")
    assert body["weight_kilogram"] == PERSONS["ada"].weight_kg


async def test_webhook_signature_accepted_when_right_rejected_when_wrong_or_missing(
    registry, sandbox
):
    whoop = registry.get("whoop")
    headers, body = whoop_emulator.webhook(
        sandbox.cloud["whoop"], PERSONS["ada"], "sleep.updated", "abc"
    )
    whoop.verify_webhook(headers, body)
    [request] = whoop.parse_webhook(headers, body)
    assert (request.record_type, request.object_id, request.event) == ("sleep", "abc", "updated")
    with pytest.raises(WebhookVerificationError):
        whoop.verify_webhook(headers, body.replace(b"abc", b"abd"))
    with pytest.raises(WebhookVerificationError):
        whoop.verify_webhook(
            {"X-WHOOP-Signature-Timestamp": headers["X-WHOOP-Signature-Timestamp"]}, body
        )
    stale = whoop_emulator.webhook(
        sandbox.cloud["whoop"],
        PERSONS["ada"],
        "sleep.updated",
        "abc",
        timestamp_ms=int((time.time() - 3600) * 1000),
    )
    with pytest.raises(WebhookVerificationError):
        whoop.verify_webhook(*stale)


async def test_a_timeout_is_retried(link, registry, sandbox):
    from providers.http import RetryPolicy
    from providers.types import ProviderSettings
    from providers.whoop import WhoopProvider

    settings = ProviderSettings.from_mapping(sandbox.settings()["whoop"])
    impatient = WhoopProvider(settings, policy=RetryPolicy(timeout_s=0.3, backoff_base_s=0.05))
    connection = await link(impatient)
    sandbox.cloud["whoop"].slow_next.append(1.0)
    async with httpx.AsyncClient() as http:
        client = impatient.client(http, connection, MemoryTokenStore())
        body = await client.get_json(impatient.url("api") + "/v2/user/measurement/body")
    assert body["height_meter"] == PERSONS["ada"].height_m


async def test_a_rotated_token_that_cannot_be_saved_is_not_used(link, registry, sandbox):
    from providers.errors import TokenStoreError

    class BrokenStore(MemoryTokenStore):
        async def save(self, connection_id, tokens):
            raise OSError("database is down")

    whoop = registry.get("whoop")
    connection = await link(whoop)
    sandbox.cloud["whoop"].oauth.expire_access_tokens()
    async with httpx.AsyncClient() as http:
        client = whoop.client(http, connection, BrokenStore())
        with pytest.raises(TokenStoreError):
            await client.get_json(whoop.url("api") + "/v2/user/measurement/body")
    assert client.connection.tokens == connection.tokens
    assert client.refreshes == 0


async def test_recovery_lands_on_its_sleeps_day(link, registry):
    whoop = registry.get("whoop")
    connection = await link(whoop, user="ben")  # UTC-5: wake-up day and UTC day can differ
    raw = await whoop.pull(
        connection, WINDOW, MemoryTokenStore(), record_types=("sleep", "recovery")
    )
    days = {(r["record_type"], r["vendor_id"]): r["day"] for r in raw.iter_rows(named=True)}
    recoveries = [(vid, day) for (rt, vid), day in days.items() if rt == "recovery"]
    assert recoveries
    assert all(days[("sleep", vid)] == day for vid, day in recoveries)
