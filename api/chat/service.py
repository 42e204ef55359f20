"""One answer: history in, model steps with tool calls, events out, every turn stored.

`answer()` yields `ChatEvent`s (session, delta, tool_call, tool_result, message, error) and
writes each turn as it completes, so an answer stopped by a disconnect keeps what was said.
At most `max_tool_rounds` rounds of tool calls; the call after the last round offers no tools,
so the model must answer with what it has.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import openai
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.chat import history
from api.chat.backends import BackendChain, NoBackendError, Step
from api.chat.config import AgentConfig, ChatConfig
from api.chat.external import discover
from api.chat.tools import ChatTools
from api.errors import NotFoundError
from api.schemas.health import HealthProfile
from api.services.profile import read_profile
from api.state import AppState
from mirobody_assets.storage.models import User

log = logging.getLogger(__name__)

PROFILE_INDICATORS = 30
TITLE_PROMPT = (
    "Write a title of at most six words for this conversation. Reply with the "
    "title only, no quotes."
)
POLICY = (
    "Policy: you are not a doctor and this is not medical advice. Do not diagnose or "
    "prescribe; for symptoms, worries or decisions about treatment, tell the person to "
    "see a qualified health professional, and to call emergency services in an "
    "emergency. Only use the person's own data, read through the tools; never invent "
    "values."
)


@dataclass(frozen=True)
class ChatEvent:
    event: str
    data: dict[str, Any]


@dataclass
class ChatRuntime:
    """What the chat holds for the app's lifetime: configuration, back ends, tools."""

    config: ChatConfig
    chain: BackendChain
    tools: ChatTools = field(default_factory=ChatTools)

    @classmethod
    def from_config(cls, config: ChatConfig) -> ChatRuntime:
        return cls(config, BackendChain(config))


def profile_summary(profile: HealthProfile) -> str:
    """A few lines about the person's data for the system prompt (the tools give details)."""
    devices = ", ".join(f"{d.provider} ({d.status})" for d in profile.devices) or "none linked"
    span = f"from {profile.first_day} to {profile.last_day}" if profile.first_day else "no data yet"
    indicators = ", ".join(sorted({v.indicator for v in profile.latest})[:PROFILE_INDICATORS])
    return f"The person's timezone is {profile.timezone}. Devices: {devices}. Data {span}." + (
        f" Indicators with values: {indicators}." if indicators else ""
    )


def system_prompt(agent: AgentConfig, profile: str) -> str:
    today = datetime.now(UTC).date().isoformat()
    return f"{agent.system_prompt}\n\n{profile} Today (UTC) is {today}.\n\n{POLICY}"


def _open(
    state: AppState,
    runtime: ChatRuntime,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    message: str,
    agent_name: str | None,
) -> tuple[uuid.UUID, str, list[history.Turn], str]:
    """The session (created when new), its history, the agent it uses, the profile summary."""
    with state.sessions() as db:
        user = db.get(User, user_id)
        if user is None:
            raise NotFoundError("account not found")
        profile = profile_summary(read_profile(db, user, 1))
        sid, agent, turns = _session(db, state, runtime, user_id, session_id, message, agent_name)
        return sid, agent, turns, profile


def _session(
    db: Session,
    state: AppState,
    runtime: ChatRuntime,
    user_id: uuid.UUID,
    session_id: uuid.UUID | None,
    message: str,
    agent_name: str | None,
) -> tuple[uuid.UUID, str, list[history.Turn]]:
    """The session (KeyError: unknown agent) and its history; records an agent switch."""
    if session_id is None:
        agent = runtime.config.agent(agent_name).name
        chat = history.create_session(db, state.cipher, user_id, message, agent)
        return chat.id, agent, []
    chat = history.own_session(db, user_id, session_id)
    turns = history.read_turns(db, state.cipher, chat)
    agent = history.session_agent(turns, runtime.config.default_agent)
    if agent_name is not None and agent_name != agent:
        runtime.config.agent(agent_name)
        history.add_message(db, state.cipher, chat, history.AGENT_ROLE, {"text": agent_name})
        db.commit()
        agent = agent_name
    return chat.id, agent, turns


def _store(
    state: AppState, user_id: uuid.UUID, session_id: uuid.UUID, role: str, payload: dict[str, Any]
) -> None:
    with state.sessions() as db:
        chat = history.own_session(db, user_id, session_id)
        history.add_message(db, state.cipher, chat, role, payload)
        db.commit()


@dataclass(frozen=True)
class Conversation:
    """A question about to be answered: who asks, in which session, with which agent."""

    user_id: uuid.UUID
    profile: str
    session_id: uuid.UUID
    agent: AgentConfig
    turns: list[history.Turn]
    message: str


async def open_conversation(
    state: AppState,
    runtime: ChatRuntime,
    user_id: uuid.UUID,
    message: str,
    session_id: uuid.UUID | None,
    agent_name: str | None,
) -> Conversation:
    """Before streaming: the session (NotFoundError if not the caller's) and the agent
    (NotFoundError if unknown), so these fail as plain HTTP errors."""
    try:
        sid, agent, turns, profile = await run_in_threadpool(
            _open, state, runtime, user_id, session_id, message, agent_name
        )
    except KeyError as exc:
        raise NotFoundError(f"unknown agent {exc.args[0]!r}") from None
    return Conversation(user_id, profile, sid, runtime.config.agent(agent), turns, message)


async def answer(
    state: AppState,
    runtime: ChatRuntime,
    conv: Conversation,
    disconnected: Callable[[], Awaitable[bool]],
) -> AsyncIterator[ChatEvent]:
    """Stream one answer as events; stops quietly when the client has gone."""
    config, agent, user_id, session_id = runtime.config, conv.agent, conv.user_id, conv.session_id
    message, turns = conv.message, conv.turns
    yield ChatEvent("session", {"session_id": str(session_id), "agent": agent.name})
    await run_in_threadpool(_store, state, user_id, session_id, "user", {"text": message})

    tools = runtime.tools.scoped(state, user_id, agent.tools, config.tool_result_chars)
    external = await discover(config.mcp_servers, agent.tools, config.tool_result_chars)
    schemas = runtime.tools.schemas(agent.tools) + external.schemas
    system = system_prompt(agent, conv.profile)
    # What is sent besides the history counts against the window too (about 4 chars/token).
    fixed = (len(system) + len(message) + len(json.dumps(schemas))) // 4
    budget = runtime.chain.context_window(agent.backend) - config.answer_reserve_tokens - fixed
    stored = [t.as_openai() for t in turns if t.role != history.AGENT_ROLE]
    past = history.fit_context(history.answered_only(stored), max(budget, 0))
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": system},
        *past,
        {"role": "user", "content": message},
    ]

    for round_no in range(config.max_tool_rounds + 1):
        offered = schemas if round_no < config.max_tool_rounds else []
        step: Step | None = None
        try:
            # aclosing: leaving early closes the model's stream now, not at garbage collection.
            async with aclosing(runtime.chain.stream(messages, offered, agent.backend)) as parts:
                async for item in parts:
                    if isinstance(item, Step):
                        step = item
                        continue
                    yield ChatEvent("delta", {"text": item})
                    if await disconnected():
                        log.info(
                            "chat client went away; generation stopped",
                            extra={"session_id": str(session_id)},
                        )
                        return
        except NoBackendError as exc:
            yield ChatEvent("error", {"code": "no_backend", "reason": str(exc)})
            return
        except (openai.APIError, openai.APITimeoutError) as exc:
            log.warning("chat back end failed mid-answer (%s)", type(exc).__name__)
            reason = f"the model stopped answering ({type(exc).__name__})"
            yield ChatEvent("error", {"code": "backend_failed", "reason": reason})
            return
        if step is None:
            return
        if not step.tool_calls:
            await run_in_threadpool(
                _store, state, user_id, session_id, "assistant", {"text": step.text}
            )
            final: dict[str, Any] = {
                "role": "assistant",
                "text": step.text,
                "backend": step.backend,
                "session_id": str(session_id),
            }
            if not turns and config.generate_titles:
                final["title"] = await generate_title(state, runtime, conv, step.text)
            yield ChatEvent("message", final)
            return
        calls = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in step.tool_calls
        ]
        assistant = {"text": step.text or None, "tool_calls": calls}
        await run_in_threadpool(_store, state, user_id, session_id, "assistant", assistant)
        messages.append({"role": "assistant", "content": step.text or None, "tool_calls": calls})
        for call in step.tool_calls:
            yield ChatEvent(
                "tool_call",
                {"id": call.id, "name": call.name, "arguments": _arguments(call.arguments)},
            )
            outcome = await (
                external.call(call.name, call.arguments)
                if call.name in external
                else tools.call(call.name, call.arguments)
            )
            yield ChatEvent(
                "tool_result",
                {
                    "id": call.id,
                    "name": call.name,
                    "is_error": outcome.is_error,
                    "text": outcome.text,
                },
            )
            await run_in_threadpool(
                _store,
                state,
                user_id,
                session_id,
                "tool",
                {"text": outcome.text, "tool_call_id": call.id},
            )
            messages.append({"role": "tool", "tool_call_id": call.id, "content": outcome.text})
        if await disconnected():
            return


async def generate_title(
    state: AppState, runtime: ChatRuntime, conv: Conversation, reply: str
) -> str | None:
    """A short title from the first exchange, by one more model call without tools; on any
    back-end failure the session keeps the title taken from the first message."""
    prompt = [
        {"role": "system", "content": TITLE_PROMPT},
        {"role": "user", "content": f"Question: {conv.message[:2000]}\nAnswer: {reply[:2000]}"},
    ]
    text = ""
    try:
        async for item in runtime.chain.stream(prompt, [], conv.agent.backend):
            if isinstance(item, str):
                text += item
    except (NoBackendError, openai.APIError, openai.APITimeoutError) as exc:
        log.warning("chat title not generated (%s)", type(exc).__name__)
        return None
    cleaned = text.strip().strip("\"'").strip()
    if not cleaned:
        return None
    title = history.title_from(cleaned)

    def rename() -> None:
        with state.sessions() as db:
            history.rename_session(db, state.cipher, conv.user_id, conv.session_id, title)

    await run_in_threadpool(rename)
    return title


def _arguments(raw: str) -> Any:
    try:
        return json.loads(raw or "{}")
    except json.JSONDecodeError:
        return raw
