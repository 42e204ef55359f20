"""The built-in MCP tools, one module per group. Each tool is a typed function calling a
service function; its docstring is what the model reads."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolSpec:
    """A tool function and whether it only reads (MCP's readOnlyHint)."""

    fn: Callable[..., Any]
    read_only: bool = True


def built_in_tools() -> list[ToolSpec]:
    from api.mcp.tools import charts, connections, health, periods, sql

    return [*health.TOOLS, *periods.TOOLS, *connections.TOOLS, *charts.TOOLS, *sql.TOOLS]
