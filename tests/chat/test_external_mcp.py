"""An external MCP server's tools reach the agents that allow them, through the SDK client."""

from __future__ import annotations

import socket
from typing import Any

Events = list[tuple[str, dict[str, Any]]]


def _configure(live: Any, url: str) -> None:
    live.configure(
        [live.backend("primary")],
        [
            {
                "name": "outdoor",
                "system_prompt": "Outdoor coach.",
                "tools": ["get_daily_summary", "weather__get_weather"],
            },
            {"name": "any_weather", "tools": ["weather__*"]},
        ],
        mcp_servers=[{"name": "weather", "url": url}],
    )


def _call_then_answer(reply: Any, name: str, args: dict[str, Any]) -> Any:
    def script(body: dict[str, Any]) -> Any:
        if any(m["role"] == "tool" for m in body["messages"]):
            return reply(text=["Go for a run."])
        return reply(tool_calls=[(name, args)])

    return script


def test_an_external_mcp_tool_is_called_and_its_result_used(
    live: Any, alice: Any, ask: Any, reply: Any, weather_mcp: str
) -> None:
    _configure(live, weather_mcp)
    live.fake.script("primary", _call_then_answer(reply, "weather__get_weather", {"city": "Oslo"}))
    events: Events = ask(alice, "Should I run outside today?", agent="outdoor")
    offered = [t["function"]["name"] for t in live.fake.requests["primary"][0]["tools"]]
    assert offered == ["get_daily_summary", "weather__get_weather"]
    result = next(d for e, d in events if e == "tool_result")
    assert not result["is_error"] and "sunny and 21 C in Oslo" in result["text"]
    assert "sunny and 21 C in Oslo" in live.fake.requests["primary"][1]["messages"][-1]["content"]
    assert events[-1][1]["text"] == "Go for a run."


def test_external_tools_reach_only_agents_that_allow_them(
    live: Any, alice: Any, ask: Any, reply: Any, weather_mcp: str
) -> None:
    _configure(live, weather_mcp)
    live.fake.script("primary", _call_then_answer(reply, "weather__get_pollen", {"city": "Oslo"}))
    events: Events = ask(alice, "Pollen?", agent="outdoor")
    result = next(d for e, d in events if e == "tool_result")
    assert result["is_error"] and "not available" in result["text"]
    ask(alice, "Pollen?")  # the default agent: built-in tools only
    default_tools = {t["function"]["name"] for t in live.fake.requests["primary"][-1]["tools"]}
    assert not any(n.startswith("weather__") for n in default_tools)
    ask(alice, "Pollen?", agent="any_weather")
    wildcard = {t["function"]["name"] for t in live.fake.requests["primary"][-1]["tools"]}
    assert wildcard == {"weather__get_weather", "weather__get_pollen"}


def test_an_unreachable_mcp_server_leaves_its_tools_out(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/mcp"
    _configure(live, dead)
    events: Events = ask(alice, "hello", agent="outdoor")
    assert events[-1][0] == "message"
    offered = [t["function"]["name"] for t in live.fake.requests["primary"][0]["tools"]]
    assert offered == ["get_daily_summary"]
