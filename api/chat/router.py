"""AI chat routes: ask (Server-Sent Events), the back ends, and the caller's sessions."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, field_validator
from starlette.concurrency import run_in_threadpool

from api.chat import history
from api.chat.config import settings_chat_config
from api.chat.service import ChatRuntime, answer, open_conversation
from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.schemas.text import visible_text
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.models import ChatSession

router = APIRouter(prefix="/v1/chat", tags=["chat"], responses=ERROR_RESPONSES)


def install_chat(app: FastAPI, runtime: ChatRuntime) -> None:
    """Give `app` its chat runtime (else the first request builds one from the environment)."""
    app.state.chat_runtime = runtime


def get_runtime(request: Request, state: StateDep) -> ChatRuntime:
    """The app's chat runtime, built on first use from the settings and the environment."""
    runtime: ChatRuntime | None = getattr(request.app.state, "chat_runtime", None)
    if runtime is None:
        runtime = ChatRuntime.from_config(settings_chat_config(state.settings, os.environ))
        request.app.state.chat_runtime = runtime
    return runtime


RuntimeDep = Annotated[ChatRuntime, Depends(get_runtime)]


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=8000)
    session_id: uuid.UUID | None = Field(None, description="Continue this session; omit: new.")
    agent: str | None = Field(None, max_length=64, description="Agent profile; omit: default.")


class BackendPublic(BaseModel):
    name: str
    model: str
    context_window: int
    available: bool
    reason: str | None = None


class BackendsPublic(BaseModel):
    data: list[BackendPublic]
    agents: list[str]


class SessionPublic(BaseModel):
    id: uuid.UUID
    title: str | None = Field(description="Decrypted; stored sealed like the messages.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, cipher: TokenCipher, row: ChatSession) -> SessionPublic:
        return cls(
            id=row.id,
            title=history.title_of(cipher, row),
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class SessionsPublic(BaseModel):
    data: list[SessionPublic]
    count: int


class MessagePublic(BaseModel):
    role: str
    text: str | None
    tool_calls: list[dict[str, Any]] | None = None
    tool_call_id: str | None = None


class SessionDetail(SessionPublic):
    agent: str
    messages: list[MessagePublic]


class SessionRename(BaseModel):
    title: str = Field(min_length=1, max_length=200)

    _title = field_validator("title")(visible_text)


def _sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n"


@router.post(
    "", response_class=StreamingResponse, responses={200: {"content": {"text/event-stream": {}}}}
)
async def ask(
    body: ChatRequest, request: Request, user: CurrentUser, state: StateDep, runtime: RuntimeDep
) -> StreamingResponse:
    """Ask the health assistant; the answer streams as Server-Sent Events: session, delta,
    tool_call, tool_result, message (the final answer) and error."""
    conv = await open_conversation(
        state, runtime, user.id, body.message, body.session_id, body.agent
    )

    async def events() -> AsyncIterator[str]:
        async for event in answer(state, runtime, conv, request.is_disconnected):
            yield _sse(event.event, event.data)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get("/backends", response_model=BackendsPublic)
def list_backends(user: CurrentUser, runtime: RuntimeDep) -> BackendsPublic:
    """The configured LLM back ends in order, which are usable, and why the others are not."""
    return BackendsPublic(
        data=[BackendPublic(**vars(s)) for s in runtime.chain.statuses],
        agents=sorted(runtime.config.agents),
    )


@router.get("/sessions", response_model=SessionsPublic)
def list_sessions(
    user: CurrentUser,
    state: StateDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> SessionsPublic:
    """The caller's chat sessions, most recently active first."""
    rows = history.list_sessions(session, user.id, limit)
    data = [SessionPublic.of(state.cipher, r) for r in rows]
    return SessionsPublic(data=data, count=len(data))


@router.get("/sessions/{session_id}", response_model=SessionDetail)
async def read_session(
    session_id: uuid.UUID, user: CurrentUser, state: StateDep, runtime: RuntimeDep
) -> SessionDetail:
    """One of the caller's sessions with its messages, decrypted."""

    def read() -> SessionDetail:
        with state.sessions() as db:
            row = history.own_session(db, user.id, session_id)
            turns = history.read_turns(db, state.cipher, row)
            return SessionDetail(
                **SessionPublic.of(state.cipher, row).model_dump(),
                agent=history.session_agent(turns, runtime.config.default_agent),
                messages=[MessagePublic(**vars(t)) for t in turns if t.role != history.AGENT_ROLE],
            )

    return await run_in_threadpool(read)


@router.patch("/sessions/{session_id}", response_model=SessionPublic)
def rename_session(
    session_id: uuid.UUID,
    body: SessionRename,
    user: CurrentUser,
    state: StateDep,
    session: SessionDep,
) -> SessionPublic:
    """Rename one of the caller's sessions (no control or bidi characters in the title)."""
    row = history.rename_session(session, state.cipher, user.id, session_id, body.title)
    return SessionPublic.of(state.cipher, row)


@router.delete("/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(session_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> Response:
    """Delete one of the caller's sessions and all its messages."""
    history.delete_session(session, user.id, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
