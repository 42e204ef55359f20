"""The MCP client configurations of docs/mcp.md work as written: Claude Desktop over stdio,
Cursor with a Bearer token, Cursor with a secret URL, and MCP Inspector's CLI with a secret URL.

Each configuration is read from the document itself; only its placeholders (the example host,
account, token, secret URL and project path) are replaced by this run's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import anyio
import httpx
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mirobody_assets.settings import Settings

EXAMPLE_HOST = "https://mirobody.example.org"
EXAMPLE_SECRET_URL = f"{EXAMPLE_HOST}/mcp/u/mcpk_.../mcp"
_BLOCK = re.compile(r"^( *)```(\w+)\n(.*?)^\1```", re.MULTILINE | re.DOTALL)
ALICE_DAY = {"start_day": "2025-01-14", "end_day": "2025-01-14", "indicators": ["steps"]}
NETWORK_TROUBLE = ("ENOTFOUND", "EAI_AGAIN", "ECONNREFUSED registry", "ETIMEDOUT")


def _blocks(project_root: Path, language: str) -> list[str]:
    text = (project_root / "docs" / "mcp.md").read_text()
    return [
        textwrap.dedent(indent + body)
        for indent, lang, body in _BLOCK.findall(text)
        if lang == language
    ]


def _server_configs(project_root: Path) -> list[dict[str, Any]]:
    """Every `mcpServers.mirobody` entry the document shows."""
    return [
        json.loads(block)["mcpServers"]["mirobody"]
        for block in _blocks(project_root, "json")
        if '"mcpServers"' in block
    ]


def _fill(value: str, live: Any, alice: Any, secret_url: str, project_root: Path) -> str:
    return (
        value.replace(EXAMPLE_SECRET_URL, secret_url)
        .replace(EXAMPLE_HOST, live.url)
        .replace("<access token from POST /v1/auth/login>", alice.access_token)
        .replace("you@example.org", alice.email)
        .replace("/path/to/mirobody", str(project_root))
    )


@pytest.fixture(scope="module")
def secret_url(live: Any, alice: Any) -> str:
    created = httpx.post(
        f"{live.url}/v1/mcp/urls", json={"name": "documented clients"}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    url: str = created.json()["url"]
    return url


def _steps_over_http(url: str, headers: dict[str, str]) -> float:
    async def go() -> float:
        with anyio.fail_after(60):
            async with (
                create_mcp_http_client(headers=headers) as http,
                mcp.Client(streamable_http_client(url, http_client=http)) as client,
            ):
                result = await client.call_tool("get_daily_summary", ALICE_DAY)
                return float(result.structured_content["data"][0]["value"])

    return anyio.run(go)


def test_the_document_shows_every_client_configuration(project_root: Path) -> None:
    configs = _server_configs(project_root)
    assert [sorted(c) for c in configs] == [["args", "command", "env"], ["headers", "url"], ["url"]]
    assert any("inspector --cli" in b for b in _blocks(project_root, "bash"))


def test_a_secret_url_ends_in_mcp_and_works_with_its_old_form_too(
    live: Any, secret_url: str
) -> None:
    assert secret_url.startswith(f"{live.url}/mcp/u/mcpk_") and secret_url.endswith("/mcp")
    assert _steps_over_http(secret_url, {}) == 1013.0
    assert _steps_over_http(secret_url.removesuffix("/mcp"), {}) == 1013.0


def test_cursor_with_a_bearer_token_as_documented(
    live: Any, alice: Any, secret_url: str, project_root: Path
) -> None:
    config = _server_configs(project_root)[1]
    url = _fill(config["url"], live, alice, secret_url, project_root)
    headers = {
        k: _fill(v, live, alice, secret_url, project_root) for k, v in config["headers"].items()
    }
    assert _steps_over_http(url, headers) == 1013.0


def test_cursor_with_a_secret_url_as_documented(
    live: Any, alice: Any, secret_url: str, project_root: Path
) -> None:
    config = _server_configs(project_root)[2]
    url = _fill(config["url"], live, alice, secret_url, project_root)
    assert url == secret_url
    assert _steps_over_http(url, {}) == 1013.0


@pytest.mark.slow
def test_claude_desktop_over_stdio_as_documented(
    live: Any, alice: Any, secret_url: str, project_root: Path, mcp_settings: Settings
) -> None:
    config = _server_configs(project_root)[0]
    command = Path(_fill(config["command"], live, alice, secret_url, project_root))
    if not command.exists():  # the suite runs from another environment than the project's
        command = Path(sys.executable).parent / "mirobody"
    args = [_fill(a, live, alice, secret_url, project_root) for a in config["args"]]
    # The documented variables, with this run's servers and data folder as their values.
    assert set(config["env"]) == {"DATABASE_URL", "REDIS_URL", "DATA_DIR"}
    assert mcp_settings.jwt_signing_key and mcp_settings.token_encryption_keys
    env = {
        "DATABASE_URL": mcp_settings.database_url or "",
        "REDIS_URL": mcp_settings.redis_url or "",
        "DATA_DIR": str(mcp_settings.data_dir),
        # Outside development, as the document says, the API's secrets too.
        "ENVIRONMENT": "test",
        "REDIS_PREFIX": mcp_settings.redis_prefix,
        "JWT_SIGNING_KEY": mcp_settings.jwt_signing_key.get_secret_value(),
        "TOKEN_ENCRYPTION_KEYS": mcp_settings.token_encryption_keys.get_secret_value(),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
    }
    params = StdioServerParameters(command=str(command), args=args, env=env)

    async def go() -> float:
        with anyio.fail_after(90):
            async with mcp.Client(params, mode="legacy") as client:
                result = await client.call_tool("get_daily_summary", ALICE_DAY)
                return float(result.structured_content["data"][0]["value"])

    assert anyio.run(go) == 1013.0


@pytest.mark.slow
def test_mcp_inspector_cli_as_documented(
    live: Any, alice: Any, secret_url: str, project_root: Path, tmp_path: Path
) -> None:
    if shutil.which("npx") is None:
        pytest.skip("no Node.js (npx) on this machine: MCP Inspector's CLI cannot run")
    [line] = [
        ln.strip()
        for b in _blocks(project_root, "bash")
        for ln in b.splitlines()
        if "inspector --cli" in ln
    ]
    argv = _fill(line, live, alice, secret_url, project_root).split()
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=tmp_path,
        env={**os.environ, "npm_config_yes": "true"},
    )
    if done.returncode != 0 and any(m in done.stderr for m in NETWORK_TROUBLE):
        pytest.skip(f"npx could not fetch MCP Inspector: {done.stderr.strip()[-200:]}")
    assert done.returncode == 0, done.stderr[-2000:]
    tools = {t["name"] for t in json.loads(done.stdout)["tools"]}
    assert {"get_daily_summary", "query_sql", "get_user_health_profile"} <= tools
