"""Service errors become tool errors the model can read; argument errors become JSON-RPC errors.

A tool that fails for a reason the caller can fix (an unknown indicator, an empty range)
returns an MCP error result with the reason. Anything unexpected is left to the SDK, which
logs it with its traceback and tells the client only that the tool failed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS
from pydantic import ValidationError
from sqlalchemy.exc import DataError

from api.errors import ApiError
from indicators import UnknownIndicatorError

P = ParamSpec("P")
R = TypeVar("R")


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorate a tool: typed service errors surface as its error result, with their reason."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            raise ToolError(f"{exc.reason} ({exc.code})") from None
        except UnknownIndicatorError as exc:
            raise ToolError(f"unknown indicator: {exc}; use search_indicators") from None
        except DataError:
            raise ToolError("a value cannot be searched (invalid characters?)") from None

    return wrapper


def describe_validation(exc: ValidationError) -> str:
    """Where and what, never the offending value (it may be anything the model sent)."""
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ())) or "arguments"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


class ArgumentCheck:
    """Server middleware: an unknown tool or prompt, or tool arguments that fail the tool's
    schema, are a JSON-RPC invalid-params error (-32602) naming the fields."""

    def __init__(self, tools: dict[str, Tool], prompts: set[str]) -> None:
        self.tools = tools
        self.prompts = prompts

    async def __call__(
        self, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if ctx.method == "tools/call" and isinstance(ctx.params, dict):
            name = ctx.params.get("name")
            tool = self.tools.get(name) if isinstance(name, str) else None
            if tool is None:
                raise MCPError(code=INVALID_PARAMS, message=f"unknown tool: {str(name)[:100]}")
            arguments = ctx.params.get("arguments") or {}
            if not isinstance(arguments, dict):
                raise MCPError(code=INVALID_PARAMS, message="arguments must be an object")
            try:
                tool.fn_metadata.validate_arguments(arguments)
            except ValidationError as exc:
                raise MCPError(
                    code=INVALID_PARAMS,
                    message=(f"invalid arguments for {name}: {describe_validation(exc)}"),
                ) from None
        if ctx.method == "prompts/get" and isinstance(ctx.params, dict):
            name = ctx.params.get("name")
            if name not in self.prompts:
                raise MCPError(code=INVALID_PARAMS, message=f"unknown prompt: {str(name)[:100]}")
        return await call_next(ctx)
