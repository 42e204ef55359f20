"""The stdio server as a subprocess, and a plugin tool installed from its own package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters

from api.mcp.context import McpDeps
from api.mcp.server import build_server, build_tools
from mirobody_assets.settings import Settings
from tests.support.wheels import build_plugin_wheel, pip_install_target


def _env(settings: Settings) -> dict[str, str]:
    assert settings.jwt_signing_key and settings.token_encryption_keys
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "ENVIRONMENT": "test",
        "DATABASE_URL": settings.database_url or "",
        "REDIS_URL": settings.redis_url or "",
        "REDIS_PREFIX": settings.redis_prefix,
        "DATA_DIR": str(settings.data_dir),
        "JWT_SIGNING_KEY": settings.jwt_signing_key.get_secret_value(),
        "TOKEN_ENCRYPTION_KEYS": settings.token_encryption_keys.get_secret_value(),
    }


@pytest.mark.slow
def test_the_stdio_server_answers_initialize_and_tools_list(
    mcp_settings: Settings, alice: Any, project_root: Path
) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "api.mcp.stdio"],
        env=_env(mcp_settings) | {"MIROBODY_MCP_USER": alice.email},
        cwd=str(project_root),
    )

    async def go() -> tuple[str, set[str], Any]:
        with anyio.fail_after(60):
            return await session()

    async def session() -> tuple[str, set[str], Any]:
        async with mcp.Client(params, mode="legacy") as client:
            assert client.session is not None
            info = client.server_info
            tools = {t.name for t in (await client.list_tools()).tools}
            steps = await client.call_tool(
                "get_daily_summary",
                {"start_day": "2025-01-14", "end_day": "2025-01-14", "indicators": ["steps"]},
            )
            return info.name, tools, steps.structured_content

    name, tools, steps = anyio.run(go)
    assert name == "mirobody"
    assert {"get_user_health_profile", "query_sql", "render_chart"} <= tools
    assert steps["data"][0]["value"] == 1013.0


def test_the_stdio_server_refuses_an_unknown_user(
    mcp_settings: Settings, project_root: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "api.mcp.stdio", "nobody@example.org"],
        env=_env(mcp_settings),
        cwd=project_root,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert done.returncode == 2
    assert "no account" in done.stderr and done.stdout == ""


PLUGIN = '''
"""A third-party tool for Mirobody."""
from typing import Annotated

from pydantic import Field

from api.mcp.context import current_caller


def greet_caller(greeting: Annotated[str, Field(max_length=20)] = "hello") -> str:
    """Greet the person this MCP connection acts for (a plugin tool)."""
    return f"{greeting}, {current_caller().user_id}"
'''


def _build_wheel(folder: Path) -> Path:
    """A plugin wheel with entry points in `mirobody.tools`: one good, one that tries to replace
    a built-in, one that fails to load."""
    return build_plugin_wheel(
        folder,
        "mirobody-greeter",
        "mirobody_greeter",
        PLUGIN,
        {
            "mirobody.tools": {
                "greet_caller": "mirobody_greeter:greet_caller",
                "query_sql": "mirobody_greeter:greet_caller",
                "broken": "mirobody_greeter:missing",
            }
        },
    )


@pytest.mark.slow
def test_a_plugin_package_adds_a_tool_without_touching_project_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, live: Any, alice: Any
) -> None:
    target = tmp_path / "site"
    pip_install_target(_build_wheel(tmp_path), target)
    monkeypatch.syspath_prepend(str(target))
    tools = build_tools()
    assert "greet_caller" in tools
    assert tools["query_sql"].fn.__module__ == "api.mcp.tools.sql"  # a plugin cannot replace it
    assert "broken" not in tools  # a plugin that fails to load is skipped
    server = build_server(lambda: McpDeps(live.state, alice.user_id))

    async def go() -> Any:
        async with mcp.Client(server) as client:
            listed = {t.name: t for t in (await client.list_tools()).tools}
            assert "Greet the person" in (listed["greet_caller"].description or "")
            return await client.call_tool("greet_caller", {"greeting": "hi"})

    result = anyio.run(go)
    assert not result.is_error
    assert result.structured_content == {"result": f"hi, {alice.id}"}
