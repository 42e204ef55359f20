"""Who an MCP request acts for: the app state and the authenticated user, per request.

The HTTP transport authenticates every request (api/mcp/auth.py) and leaves the user id in
the ASGI scope; stdio and in-process servers act for one configured user. A server
middleware binds the caller in a context variable for the request, so tools, resources,
prompts and plugin tools reach it with `current_caller()` (sync tools run in worker
threads, which inherit the context).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver.exceptions import ToolError
from sqlalchemy.orm import Session

from api.state import AppState
from mirobody_assets.storage.models import User

SCOPE_USER_KEY = "mirobody.mcp_user_id"


class NotAuthenticatedError(ToolError):
    """A request reached a tool without a caller (should not happen behind the auth layer)."""


@dataclass(frozen=True)
class McpDeps:
    """The MCP server's lifespan context: the API state, and the user of a one-user server."""

    state: AppState
    fixed_user_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Caller:
    """The authenticated person a request acts for, and the app state to serve them."""

    state: AppState
    user_id: uuid.UUID

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.state.sessions() as session:
            yield session

    def user(self, session: Session) -> User:
        user = session.get(User, self.user_id)
        if user is None:
            raise NotAuthenticatedError("the account this connection acts for no longer exists")
        return user


_CALLER: ContextVar[Caller | None] = ContextVar("mirobody_mcp_caller", default=None)


def current_caller() -> Caller:
    """The caller of the MCP request being handled (for tools, resources, prompts, plugins)."""
    caller = _CALLER.get()
    if caller is None:
        raise NotAuthenticatedError("not authenticated")
    return caller


async def bind_caller(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: resolve this request's caller before any handler runs."""
    deps = ctx.lifespan_context
    user_id: uuid.UUID | None = None
    if isinstance(deps, McpDeps):
        user_id = deps.fixed_user_id
        request = ctx.request
        scope = getattr(request, "scope", None)
        if isinstance(scope, dict):
            # HTTP: exactly the credential of this HTTP request, never the session's first one.
            found = scope.get(SCOPE_USER_KEY)
            user_id = found if isinstance(found, uuid.UUID) else None
    token = _CALLER.set(Caller(deps.state, user_id) if user_id is not None else None)
    try:
        return await call_next(ctx)
    finally:
        _CALLER.reset(token)
