"""The AI page: a secret MCP URL created there lists the tools over real streamable HTTP, its
client configurations carry it, revoking it stops it; the chat says why it is unavailable."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator

import anyio
import httpx
import mcp
import pytest

from api.app import create_app
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from tests.support.live import free_port, serving
from tests.web.pages import Browser, web_api_settings


@pytest.fixture
def live_base(settings: Settings, registry: ProviderRegistry) -> Iterator[str]:
    """Another app on the same database and Redis, on a loopback port (the MCP client
    speaks real HTTP; the MCP session manager runs once per app)."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(settings, api_settings=web_api_settings(public_url=base), registry=registry)
    with serving(app, port):
        yield base


async def _tool_names(url: str) -> list[str]:
    async with mcp.Client(url) as client:
        return sorted(t.name for t in (await client.list_tools()).tools)


def test_create_use_and_revoke_a_secret_mcp_url(browser: Browser) -> None:
    browser.sign_up()
    page = browser.get("/app/ai")
    assert "No active URLs" in page.text
    empty = browser.submit("/app/ai", "/app/ai/mcp-urls", {"name": "\x01"})
    assert empty.status_code == 422 and 'id="name-error"' in empty.text

    created = browser.submit("/app/ai", "/app/ai/mcp-urls", {"name": "Claude on my laptop"})
    assert created.status_code == 200
    shown = re.search(r'<code id="mcp-url">([^<]+)</code>', created.text)
    assert shown
    url = html.unescape(shown.group(1))
    assert url.startswith("http://testserver/mcp/u/mcpk_")
    configs = html.unescape(created.text)
    assert json.dumps({"mcpServers": {"mirobody": {"url": url}}}, indent=2) in configs
    assert f"claude mcp add --transport http mirobody {url}" in configs
    # Shown once: the next visit lists it by its hint only.
    listed = browser.get("/app/ai").text
    assert "Claude on my laptop" in listed and url not in listed
    assert url.split("/mcp/u/")[1][:9] in listed


@pytest.mark.slow
def test_a_url_from_the_page_lists_tools_until_revoked(live_base: str) -> None:
    base = live_base
    with httpx.Client(base_url=base, follow_redirects=False, timeout=30) as http:
        browser = Browser(http)  # type: ignore[arg-type]
        browser.sign_up()
        created = browser.submit("/app/ai", "/app/ai/mcp-urls", {"name": "agent"})
        shown = re.search(r'<code id="mcp-url">([^<]+)</code>', created.text)
        assert shown
        url = html.unescape(shown.group(1))
        assert url.startswith(f"{base}/mcp/u/mcpk_")
        names = anyio.run(_tool_names, url)
        assert "get_user_health_profile" in names
        link_id = created.text.split('action="/app/ai/mcp-urls/')[1].split("/revoke")[0]
        revoked = browser.submit("/app/ai", f"/app/ai/mcp-urls/{link_id}/revoke", {})
        assert revoked.status_code == 303
        with pytest.raises(Exception):  # noqa: B017 - the client raises its own error types
            anyio.run(_tool_names, url)


def test_chat_without_a_back_end_says_why(browser: Browser) -> None:
    browser.sign_up()
    page = browser.get("/app/ai").text
    assert "The chat is not available on this installation" in page
