"""Chat configuration: back ends and agent profiles, read from JSON in an environment mapping.

Nothing is read at import time: `load_chat_config(env)` takes the mapping explicitly (the app
passes its settings' values, tests pass a dict). API keys are looked up in the same mapping by
the variable name each back end names, so a key never sits in the JSON itself.

CHAT_BACKENDS: [{"name", "base_url", "api_key_env", "model", "context_window"?, "timeout_s"?}]
CHAT_AGENTS:   [{"name", "system_prompt", "tools"?: [..] | null (all built-in), "backend"?}]
CHAT_MCP_SERVERS: [{"name", "url", "timeout_s"?}] (streamable HTTP); their tools are named
               "<server>__<tool>" and reach only agents whose `tools` name them (or "<server>__*").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_AGENT = "assistant"
DEFAULT_PROMPT = ("You are Mirobody's health assistant. Answer from the person's own wearable "
                  "data, using the tools to read it; say which days and sources you used.")


class ChatConfigError(ValueError):
    """CHAT_BACKENDS or CHAT_AGENTS is not valid JSON of the expected shape."""


@dataclass(frozen=True)
class BackendConfig:
    """One OpenAI-compatible endpoint (OpenAI, Azure, Gemini, DeepSeek, OpenRouter, Ollama...)."""

    name: str
    base_url: str
    api_key_env: str
    model: str
    context_window: int = 8192
    timeout_s: float = 60.0


@dataclass(frozen=True)
class AgentConfig:
    """A named profile: its system prompt, the tools it may call (None: all), its back end."""

    name: str
    system_prompt: str = DEFAULT_PROMPT
    tools: tuple[str, ...] | None = None
    backend: str | None = None


@dataclass(frozen=True)
class McpServerConfig:
    """An external MCP server (streamable HTTP) whose tools agents may be allowed."""

    name: str
    url: str
    timeout_s: float = 10.0


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


def _json_list(env: Mapping[str, str], var: str) -> list[dict[str, Any]]:
    raw = env.get(var)
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ChatConfigError(f"{var} is not valid JSON: {exc.msg} at {exc.pos}") from None
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ChatConfigError(f"{var} must be a JSON list of objects")
    return value


def _build(kind: type[Any], var: str, entry: dict[str, Any]) -> Any:
    try:
        return kind(**entry)
    except TypeError as exc:
        raise ChatConfigError(f"{var} entry {entry.get('name')!r}: {exc}") from None


# Settings field -> the variable this loader reads (Settings owns the names and defaults).
SETTINGS_FIELDS = {"chat_backends": "CHAT_BACKENDS", "chat_agents": "CHAT_AGENTS",
                   "chat_mcp_servers": "CHAT_MCP_SERVERS",
                   "chat_max_tool_rounds": "CHAT_MAX_TOOL_ROUNDS",
                   "chat_tool_result_chars": "CHAT_TOOL_RESULT_CHARS",
                   "chat_generate_titles": "CHAT_GENERATE_TITLES"}
_LIMITS: dict[str, tuple[str, Callable[[str], Any]]] = {
    "CHAT_MAX_TOOL_ROUNDS": ("max_tool_rounds", int),
    "CHAT_TOOL_RESULT_CHARS": ("tool_result_chars", int),
    "CHAT_GENERATE_TITLES": ("generate_titles", lambda v: v.lower() in ("1", "true", "yes"))}


def chat_environment(settings: object, environ: Mapping[str, str]) -> dict[str, str]:
    """The mapping the loader reads: the process environment (it holds the API-key variables
    the back ends name), overridden by the chat fields of the settings that have them."""
    env = dict(environ)
    for name, var in SETTINGS_FIELDS.items():
        value = getattr(settings, name, None)
        if value is not None:
            env[var] = value if isinstance(value, str) else json.dumps(value)
    return env


def _limits(env: Mapping[str, str]) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for var, (name, parse) in _LIMITS.items():
        if env.get(var):
            try:
                limits[name] = parse(env[var])
            except ValueError:
                raise ChatConfigError(f"{var} must be a number") from None
    return limits


def load_chat_config(env: Mapping[str, str], **limits: Any) -> ChatConfig:
    """Back ends in their configured order, agents by name (plus the default agent), and the
    keys each back end names (absent ones are left out: that back end is skipped). `limits`
    override the CHAT_MAX_TOOL_ROUNDS / CHAT_TOOL_RESULT_CHARS / CHAT_GENERATE_TITLES values."""
    limits = _limits(env) | limits
    backends = tuple(_build(BackendConfig, "CHAT_BACKENDS", e)
                     for e in _json_list(env, "CHAT_BACKENDS"))
    names = [b.name for b in backends]
    if len(set(names)) != len(names):
        raise ChatConfigError("CHAT_BACKENDS names must be unique")
    agents: dict[str, AgentConfig] = {DEFAULT_AGENT: AgentConfig(DEFAULT_AGENT)}
    for entry in _json_list(env, "CHAT_AGENTS"):
        tools = entry.get("tools")
        entry = entry | {"tools": tuple(tools) if tools is not None else None}
        agent = _build(AgentConfig, "CHAT_AGENTS", entry)
        if agent.backend is not None and agent.backend not in names:
            raise ChatConfigError(f"agent {agent.name!r} names unknown back end {agent.backend!r}")
        agents[agent.name] = agent
    servers = tuple(_build(McpServerConfig, "CHAT_MCP_SERVERS", e)
                    for e in _json_list(env, "CHAT_MCP_SERVERS"))
    if any("__" in m.name or not m.name for m in servers):
        raise ChatConfigError("CHAT_MCP_SERVERS names must be non-empty and without '__'")
    keys = {b.api_key_env: env[b.api_key_env] for b in backends if env.get(b.api_key_env)}
    return ChatConfig(backends=backends, agents=agents, api_keys=keys, mcp_servers=servers,
                      **limits)
