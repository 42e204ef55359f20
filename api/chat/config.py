"""Chat configuration: back ends, agent profiles and external MCP servers.

The chat's settings are typed fields of `Settings` (`chat_backends`, `chat_agents` and
`chat_mcp_servers` are JSON lists, decoded once by pydantic-settings; the limits are an int and
a bool). `ChatSettings.from_settings` takes that view without the prefix and validates each
entry into its model; `chat_config` adds the API keys. Nothing is read at import time. An API
key never sits in the JSON: each back end names the environment variable that holds it.

CHAT_BACKENDS: [{"name", "base_url", "api_key_env", "model", "context_window"?, "timeout_s"?}]
CHAT_AGENTS:   [{"name", "system_prompt"?, "tools"?: [..] | null (all built-in), "backend"?}]
CHAT_MCP_SERVERS: [{"name", "url", "timeout_s"?}] (streamable HTTP); their tools are named
               "<server>__<tool>" and reach only agents whose `tools` name them (or "<server>__*").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Json, ValidationError, field_validator

from mirobody_assets.settings import Settings

DEFAULT_AGENT = "assistant"
DEFAULT_PROMPT = (
    "You are Mirobody's health assistant. Answer from the person's own wearable "
    "data, using the tools to read it; say which days and sources you used."
)
PREFIX = "chat_"
M = TypeVar("M", bound=BaseModel)


class ChatConfigError(ValueError):
    """The chat settings are not of the expected shape (the message names the setting)."""


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class BackendConfig(_Entry):
    """One OpenAI-compatible endpoint (OpenAI, Azure, Gemini, DeepSeek, OpenRouter, Ollama...)."""

    name: str
    base_url: str
    api_key_env: str
    model: str
    context_window: int = 8192
    timeout_s: float = 60.0


class AgentConfig(_Entry):
    """A named profile: its system prompt, the tools it may call (None: all), its back end."""

    name: str
    system_prompt: str = DEFAULT_PROMPT
    tools: tuple[str, ...] | None = None
    backend: str | None = None


class McpServerConfig(_Entry):
    """An external MCP server (streamable HTTP) whose tools agents may be allowed."""

    name: str = Field(min_length=1)
    url: str
    timeout_s: float = 10.0

    @field_validator("name")
    @classmethod
    def _no_separator(cls, name: str) -> str:
        if "__" in name:  # "<server>__<tool>" names its tools
            raise ValueError("must not contain '__'")
        return name


class ChatSettings(BaseModel):
    """The `chat_*` settings without their prefix, each entry validated into its model."""

    model_config = ConfigDict(frozen=True)

    backends: list[BackendConfig] = []
    agents: list[AgentConfig] = []
    mcp_servers: list[McpServerConfig] = []
    max_tool_rounds: int = Field(default=4, ge=0)
    tool_result_chars: int = Field(default=6000, ge=100)
    generate_titles: bool = True

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ChatSettings:
        """The view of `settings`; `overrides` (unprefixed names) replace single values."""
        values = {name: getattr(settings, PREFIX + name) for name in cls.model_fields}
        return _validated(cls, values | overrides)


class _ChatVariables(BaseModel):
    """CHAT_* variables held in a mapping (JSON text), for `load_chat_config`."""

    backends: Json[list[dict[str, Any]]] = Field(default_factory=list)
    agents: Json[list[dict[str, Any]]] = Field(default_factory=list)
    mcp_servers: Json[list[dict[str, Any]]] = Field(default_factory=list)


@dataclass(frozen=True)
class ChatConfig:
    backends: tuple[BackendConfig, ...]
    agents: dict[str, AgentConfig]
    api_keys: dict[str, str] = field(repr=False)
    mcp_servers: tuple[McpServerConfig, ...] = ()
    default_agent: str = DEFAULT_AGENT
    max_tool_rounds: int = 4
    tool_result_chars: int = 6000
    answer_reserve_tokens: int = 1024
    generate_titles: bool = True

    def agent(self, name: str | None) -> AgentConfig:
        """The named agent; KeyError names an unknown one."""
        return self.agents[name or self.default_agent]


def _validated(kind: type[M], values: Mapping[str, Any]) -> M:
    try:
        return kind.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = "CHAT_" + ".".join(str(p) for p in first["loc"]).upper()
        raise ChatConfigError(f"{where}: {first['msg']}") from None


def chat_config(chat: ChatSettings, environ: Mapping[str, str]) -> ChatConfig:
    """Back ends in their configured order, agents by name (plus the default agent), and the
    keys each back end names, from `environ` (absent ones are left out: that back end is
    skipped)."""
    names = [b.name for b in chat.backends]
    if len(set(names)) != len(names):
        raise ChatConfigError("CHAT_BACKENDS names must be unique")
    agents: dict[str, AgentConfig] = {DEFAULT_AGENT: AgentConfig(name=DEFAULT_AGENT)}
    for agent in chat.agents:
        if agent.backend is not None and agent.backend not in names:
            raise ChatConfigError(f"agent {agent.name!r} names unknown back end {agent.backend!r}")
        agents[agent.name] = agent
    keys = {
        b.api_key_env: environ[b.api_key_env] for b in chat.backends if environ.get(b.api_key_env)
    }
    return ChatConfig(
        backends=tuple(chat.backends),
        agents=agents,
        api_keys=keys,
        mcp_servers=tuple(chat.mcp_servers),
        max_tool_rounds=chat.max_tool_rounds,
        tool_result_chars=chat.tool_result_chars,
        generate_titles=chat.generate_titles,
    )


def settings_chat_config(settings: Settings, environ: Mapping[str, str]) -> ChatConfig:
    """The app's chat configuration: the settings' chat fields, keys from `environ`."""
    return chat_config(ChatSettings.from_settings(settings), environ)


def load_chat_config(env: Mapping[str, str], **overrides: Any) -> ChatConfig:
    """The chat configuration from CHAT_BACKENDS / CHAT_AGENTS / CHAT_MCP_SERVERS held as JSON
    text in a mapping (keys from the same mapping), `overrides` for the limits: for tests and
    tools that configure a chat without building Settings."""
    raw = {
        name: env[f"CHAT_{name.upper()}"]
        for name in _ChatVariables.model_fields
        if env.get(f"CHAT_{name.upper()}")
    }
    lists = _validated(_ChatVariables, raw)
    return chat_config(_validated(ChatSettings, lists.model_dump() | overrides), env)
