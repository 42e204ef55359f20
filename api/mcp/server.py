"""The MCP server: built per app (or per stdio process), mounted at /mcp.

`build_server` makes an MCPServer whose lifespan yields the API state (and, for stdio, the
one user it acts for). `install_mcp` mounts the streamable-HTTP endpoints on a FastAPI app
and returns the `McpMount` whose `running()` the app's lifespan enters once the state exists.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import anyio
from fastapi import FastAPI
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import InvalidSignature
from mcp.server.mcpserver.tools import Tool
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from pydantic import PydanticUserError
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.errors import ApiError
from api.mcp.auth import authenticate, principal
from api.mcp.context import SCOPE_USER_KEY, McpDeps, bind_caller
from api.mcp.errors import ArgumentCheck
from api.mcp.plugins import discover_tools
from api.mcp.prompts import PROMPTS, register_prompts
from api.mcp.resources import register_resources
from api.mcp.tools import ToolSpec, built_in_tools
from api.state import AppState

log = logging.getLogger(__name__)
INSTRUCTIONS = (
    "Mirobody holds one person's health data from their wearables (WHOOP, Garmin, Oura, "
    "Withings, Polar, ...), normalised to standard indicators and units. Start with "
    "get_user_health_profile, find indicator ids with search_indicators, then read values "
    "with get_daily_summary / get_indicator_series / compare_periods, draw with "
    "render_chart, or use query_sql for anything else. Not medical advice."
)
HTTP_METHODS = ["GET", "POST", "DELETE"]
REDACTED_URL_PATH = "/mcp/u/[REDACTED]"


def _tool(name: str, spec: ToolSpec) -> Tool:
    return Tool.from_function(
        spec.fn,
        name=name,
        annotations=ToolAnnotations(read_only_hint=spec.read_only, open_world_hint=False),
    )


def build_tools(*, plugins: bool = True) -> dict[str, Tool]:
    """The built-in tools, then the plugin tools that load and have a valid signature."""
    tools = {spec.fn.__name__: _tool(spec.fn.__name__, spec) for spec in built_in_tools()}
    if plugins:
        for plugin in discover_tools(set(tools)):
            try:
                tools[plugin.name] = _tool(plugin.name, plugin.spec)
            except (InvalidSignature, PydanticUserError, TypeError, ValueError) as exc:
                log.warning(
                    "plugin tool %r has an unusable signature (%s)",
                    plugin.name,
                    type(exc).__name__,
                    extra={"entry_point": plugin.entry_point},
                )
    return tools


def build_server(deps: Callable[[], McpDeps], *, plugins: bool = True) -> MCPServer[McpDeps]:
    """An MCP server whose tools act for the caller that each request carries."""

    @asynccontextmanager
    async def lifespan(_: MCPServer[McpDeps]) -> AsyncIterator[McpDeps]:
        yield deps()

    tools = build_tools(plugins=plugins)
    server: MCPServer[McpDeps] = MCPServer(
        "mirobody",
        title="Mirobody",
        version="0.1.0",
        instructions=INSTRUCTIONS,
        tools=list(tools.values()),
        lifespan=lifespan,
        middleware=[bind_caller, ArgumentCheck(tools, set(PROMPTS))],
    )
    register_resources(server)
    register_prompts(server)
    return server


def transport_security(state: AppState) -> TransportSecuritySettings:
    """DNS-rebinding protection: the API's own host names (and localhost) only."""
    hosts = {"127.0.0.1", "localhost", "[::1]", state.settings.api_host}
    origins = set(state.settings.cors_origins)
    if state.api.public_url:
        public = urlsplit(state.api.public_url)
        hosts.add(public.netloc)
        hosts.add(public.hostname or public.netloc)
        origins.add(f"{public.scheme}://{public.netloc}")
    allowed = sorted({f"{h}:*" for h in hosts if ":" not in h.strip("[]")} | hosts)
    origins |= {f"http://{h}:*" for h in ("127.0.0.1", "localhost", "[::1]")}
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=allowed, allowed_origins=sorted(origins)
    )


def hide_secret(scope: Scope) -> None:
    """Take a secret URL's secret out of the path that access logs print (the scope is the
    server's own dict); authentication reads it from `path_params`."""
    if isinstance((scope.get("path_params") or {}).get("secret"), str):
        scope["path"] = REDACTED_URL_PATH
        scope["raw_path"] = REDACTED_URL_PATH.encode()


class McpMount:
    """The /mcp endpoints of one app (an ASGI app) and the server lifecycle behind them."""

    def __init__(self, state_getter: Callable[[], AppState]) -> None:
        self._state_getter = state_getter
        self._server: MCPServer[McpDeps] | None = None
        self._state: AppState | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MCPServer[McpDeps]]:
        """Build a fresh server and run its session manager (each app lifespan gets its own:
        a session manager runs once)."""
        state = self._state_getter()
        server = build_server(lambda: McpDeps(state))
        server.streamable_http_app(
            streamable_http_path="/mcp",
            transport_security=transport_security(state),
            stateless_http=state.api.mcp_stateless_http,
        )
        async with server.session_manager.run():
            self._server, self._state = server, state
            try:
                yield server
            finally:
                self._server = self._state = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hide_secret(scope)
        server, state = self._server, self._state
        if server is None or state is None:
            await JSONResponse({"code": "unavailable", "reason": "MCP server not running"}, 503)(
                scope, receive, send
            )
            return
        try:
            user_id = await anyio.to_thread.run_sync(authenticate, state, scope)
        except ApiError as exc:
            await JSONResponse(
                {"code": exc.code, "reason": exc.reason}, exc.status_code, headers=exc.headers
            )(scope, receive, send)
            return
        scope["user"] = principal(user_id)
        scope[SCOPE_USER_KEY] = user_id
        scope.setdefault("state", {})["user_id"] = str(user_id)
        await server.session_manager.handle_request(scope, receive, send)


def install_mcp(app: FastAPI, state_getter: Callable[[], AppState]) -> McpMount:
    """Mount /mcp (Bearer token) and /mcp/u/{secret}/mcp (secret URL; also without the /mcp
    ending, as URLs were first handed out) on `app`; enter the returned mount's `running()` in
    the app's lifespan after the state is built."""
    mount = McpMount(state_getter)
    app.router.routes.append(
        Route("/mcp", endpoint=mount, methods=HTTP_METHODS, include_in_schema=False)
    )
    for path in ("/mcp/u/{secret}/mcp", "/mcp/u/{secret}"):
        app.router.routes.append(
            Route(path, endpoint=mount, methods=HTTP_METHODS, include_in_schema=False)
        )
    return mount
