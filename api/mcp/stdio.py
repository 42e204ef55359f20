"""The MCP server over stdin/stdout, acting for one configured user (desktop clients).

`mirobody mcp-stdio --user EMAIL_OR_ID` (or MIROBODY_MCP_USER) calls `run_stdio`. It builds the
same app state as the API (so DATABASE_URL and REDIS_URL must be set) and never writes
anything but protocol messages to stdout: logs go to stderr.
"""

from __future__ import annotations

import os
import sys
import uuid

import anyio
from sqlalchemy import func, select

from api.app import create_app
from api.mcp.context import McpDeps
from api.mcp.server import build_server
from api.schemas.text import normalise_email
from api.state import AppState
from mirobody_assets.settings import Settings
from mirobody_assets.storage.models import User

USER_ENV = "MIROBODY_MCP_USER"


class UnknownUserError(LookupError):
    """No account has that email or id."""


def find_user_id(state: AppState, who: str) -> uuid.UUID:
    """The id of the account with this id or email (compared normalised, as stored)."""
    with state.sessions() as session:
        try:
            user = session.get(User, uuid.UUID(who))
        except ValueError:
            user = session.scalars(
                select(User).where(func.lower(User.email) == normalise_email(who))
            ).first()
    if user is None:
        raise UnknownUserError(f"no account with id or email {who!r}")
    return user.id


async def serve_stdio(settings: Settings, who: str) -> None:
    """Serve until stdin closes."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        state: AppState = app.state.mirobody
        user_id = await anyio.to_thread.run_sync(find_user_id, state, who)
        server = build_server(lambda: McpDeps(state, user_id))
        await server.run_stdio_async()


def run_stdio(settings: Settings, user: str | None = None) -> int:
    """Run the stdio server for `user` (an email or an id; default: $MIROBODY_MCP_USER).
    Returns the process exit code."""
    who = user or os.environ.get(USER_ENV, "")
    if not who.strip():
        print(f"mirobody mcp-stdio: pass --user or set {USER_ENV}", file=sys.stderr)
        return 2
    try:
        anyio.run(serve_stdio, settings, who)
    except (UnknownUserError, BaseExceptionGroup) as exc:
        # The app's lifespan runs in a task group, which wraps what is raised inside it.
        unknown = _find(exc, UnknownUserError)
        if unknown is None:
            raise
        print(f"mirobody mcp-stdio: {unknown}", file=sys.stderr)
        return 2
    return 0


def _find(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    if isinstance(exc, kind):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


if __name__ == "__main__":
    from mirobody_assets.settings import get_settings

    sys.exit(run_stdio(get_settings(), sys.argv[1] if len(sys.argv) > 1 else None))
