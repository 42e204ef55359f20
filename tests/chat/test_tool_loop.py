"""Question -> tool call -> tool result -> answer over SSE, scoped to the caller and bounded."""

from __future__ import annotations

import json
from typing import Any

from api.chat.tools import ChatTools, clip

Events = list[tuple[str, dict[str, Any]]]
SUMMARY_ARGS = {"start_day": "2025-01-01", "end_day": "2025-01-03", "indicators": ["steps"]}


def test_a_question_is_answered_through_a_tool_call_over_sse(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    def script(body: dict[str, Any]) -> Any:
        if any(m["role"] == "tool" for m in body["messages"]):
            return reply(text=["You walked ", "1001 steps on Jan 2."])
        return reply(tool_calls=[("get_daily_summary", SUMMARY_ARGS)])

    live.fake.script("primary", script)
    events: Events = ask(alice, "How many steps did I walk in early January?")
    kinds = [e for e, _ in events]
    assert kinds[0] == "session"
    assert kinds.index("tool_call") < kinds.index("tool_result") < kinds.index("delta")
    assert kinds[-1] == "message"
    call = next(d for e, d in events if e == "tool_call")
    assert call["name"] == "get_daily_summary" and call["arguments"] == SUMMARY_ARGS
    result = next(d for e, d in events if e == "tool_result")
    assert not result["is_error"] and "1001" in result["text"]
    assert events[-1][1]["text"] == "You walked 1001 steps on Jan 2."
    assert "".join(d["text"] for e, d in events if e == "delta") == events[-1][1]["text"]
    first, second = live.fake.requests["primary"]
    assert {t["function"]["name"] for t in first["tools"]} == set(ChatTools().tools)
    system = first["messages"][0]["content"]
    assert "not medical advice" in system
    assert "whoop (active)" in system and "2025-01-01" in system
    tool_message = second["messages"][-1]
    assert tool_message["role"] == "tool" and "1001" in tool_message["content"]


def test_a_model_asking_for_another_users_data_gets_only_the_callers(
    live: Any, alice: Any, bob: Any, ask: Any, reply: Any
) -> None:
    def script(body: dict[str, Any]) -> Any:
        if any(m["role"] == "tool" for m in body["messages"]):
            return reply(text=["done"])
        return reply(
            tool_calls=[
                ("get_daily_summary", SUMMARY_ARGS | {"user_id": bob.id}),
                ("query_sql", {"sql": "SELECT value FROM daily_summary", "user_id": bob.id}),
            ]
        )

    live.fake.script("primary", script)
    events: Events = ask(alice, "Show me Bob's steps")
    results = [d["text"] for e, d in events if e == "tool_result"]
    assert len(results) == 2
    for text in results:
        assert "9000" not in text, text
    assert "1000" in results[0]
    seen = json.dumps(live.fake.requests["primary"][1]["messages"])
    assert "90000" not in seen and "90001" not in seen


def test_the_step_bound_holds_and_the_last_call_offers_no_tools(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    def script(body: dict[str, Any]) -> Any:
        if body.get("tools"):
            return reply(tool_calls=[("search_indicators", {"query": "steps"})])
        return reply(text=["Here is what I found."])

    live.fake.script("primary", script)
    events: Events = ask(alice, "Keep looking")
    assert sum(1 for e, _ in events if e == "tool_call") == 3  # max_tool_rounds
    assert len(live.fake.requests["primary"]) == 4
    assert "tools" not in live.fake.requests["primary"][-1]
    assert events[-1] == ("message", events[-1][1]) and events[-1][1]["text"]


def test_an_agents_tool_allow_list_holds(live: Any, alice: Any, ask: Any, reply: Any) -> None:
    def script(body: dict[str, Any]) -> Any:
        if any(m["role"] == "tool" for m in body["messages"]):
            return reply(text=["ok"])
        return reply(tool_calls=[("query_sql", {"sql": "SELECT 1"})])

    live.fake.script("primary", script)
    events: Events = ask(alice, "How did I sleep?", agent="sleep")
    assert events[0][1]["agent"] == "sleep"
    offered = [t["function"]["name"] for t in live.fake.requests["primary"][0]["tools"]]
    assert offered == ["get_daily_summary"]
    assert live.fake.requests["primary"][0]["messages"][0]["content"].startswith(
        "You are a sleep analyst."
    )
    result = next(d for e, d in events if e == "tool_result")
    assert result["is_error"] and "not available" in result["text"]


def test_tool_results_are_cut_to_the_budget() -> None:
    assert clip("x" * 50, 100) == "x" * 50
    cut = clip("x" * 5000, 200)
    assert len(cut) <= 200 and "cut" in cut
