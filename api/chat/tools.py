"""The chat's tools are the MCP server's tools: same registry, same schemas, same checks.

`ChatTools` derives OpenAI function schemas from `build_tools()` (the typed functions' input
schemas) and calls a tool through the SDK's in-memory client on a server bound to the caller
(`McpDeps(state, user_id)`), exactly as stdio does: the tools read the person from the bound
caller, never from the model's arguments. Arguments outside a tool's schema (a `user_id` the
model made up) are dropped before the call.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import mcp
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from api.mcp.context import McpDeps
from api.mcp.server import build_server, build_tools
from api.state import AppState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ToolOutcome:
    text: str
    is_error: bool


def parse_arguments(arguments_json: str) -> dict[str, Any] | ToolOutcome:
    """A tool call's JSON arguments as an object, or the error result the model can correct."""
    try:
        arguments = json.loads(arguments_json or "{}")
    except json.JSONDecodeError:
        return ToolOutcome("arguments are not valid JSON", True)
    if not isinstance(arguments, dict):
        return ToolOutcome("arguments must be a JSON object", True)
    return arguments


def clip(text: str, budget: int) -> str:
    """At most `budget` characters, saying so when cut."""
    if len(text) <= budget:
        return text
    note = f"... [cut: {len(text) - budget} more characters; ask for a narrower range]"
    return text[: max(0, budget - len(note))] + note


def result_text(result: CallToolResult) -> str:
    """The structured result as JSON when there is one, else the text blocks (images are
    described, not sent: the model reads text)."""
    if result.structured_content is not None:
        return json.dumps(result.structured_content, default=str, separators=(",", ":"))
    parts = [
        b.text if isinstance(b, TextContent) else f"[{b.type} content]" for b in result.content
    ]
    return "\n".join(parts)


class ChatTools:
    """The MCP tool registry seen as OpenAI tools."""

    def __init__(self, tools: dict[str, Tool] | None = None) -> None:
        self.tools = tools if tools is not None else build_tools()

    def allowed(self, allow: tuple[str, ...] | None) -> list[str]:
        return [n for n in self.tools if allow is None or n in allow]

    def schemas(self, allow: tuple[str, ...] | None) -> list[dict[str, Any]]:
        return [
            {
                "type": "function",
                "function": {
                    "name": name,
                    "description": self.tools[name].description or "",
                    "parameters": self.tools[name].parameters,
                },
            }
            for name in self.allowed(allow)
        ]

    def scoped(
        self, state: AppState, user_id: uuid.UUID, allow: tuple[str, ...] | None, budget: int
    ) -> ScopedTools:
        return ScopedTools(self, state, user_id, set(self.allowed(allow)), budget)


class ScopedTools:
    """The tools one answer may call, acting for one person."""

    def __init__(
        self,
        registry: ChatTools,
        state: AppState,
        user_id: uuid.UUID,
        allowed: set[str],
        budget: int,
    ) -> None:
        self.registry, self.allowed, self.budget = registry, allowed, budget
        self.server = build_server(lambda: McpDeps(state, user_id))

    async def call(self, name: str, arguments_json: str) -> ToolOutcome:
        """Run one tool call; a refusal, bad arguments or a tool error is a readable error
        result the model can correct, never an exception."""
        if name not in self.allowed:
            return ToolOutcome(f"tool {name!r} is not available to this assistant", True)
        arguments = parse_arguments(arguments_json)
        if isinstance(arguments, ToolOutcome):
            return arguments
        known = set(self.registry.tools[name].parameters.get("properties", {}))
        arguments = {k: v for k, v in arguments.items() if k in known}
        try:
            async with mcp.Client(self.server) as client:
                try:
                    result = await client.call_tool(name, arguments)
                except MCPError as exc:
                    return ToolOutcome(clip(exc.error.message, self.budget), True)
        except MCPError as exc:  # may surface from the client's task group instead
            return ToolOutcome(clip(exc.error.message, self.budget), True)
        return ToolOutcome(clip(result_text(result), self.budget), result.is_error)
