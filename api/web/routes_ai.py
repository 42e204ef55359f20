"""Pages for AI agents: secret MCP URLs (create, revoke) with copy-ready client
configurations, and the chat (streamed to pages that run the script, whole otherwise)."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from api.chat.config import ChatConfigError
from api.chat.router import RuntimeDep, get_runtime
from api.chat.service import answer, open_conversation
from api.deps import SessionDep, StateDep
from api.errors import InvalidRequestError, NotFoundError
from api.mcp import links
from api.mcp.router import McpUrlCreate
from api.web.deps import FormDep, VisitorDep, field
from api.web.render import WebRoute, redirect, render, secure

router = APIRouter(prefix="/app/ai", route_class=WebRoute, include_in_schema=False)


def server_event(name: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event, in the shape of the API's chat stream."""
    return f"event: {name}\ndata: {json.dumps(data, default=str)}\n\n"


def mcp_url(request: Request, state: StateDep, secret: str) -> str:
    base = state.api.public_url or str(request.base_url)
    return links.secret_url(base, secret)


def client_configs(url: str) -> list[dict[str, str]]:
    """How each common MCP client is told about the URL (copy and paste)."""

    def doc(value: dict[str, Any]) -> str:
        return json.dumps(value, indent=2)

    return [
        {
            "client": "Claude Desktop",
            "where": "Settings → Connectors → Add custom connector (remote MCP server URL)",
            "text": url,
        },
        {
            "client": "Claude Code",
            "where": "a terminal",
            "text": f"claude mcp add --transport http mirobody {url}",
        },
        {
            "client": "Cursor",
            "where": "~/.cursor/mcp.json",
            "text": doc({"mcpServers": {"mirobody": {"url": url}}}),
        },
        {
            "client": "VS Code",
            "where": ".vscode/mcp.json",
            "text": doc({"servers": {"mirobody": {"type": "http", "url": url}}}),
        },
    ]


def _page(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    state: StateDep,
    status_code: int = 200,
    **context: Any,
) -> Response:
    context.setdefault("created", None)
    context.setdefault("errors", {})
    return render(
        request,
        "ai.html",
        status_code,
        user=visitor.user,
        csrf=visitor.csrf,
        links=links.list_links(session, visitor.user.id),
        chat=chat_status(request, state),
        **context,
    )


def chat_status(request: Request, state: StateDep) -> dict[str, Any]:
    """Whether a chat back end is usable, and the reason when not."""
    try:
        runtime = get_runtime(request, state)
    except ChatConfigError as exc:
        return {"available": False, "reason": f"chat is not configured ({exc})"}
    usable = [s for s in runtime.chain.statuses if s.available]
    if not usable:
        reasons = "; ".join(f"{s.name}: {s.reason}" for s in runtime.chain.statuses)
        return {"available": False, "reason": reasons or "no back end is configured"}
    return {"available": True, "reason": None, "model": usable[0].model}


@router.get("")
def ai_page(
    request: Request, visitor: VisitorDep, session: SessionDep, state: StateDep
) -> Response:
    """Secret MCP URLs and the chat."""
    return _page(request, visitor, session, state)


@router.post("/mcp-urls")
def create_url(
    request: Request, visitor: VisitorDep, form: FormDep, session: SessionDep, state: StateDep
) -> Response:
    """Create a secret MCP URL; it is shown on this page once, with client configurations."""
    try:
        body = McpUrlCreate(name=field(form, "name", 200) or "MCP client")
    except ValidationError:
        return _page(
            request,
            visitor,
            session,
            state,
            422,
            errors={"name": "use 1 to 100 visible characters"},
        )
    row, secret = links.create_link(session, visitor.user.id, body.name)
    url = mcp_url(request, state, secret)
    return _page(
        request,
        visitor,
        session,
        state,
        created={"name": row.name, "url": url, "configs": client_configs(url)},
    )


@router.post("/mcp-urls/{link_id}/revoke")
def revoke_url(link_id: str, visitor: VisitorDep, form: FormDep, session: SessionDep) -> Response:
    """Revoke a secret MCP URL: it stops working at once."""
    try:
        parsed = uuid.UUID(link_id)
    except ValueError:
        raise NotFoundError("no such MCP URL", code="no_link") from None
    links.revoke_link(session, visitor.user.id, parsed)
    return redirect("/app/ai?revoked=1")


@router.post("/chat")
async def chat(
    request: Request, visitor: VisitorDep, form: FormDep, state: StateDep, runtime: RuntimeDep
) -> Response:
    """Ask the assistant. The page's script asks for a stream (text/event-stream); without
    the script the whole answer comes back on a page."""
    message = field(form, "message", 8000).strip()
    if not message:
        raise InvalidRequestError("write a question first")
    session_id = field(form, "session_id", 40)
    try:
        parsed = uuid.UUID(session_id) if session_id else None
    except ValueError:
        parsed = None
    conv = await open_conversation(state, runtime, visitor.user.id, message, parsed, None)
    if "text/event-stream" in request.headers.get("accept", ""):

        async def events() -> AsyncIterator[str]:
            async for event in answer(state, runtime, conv, request.is_disconnected):
                yield server_event(event.event, event.data)

        return secure(
            StreamingResponse(
                events(), media_type="text/event-stream", headers={"X-Accel-Buffering": "no"}
            )
        )
    text, error, new_session = "", None, None
    async for event in answer(state, runtime, conv, request.is_disconnected):
        if event.event == "message":
            text = str(event.data.get("text") or "")
        elif event.event == "error":
            error = str(event.data.get("reason") or "the assistant could not answer")
        elif event.event == "session":
            new_session = event.data.get("session_id")
    return render(
        request,
        "chat_answer.html",
        user=visitor.user,
        csrf=visitor.csrf,
        question=message,
        text=text,
        error=error,
        session_id=new_session,
    )
