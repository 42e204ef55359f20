"""Tools of external MCP servers (from CHAT_MCP_SERVERS), through the SDK's client.

An agent gets a server's tool only when its allow-list names it ("<server>__<tool>") or the
whole server ("<server>__*"). The tools are listed per answer; a server that cannot be reached
contributes nothing (logged) rather than failing the answer. External servers do not know the
person: nothing about the caller is sent to them beyond the model's arguments.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx2  # the MCP SDK's HTTP client (a fork of httpx)
import mcp
from mcp.shared.exceptions import MCPError

from api.chat.config import McpServerConfig
from api.chat.tools import ToolOutcome, clip, parse_arguments, result_text

log = logging.getLogger(__name__)
SEP = "__"


def _unreachable(exc: BaseException) -> bool:
    """A connection or protocol failure (the SDK's task group wraps them in a group)."""
    if isinstance(exc, BaseExceptionGroup):
        return all(_unreachable(e) for e in exc.exceptions)
    return isinstance(exc, (httpx2.HTTPError, OSError, MCPError, TimeoutError))


def allows(allow: tuple[str, ...] | None, server: str, tool: str) -> bool:
    return allow is not None and (f"{server}{SEP}{tool}" in allow or f"{server}{SEP}*" in allow)


@dataclass
class ExternalTools:
    """The external tools one answer may call: OpenAI schemas and where each one lives."""

    budget: int
    schemas: list[dict[str, Any]] = field(default_factory=list)
    where: dict[str, tuple[McpServerConfig, str]] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.where

    async def call(self, name: str, arguments_json: str) -> ToolOutcome:
        server, tool = self.where[name]
        arguments = parse_arguments(arguments_json)
        if isinstance(arguments, ToolOutcome):
            return arguments
        try:
            async with mcp.Client(server.url, read_timeout_seconds=server.timeout_s) as client:
                result = await client.call_tool(tool, arguments)
        except (httpx2.HTTPError, OSError, MCPError, TimeoutError, ExceptionGroup) as exc:
            if not _unreachable(exc):
                raise
            log.warning("external MCP tool %s failed (%s)", name, type(exc).__name__)
            return ToolOutcome(f"the {server.name} tool server did not answer", True)
        return ToolOutcome(clip(result_text(result), self.budget), result.is_error)


async def discover(
    servers: tuple[McpServerConfig, ...], allow: tuple[str, ...] | None, budget: int
) -> ExternalTools:
    """List the allowed tools of every server the allow-list mentions."""
    found = ExternalTools(budget)
    for server in servers:
        if allow is None or not any(a.startswith(server.name + SEP) for a in allow):
            continue
        try:
            async with mcp.Client(server.url, read_timeout_seconds=server.timeout_s) as client:
                listed = await client.list_tools()
        except (httpx2.HTTPError, OSError, MCPError, TimeoutError, ExceptionGroup) as exc:
            if not _unreachable(exc):
                raise
            log.warning(
                "external MCP server %s unreachable (%s); its tools are left out",
                server.name,
                type(exc).__name__,
            )
            continue
        for tool in listed.tools:
            if allows(allow, server.name, tool.name):
                name = f"{server.name}{SEP}{tool.name}"
                found.where[name] = (server, tool.name)
                found.schemas.append(
                    {
                        "type": "function",
                        "function": {
                            "name": name,
                            "description": tool.description or "",
                            "parameters": tool.input_schema,
                        },
                    }
                )
    return found
