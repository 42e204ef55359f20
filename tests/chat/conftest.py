"""The chat against this run's real PostgreSQL and Redis and a scripted OpenAI-compatible server.

`FakeLLM` is a small FastAPI app on uvicorn (its own port, own thread) answering
POST /{backend}/v1/chat/completions with streamed chunks in OpenAI's wire format; each test
scripts each back end (`fake.script("primary", ...)`) and reads what it was sent. The API app
(create_app + the chat router) runs on uvicorn too, so SSE and disconnects are real HTTP.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.responses import StreamingResponse
from mcp.server.mcpserver import MCPServer
from sqlalchemy import Engine, text

from api.app import create_app
from api.chat.config import load_chat_config
from api.chat.router import install_chat
from api.chat.service import ChatRuntime
from api.config import ApiSettings
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from tests.support.live import Account, live_settings, register_account, serving


@dataclass
class Reply:
    """One scripted model answer: text parts, tool calls, an HTTP error, or a delay first."""

    text: list[str] = field(default_factory=list)
    tool_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    status: int = 200
    delay_s: float = 0.0
    part_delay_s: float = 0.0
    break_after: int | None = None  # drop the connection after this many text parts


Script = Callable[[dict[str, Any]], Reply]


def _chunk(delta: dict[str, Any], finish: str | None = None) -> str:
    body = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "fake",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


class FakeLLM:
    def __init__(self) -> None:
        self.scripts: dict[str, Script] = {}
        self.requests: dict[str, list[dict[str, Any]]] = {}
        self.finished: list[bool] = []
        self.streams_ended = 0  # answers that finished, broke or were cut off by the client
        self.app = FastAPI()
        self.app.post("/{backend}/v1/chat/completions")(self._complete)

    def script(self, backend: str, fn: Script) -> None:
        self.scripts[backend] = fn

    def reset(self) -> None:
        self.scripts.clear()
        self.requests.clear()
        self.finished.clear()
        self.streams_ended = 0

    async def _complete(self, backend: str, request: Request) -> Response:
        body = await request.json()
        self.requests.setdefault(backend, []).append(body)
        script = self.scripts.get(backend)
        reply = script(body) if script is not None else Reply(text=["ok"])
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            return Response(
                json.dumps({"error": {"message": "scripted failure"}}),
                status_code=reply.status,
                media_type="application/json",
            )
        return StreamingResponse(self._stream(reply), media_type="text/event-stream")

    async def _stream(self, reply: Reply) -> AsyncIterator[str]:
        index = len(self.finished)
        self.finished.append(False)
        try:
            yield _chunk({"role": "assistant", "content": ""})
            for n, part in enumerate(reply.text):
                if n == reply.break_after:
                    raise ConnectionAbortedError("scripted: connection dropped mid-answer")
                if reply.part_delay_s:
                    await asyncio.sleep(reply.part_delay_s)
                yield _chunk({"content": part})
            for i, (name, args) in enumerate(reply.tool_calls):
                raw = json.dumps(args)
                yield _chunk(
                    {
                        "tool_calls": [
                            {
                                "index": i,
                                "id": f"call_{i}_{secrets.token_hex(3)}",
                                "type": "function",
                                "function": {"name": name, "arguments": ""},
                            }
                        ]
                    }
                )
                for cut in range(0, len(raw), 7):  # arguments arrive in pieces, as they do
                    yield _chunk(
                        {
                            "tool_calls": [
                                {"index": i, "function": {"arguments": raw[cut : cut + 7]}}
                            ]
                        }
                    )
            yield _chunk({}, "tool_calls" if reply.tool_calls else "stop")
            yield "data: [DONE]\n\n"
            self.finished[index] = True
        finally:
            self.streams_ended += 1


@dataclass
class Live:
    url: str
    app: FastAPI
    fake: FakeLLM
    fake_url: str

    def configure(
        self,
        backends: list[dict[str, Any]],
        agents: list[dict[str, Any]],
        mcp_servers: list[dict[str, Any]] | None = None,
        **limits: Any,
    ) -> None:
        """Give the chat these back ends (keys: every *_KEY variable is set except
        MISSING_KEY), agents and external MCP servers."""
        env = {
            "CHAT_BACKENDS": json.dumps(backends),
            "CHAT_AGENTS": json.dumps(agents),
            "CHAT_MCP_SERVERS": json.dumps(mcp_servers or []),
            "PRIMARY_KEY": "k1",
            "SECONDARY_KEY": "k2",
        }
        limits.setdefault("generate_titles", False)  # tests count the model's requests
        install_chat(self.app, ChatRuntime.from_config(load_chat_config(env, **limits)))

    def backend(self, name: str, key: str = "PRIMARY_KEY", **extra: Any) -> dict[str, Any]:
        return {
            "name": name,
            "base_url": f"{self.fake_url}/{name}/v1",
            "api_key_env": key,
            "model": f"model-{name}",
            "context_window": 4096,
            "timeout_s": 5,
        } | extra


@pytest.fixture(scope="session")
def chat_settings(
    database_url: str, redis_url: str, redis_prefix: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return live_settings(
        database_url, redis_url, redis_prefix + "chat:", tmp_path_factory.mktemp("chat-data")
    )


@pytest.fixture(scope="session")
def live_chat(chat_settings: Settings) -> Iterator[Live]:
    fake = FakeLLM()
    api = ApiSettings.from_settings(
        chat_settings,
        rate_limit_user_per_minute=0,
        rate_limit_ip_per_minute=0,
        rate_limit_auth_ip_per_minute=0,
        argon2_time_cost=1,
        argon2_memory_kib=8192,
    )
    app = create_app(
        chat_settings, api_settings=api, registry=ProviderRegistry.from_entry_points({})
    )
    with serving(fake.app) as fake_url, serving(app) as url:
        yield Live(url, app, fake, fake_url)


@pytest.fixture
def live(live_chat: Live) -> Live:
    """The running chat with a fresh script and the default configuration: back ends
    primary, secondary, and one whose key is missing; agents 'sleep' (daily summaries only)."""
    live_chat.fake.reset()
    live_chat.configure(
        [
            live_chat.backend("primary"),
            live_chat.backend("nokey", key="MISSING_KEY"),
            live_chat.backend("secondary", key="SECONDARY_KEY"),
        ],
        [
            {
                "name": "sleep",
                "system_prompt": "You are a sleep analyst.",
                "tools": ["get_daily_summary"],
            }
        ],
        max_tool_rounds=3,
    )
    return live_chat


@pytest.fixture(scope="session")
def register(live_chat: Live) -> Callable[[str], Account]:
    def make(prefix: str = "user") -> Account:
        return register_account(live_chat.url, prefix)

    return make


def seed_steps(engine: Engine, user_id: str, base: float, days: int = 3) -> None:
    """Daily steps summaries (base + day index) from 2025-01-01."""
    first = date(2025, 1, 1)
    rows = [
        {"user": user_id, "day": first + timedelta(days=d), "value": base + d} for d in range(days)
    ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO daily_summary (user_id, indicator, day, value, unit, source, n_values,"
                " sources) VALUES (:user, 'steps', :day, :value, '{steps}', 'whoop', 1, 'whoop')"
            ),
            rows,
        )
        conn.execute(
            text(
                "INSERT INTO provider_connections (user_id, provider, status, last_success_at) "
                "VALUES (:user, 'whoop', 'active', :now) ON CONFLICT DO NOTHING"
            ),
            {"user": user_id, "now": datetime.now(UTC)},
        )


@pytest.fixture(scope="session")
def alice(register: Callable[[str], Account], engine: Engine) -> Account:
    """Steps 1000, 1001, 1002 on 2025-01-01..03."""
    account = register("alice")
    seed_steps(engine, account.id, 1000.0)
    return account


@pytest.fixture(scope="session")
def bob(register: Callable[[str], Account], engine: Engine) -> Account:
    """Steps 90000, 90001, 90002 (never seen by Alice)."""
    account = register("bob")
    seed_steps(engine, account.id, 90000.0)
    return account


def read_events(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    name = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            events.append((name, json.loads(line[6:])))
    return events


@pytest.fixture(scope="session")
def ask(live_chat: Live) -> Callable[..., list[tuple[str, dict[str, Any]]]]:
    """POST /v1/chat and collect every SSE event."""

    def run(account: Account, message: str, **body: Any) -> list[tuple[str, dict[str, Any]]]:
        with (
            httpx.Client(base_url=live_chat.url, timeout=30) as http,
            http.stream(
                "POST", "/v1/chat", json={"message": message} | body, headers=account.headers
            ) as response,
        ):
            assert response.status_code == 200, response.read()
            assert response.headers["content-type"].startswith("text/event-stream")
            return read_events(response)

    return run


@pytest.fixture(scope="session")
def reply() -> type[Reply]:
    """The `Reply` class (conftest modules are not importable)."""
    return Reply


@pytest.fixture(scope="session")
def weather_mcp() -> Iterator[str]:
    """An external MCP server (streamable HTTP) with two tools; its /mcp URL."""
    server = MCPServer("weather")

    @server.tool()
    def get_weather(city: str) -> str:
        """Today's weather in a city."""
        return f"sunny and 21 C in {city}"

    @server.tool()
    def get_pollen(city: str) -> str:
        """Today's pollen count in a city."""
        return f"pollen low in {city}"

    with serving(server.streamable_http_app()) as url:
        yield f"{url}/mcp"
