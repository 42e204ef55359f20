"""LLM back ends through the `openai` SDK, in order: the next one answers when one fails.

A back end whose key variable is unset is skipped (the reason shows at /v1/chat/backends).
A back end that errors or times out before streaming anything is logged and the next one is
tried; one that fails mid-answer ends the answer with an error (retrying would repeat text).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, cast

import openai
from openai import AsyncStream
from openai.types.chat import ChatCompletionChunk

from api.chat.config import BackendConfig, ChatConfig

log = logging.getLogger(__name__)


class NoBackendError(RuntimeError):
    """No configured back end could answer (none available, or every one failed)."""


@dataclass(frozen=True)
class BackendStatus:
    name: str
    model: str
    context_window: int
    available: bool
    reason: str | None = None


@dataclass
class ToolCall:
    id: str
    name: str
    arguments: str = ""


@dataclass
class Step:
    """What one model call produced: text, tool calls, and the back end that answered."""

    backend: str = ""
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(frozen=True)
class Backend:
    config: BackendConfig
    client: openai.AsyncOpenAI


class BackendChain:
    """The usable back ends in configured order, and why the others are not usable."""

    def __init__(self, config: ChatConfig) -> None:
        self.backends: list[Backend] = []
        self.statuses: list[BackendStatus] = []
        for b in config.backends:
            key = config.api_keys.get(b.api_key_env)
            available = key is not None
            self.statuses.append(
                BackendStatus(
                    b.name,
                    b.model,
                    b.context_window,
                    available,
                    None if available else f"API key variable {b.api_key_env} is not set",
                )
            )
            if key is not None:
                # Retries are the chain's job (the next back end), not the SDK's.
                self.backends.append(
                    Backend(
                        b,
                        openai.AsyncOpenAI(
                            base_url=b.base_url, api_key=key, timeout=b.timeout_s, max_retries=0
                        ),
                    )
                )

    def ordered(self, preferred: str | None) -> list[Backend]:
        """The agent's back end first (when usable), then the others in order."""
        first = [b for b in self.backends if b.config.name == preferred]
        return first + [b for b in self.backends if b.config.name != preferred]

    def context_window(self, preferred: str | None) -> int:
        ordered = self.ordered(preferred)
        return min((b.config.context_window for b in ordered), default=8192)

    async def stream(
        self,
        messages: Sequence[dict[str, Any]],
        tools: list[dict[str, Any]],
        preferred: str | None = None,
    ) -> AsyncGenerator[str | Step, None]:
        """Text deltas as they come, then the finished Step, from the first back end that
        answers."""
        failures: list[str] = []
        for backend in self.ordered(preferred):
            emitted = False
            try:
                async with aclosing(_stream_one(backend, messages, tools)) as items:
                    async for item in items:
                        emitted = emitted or isinstance(item, str)
                        yield item
                return
            except (openai.APIError, openai.APITimeoutError) as exc:
                if emitted:
                    raise
                log.warning(
                    "chat back end %s failed (%s); trying the next one",
                    backend.config.name,
                    type(exc).__name__,
                )
                failures.append(f"{backend.config.name}: {type(exc).__name__}")
        raise NoBackendError(
            "no back end answered"
            + (f" ({'; '.join(failures)})" if failures else ": none configured")
        )


async def _stream_one(
    backend: Backend, messages: Sequence[dict[str, Any]], tools: list[dict[str, Any]]
) -> AsyncGenerator[str | Step, None]:
    step = Step(backend=backend.config.name)
    calls: dict[int, ToolCall] = {}
    kwargs: dict[str, Any] = {"tools": tools} if tools else {}
    stream = cast(
        AsyncStream[ChatCompletionChunk],
        await backend.client.chat.completions.create(
            model=backend.config.model,
            messages=list(messages),  # type: ignore[arg-type]
            stream=True,
            **kwargs,
        ),
    )
    try:
        async for chunk in stream:
            if not chunk.choices:
                continue
            delta = chunk.choices[0].delta
            if delta.content:
                step.text += delta.content
                yield delta.content
            for tc in delta.tool_calls or []:
                call = calls.setdefault(tc.index, ToolCall(id=tc.id or f"call_{tc.index}", name=""))
                if tc.function is not None:
                    call.name += tc.function.name or ""
                    call.arguments += tc.function.arguments or ""
    finally:
        await stream.close()
    step.tool_calls = [calls[i] for i in sorted(calls)]
    yield step
