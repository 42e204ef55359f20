"""Webhooks signed the vendor's way by the sandbox: accepted when right, rejected when wrong
or missing, and parsed into sync requests."""

from __future__ import annotations

import time
from datetime import date

import pytest

from providers.errors import WebhookPayloadError, WebhookVerificationError
from providers.sandbox import garmin, oura, polar, withings
from providers.sandbox.physiology import PERSONS

ADA = PERSONS["ada"]


def test_oura_hex_signature_over_timestamp_and_body(registry, sandbox):
    provider = registry.get("oura")
    headers, body = oura.webhook(sandbox.cloud["oura"], ADA, "daily_readiness", "doc-1")
    provider.verify_webhook(headers, body)  # upper-case hex is accepted (case-insensitive)
    [request] = provider.parse_webhook(headers, body)
    assert (request.record_type, request.object_id, request.event) == (
        "daily_readiness",
        "doc-1",
        "update",
    )
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook(headers | {"x-oura-signature": "00" * 32}, body)
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook({"x-oura-timestamp": headers["x-oura-timestamp"]}, body)
    old = oura.webhook(sandbox.cloud["oura"], ADA, "sleep", "x", timestamp=int(time.time()) - 900)
    with pytest.raises(WebhookVerificationError, match="skew"):
        provider.verify_webhook(*old)


def test_polar_hex_signature_over_the_body(registry):
    provider = registry.get("polar")
    headers, body = polar.webhook(ADA, "SLEEP", "2025-02-10")
    provider.verify_webhook(headers, body)
    [request] = provider.parse_webhook(headers, body)
    assert (request.record_type, request.day) == ("sleep", date(2025, 2, 10))
    forged = polar.webhook(ADA, "SLEEP", "2025-02-10", secret="not-the-key")
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook(*forged)
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook({}, body)
    ping_headers, ping = polar.webhook(ADA, "PING", "2025-02-10")
    provider.verify_webhook(ping_headers, ping)
    assert provider.parse_webhook(ping_headers, ping) == []


def test_garmin_push_needs_the_client_id_header_and_carries_the_summaries(registry, sandbox, link):
    provider = registry.get("garmin")
    headers, body = garmin.push(sandbox.cloud["garmin"], ADA, "sleeps", date(2025, 2, 10))
    provider.verify_webhook(headers, body)
    [request] = provider.parse_webhook(headers, body)
    assert (request.record_type, request.day) == ("sleeps", date(2025, 2, 10))
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook({"garmin-client-id": "someone-else"}, body)
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook({}, body)
    with pytest.raises(WebhookPayloadError, match="unknown summary"):
        provider.parse_webhook(headers, b'{"sleep": []}')


@pytest.mark.anyio
async def test_garmin_push_records_format_like_pulled_ones(registry, sandbox, link):
    provider = registry.get("garmin")
    connection = await link(provider)
    _headers, body = garmin.push(sandbox.cloud["garmin"], ADA, "respiration", date(2025, 2, 10))
    raw = provider.push_records(connection, body)
    assert raw["record_type"].to_list() == ["respiration"]
    rows = provider.format(raw)
    assert set(rows["indicator"]) == {"respiratory_rate"}


def test_withings_notifications_are_unsigned_form_posts(registry):
    provider = registry.get("withings")
    headers, body = withings.notification(ADA, 44, 1739145600, 1739232000)
    provider.verify_webhook(headers, body)
    [request] = provider.parse_webhook(headers, body)
    assert request.record_type == "sleep" and request.window is not None
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook({"content-type": "application/json"}, body)
    with pytest.raises(WebhookVerificationError):
        provider.verify_webhook(headers, b"appli=44")


def test_oura_subscription_handshake_echoes_the_challenge(registry):
    provider = registry.get("oura")
    token = provider.settings.options["verification_token"]
    assert provider.verification_challenge({"verification_token": token, "challenge": "c-42"}) == {
        "challenge": "c-42"
    }
    with pytest.raises(WebhookVerificationError):
        provider.verification_challenge({"verification_token": "guess", "challenge": "c"})


@pytest.mark.anyio
async def test_webhook_requests_are_fetched_and_formatted(registry, sandbox, link):
    from providers.sandbox import whoop
    from providers.sandbox.cloud import stable_id
    from providers.types import MemoryTokenStore

    day = date(2025, 2, 12)
    provider = registry.get("whoop")
    connection = await link(provider)
    sleep_id = stable_id("whoop-sleep", "ada", day)
    headers, body = whoop.webhook(sandbox.cloud["whoop"], ADA, "recovery.updated", sleep_id)
    provider.verify_webhook(headers, body)
    raw = await provider.pull_requested(
        connection, provider.parse_webhook(headers, body), MemoryTokenStore()
    )
    assert sorted(raw["record_type"]) == ["recovery", "sleep"]
    rows = provider.format(raw)
    assert "recovery_score" in set(rows["indicator"])

    oura_provider = registry.get("oura")
    oura_connection = await link(oura_provider)
    doc_id = stable_id("oura", "daily_readiness", "ada", day)
    headers, body = oura.webhook(sandbox.cloud["oura"], ADA, "daily_readiness", doc_id)
    raw = await oura_provider.pull_requested(
        oura_connection, oura_provider.parse_webhook(headers, body), MemoryTokenStore()
    )
    assert raw["vendor_id"].to_list() == [doc_id]

    polar_provider = registry.get("polar")
    polar_connection = await link(polar_provider)
    headers, body = polar.webhook(ADA, "SLEEP", "2025-02-12")
    raw = await polar_provider.pull_requested(
        polar_connection, polar_provider.parse_webhook(headers, body), MemoryTokenStore()
    )
    assert date(2025, 2, 12) in set(raw["day"])


@pytest.mark.anyio
async def test_garmin_ping_fetches_its_callback_on_the_api_host_only(registry, sandbox, link):
    from providers.types import MemoryTokenStore

    provider = registry.get("garmin")
    connection = await link(provider)
    base = provider.settings.base_url
    headers, body = garmin.ping(base, ADA, "sleeps", date(2025, 2, 11))
    provider.verify_webhook(headers, body)
    [request] = provider.parse_webhook(headers, body)
    assert request.event == "ping"
    raw = await provider.pull_requested(connection, [request], MemoryTokenStore())
    assert raw["record_type"].to_list() == ["sleeps"]  # uploaded on the morning of the 11th
    evil = garmin.ping("http://203.0.113.9/wellness-api/rest", ADA, "sleeps", date(2025, 2, 11))
    with pytest.raises(WebhookPayloadError, match="API host"):
        await provider.pull_requested(connection, provider.parse_webhook(*evil), MemoryTokenStore())
