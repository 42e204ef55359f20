"""Streamable HTTP against uvicorn: the protocol versions, both credentials, isolation."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import anyio
import httpx
import mcp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from api.mcp.server import install_mcp, transport_security

VERSIONS = ["2025-06-18", "2025-11-25"]
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def _messages(response: httpx.Response) -> list[dict[str, Any]]:
    """JSON-RPC messages of a response, whether JSON or an SSE stream."""
    if response.headers["content-type"].startswith("application/json"):
        return [response.json()]
    return [
        json.loads(line[5:])
        for line in response.text.splitlines()
        if line.startswith("data:") and line[5:].strip()
    ]


class RawSession:
    """A minimal MCP client speaking JSON-RPC over streamable HTTP by hand."""

    def __init__(self, url: str, version: str, headers: dict[str, str]) -> None:
        self.http = httpx.Client(timeout=30)
        self.url, self.version = url, version
        self.headers = ACCEPT | headers
        self.next_id = 0

    def initialize(self) -> dict[str, Any]:
        reply = self._post(
            {
                "jsonrpc": "2.0",
                "id": self._id(),
                "method": "initialize",
                "params": {
                    "protocolVersion": self.version,
                    "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"},
                },
            }
        )
        self.headers |= {
            "Mcp-Session-Id": reply.headers["mcp-session-id"],
            "MCP-Protocol-Version": self.version,
        }
        accepted = self.http.post(
            self.url,
            headers=self.headers,
            json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        )
        assert accepted.status_code == 202, accepted.text
        return _messages(reply)[-1]

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"jsonrpc": "2.0", "id": self._id(), "method": method}
        if params is not None:
            body["params"] = params
        return _messages(self._post(body))[-1]

    def _post(self, body: dict[str, Any]) -> httpx.Response:
        response = self.http.post(self.url, headers=self.headers, json=body)
        assert response.status_code == 200, response.text
        return response

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def close(self) -> None:
        self.http.delete(self.url, headers=self.headers)
        self.http.close()


@pytest.fixture(scope="module")
def secret_url(live: Any, alice: Any) -> str:
    created = httpx.post(
        f"{live.url}/v1/mcp/urls", json={"name": "Claude Desktop"}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    url: str = created.json()["url"]
    return url


@pytest.fixture(params=["bearer", "secret_url"])
def credential(
    request: pytest.FixtureRequest, live: Any, alice: Any, secret_url: str
) -> tuple[str, dict[str, str]]:
    if request.param == "bearer":
        return f"{live.url}/mcp", alice.headers
    return secret_url, {}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_plain_json_rpc_client_lists_everything(
    version: str, credential: tuple[str, dict[str, str]]
) -> None:
    session = RawSession(credential[0], version, credential[1])
    try:
        init = session.initialize()
        assert init["result"]["protocolVersion"] == version
        assert init["result"]["serverInfo"]["name"] == "mirobody"
        assert {"tools", "resources", "prompts"} <= set(init["result"]["capabilities"])
        assert session.request("ping")["result"] == {}
        tools = session.request("tools/list")["result"]["tools"]
        assert "query_sql" in {t["name"] for t in tools}
        assert all("inputSchema" in t for t in tools)
        resources = session.request("resources/list")["result"]["resources"]
        assert "mirobody://indicators" in {r["uri"] for r in resources}
        prompts = session.request("prompts/list")["result"]["prompts"]
        assert {p["name"] for p in prompts} == {"weekly_health_review", "sleep_analysis"}
        steps = session.request(
            "tools/call",
            {
                "name": "get_daily_summary",
                "arguments": {
                    "start_day": "2025-01-01",
                    "end_day": "2025-01-01",
                    "indicators": ["steps"],
                },
            },
        )
        assert steps["result"]["structuredContent"]["data"][0]["value"] == 1000.0
        bad = session.request("tools/call", {"name": "get_daily_summary", "arguments": {}})
        assert bad["error"]["code"] == -32602 and "start_day" in bad["error"]["message"]
    finally:
        session.close()


def _sdk_call(
    url: str, headers: dict[str, str], tool: str, arguments: dict[str, Any], mode: str = "legacy"
) -> Any:
    async def go() -> Any:
        async with (
            create_mcp_http_client(headers=headers) as http,
            mcp.Client(streamable_http_client(url, http_client=http), mode=mode) as c,
        ):
            assert c.session is not None
            return await c.call_tool(tool, arguments)

    return anyio.run(go)


def test_the_sdk_client_over_http_acts_for_the_tokens_owner(
    live: Any, alice: Any, bob: Any
) -> None:
    sql = {
        "sql": "SELECT count(*), max(value) FROM daily_summary WHERE indicator = 'steps'",
        "start_day": "2025-01-01",
        "end_day": "2025-01-31",
    }
    as_alice = _sdk_call(f"{live.url}/mcp", alice.headers, "query_sql", sql)
    as_bob = _sdk_call(f"{live.url}/mcp", bob.headers, "query_sql", sql)
    assert as_alice.structured_content["rows"] == [[14, 1013.0]]
    assert as_bob.structured_content["rows"] == [[3, 90002.0]]
    profile = _sdk_call(f"{live.url}/mcp", bob.headers, "get_user_health_profile", {})
    assert profile.structured_content["user_id"] == bob.id


def test_the_sdk_default_mode_negotiates_the_newest_protocol_too(
    live: Any, bob: Any, secret_url: str
) -> None:
    profile = _sdk_call(f"{live.url}/mcp", bob.headers, "get_user_health_profile", {}, mode="auto")
    assert profile.structured_content["user_id"] == bob.id
    via_url = _sdk_call(
        secret_url,
        {},
        "get_daily_summary",
        {"start_day": "2025-01-14", "end_day": "2025-01-14", "indicators": ["steps"]},
        mode="auto",
    )
    assert via_url.structured_content["data"][0]["value"] == 1013.0


@pytest.mark.parametrize(
    ("path", "headers", "code"),
    [
        ("/mcp", {}, "unauthorized"),
        ("/mcp", {"Authorization": "Bearer not-a-token"}, "invalid_token"),
        ("/mcp/u/mcpk_not-a-real-secret", {}, "invalid_mcp_url"),
    ],
)
def test_requests_without_a_valid_credential_are_refused(
    live: Any, path: str, headers: dict[str, str], code: str
) -> None:
    response = httpx.post(
        live.url + path,
        headers=ACCEPT | headers,
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert response.status_code == 401
    assert response.json()["code"] == code
    assert response.headers["www-authenticate"] == "Bearer"
    assert "not-a-token" not in response.text


def test_a_session_cannot_be_used_with_another_users_credential(
    live: Any, alice: Any, bob: Any
) -> None:
    session = RawSession(f"{live.url}/mcp", VERSIONS[-1], alice.headers)
    try:
        session.initialize()
        hijack = httpx.post(
            f"{live.url}/mcp",
            headers=session.headers | bob.headers,
            json={"jsonrpc": "2.0", "id": 99, "method": "tools/list"},
        )
        assert hijack.status_code == 404
    finally:
        session.close()


def test_a_foreign_host_header_is_refused(live: Any, alice: Any) -> None:
    response = httpx.post(
        f"{live.url}/mcp",
        headers=ACCEPT | alice.headers | {"Host": "evil.example"},
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
    )
    assert response.status_code in (400, 403, 421)


def test_secret_urls_are_created_listed_and_revoked(
    live: Any, register: Callable[[str], Any]
) -> None:
    dana = register("dana")
    with httpx.Client(base_url=live.url, headers=dana.headers, timeout=30) as http:
        created = http.post("/v1/mcp/urls", json={"name": "Cursor"}).json()
        url = created["url"]
        assert url.startswith(f"{live.url}/mcp/u/mcpk_")
        listed = http.get("/v1/mcp/urls").json()
        assert [u["id"] for u in listed["data"]] == [created["id"]]
        assert "url" not in listed["data"][0]
        assert url.endswith("/mcp")  # clients pick streamable HTTP from the ending
        assert url.split("/mcp/u/")[1].removesuffix("/mcp") not in json.dumps(listed)
        session = RawSession(url, VERSIONS[0], {})
        session.initialize()
        session.close()
        assert http.get("/v1/mcp/urls").json()["data"][0]["last_used_at"] is not None
        assert http.delete(f"/v1/mcp/urls/{created['id']}").status_code == 204
        assert http.get("/v1/mcp/urls").json()["count"] == 0
        assert http.delete(f"/v1/mcp/urls/{created['id']}").status_code == 404
    refused = httpx.post(url, headers=ACCEPT, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert refused.status_code == 401


def test_a_user_cannot_revoke_another_users_secret_url(
    live: Any, alice: Any, bob: Any, secret_url: str
) -> None:
    mine = httpx.get(f"{live.url}/v1/mcp/urls", headers=alice.headers).json()["data"][0]
    assert (
        httpx.delete(f"{live.url}/v1/mcp/urls/{mine['id']}", headers=bob.headers).status_code == 404
    )
    assert httpx.get(f"{live.url}/v1/mcp/urls", headers=alice.headers).json()["count"] >= 1


def test_mcp_answers_503_until_the_app_lifespan_runs_it() -> None:
    app = FastAPI()
    install_mcp(app, lambda: pytest.fail("the state is read only when the server starts"))
    with TestClient(app) as client:
        response = client.post("/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 503 and response.json()["code"] == "unavailable"


def test_dns_rebinding_protection_allows_the_public_host(live: Any) -> None:
    allowed = transport_security(live.state)
    assert allowed.enable_dns_rebinding_protection
    assert {"127.0.0.1:*", "localhost:*"} <= set(allowed.allowed_hosts)
    assert live.url.removeprefix("http://") in allowed.allowed_hosts


def test_a_secret_url_never_reaches_the_access_log_path() -> None:
    app = FastAPI()
    install_mcp(app, lambda: pytest.fail("not started"))
    paths: list[str] = []

    async def server(scope: Any, receive: Any, send: Any) -> None:  # what uvicorn logs from
        await app(scope, receive, send)
        if scope["type"] == "http":
            paths.append(scope["path"])

    with TestClient(server) as client:
        client.post("/mcp/u/mcpk_do-not-log-me", json={})
    assert paths == ["/mcp/u/[REDACTED]"]
