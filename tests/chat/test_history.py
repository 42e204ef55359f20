"""History: encrypted at rest, listed, read, renamed, deleted, reloaded into the context within
its budget; a disconnect stops the generation."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import Engine, text

from api.chat.history import answered_only, fit_context
from tests.support.waiting import wait_until

Events = list[tuple[str, dict[str, Any]]]


def _session_id(events: Events) -> str:
    assert events[0][0] == "session"
    return str(events[0][1]["session_id"])


def test_history_is_ciphertext_at_rest_and_bound_to_its_session(
    live: Any, alice: Any, ask: Any, reply: Any, engine: Engine
) -> None:
    secret = f"my resting heart rate worries me {uuid.uuid4().hex[:8]}"
    live.fake.script("primary", lambda _: reply(text=["Answer about ", "zebra-42"]))
    sid = _session_id(ask(alice, secret))
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT role, content FROM chat_messages WHERE session_id = :s ORDER BY id"),
            {"s": sid},
        ).all()
        title = conn.execute(
            text("SELECT title FROM chat_sessions WHERE id = :s"), {"s": sid}
        ).scalar_one()
    assert [r.role for r in rows] == ["agent", "user", "assistant"]
    for row in rows:
        assert secret not in row.content and "zebra" not in row.content
        assert row.content.startswith("k1:")
    assert secret[-8:] not in title and title.startswith("k1:")  # sealed like the messages
    detail = httpx.get(f"{live.url}/v1/chat/sessions/{sid}", headers=alice.headers).json()
    assert [(m["role"], m["text"]) for m in detail["messages"]] == [
        ("user", secret),
        ("assistant", "Answer about zebra-42"),
    ]
    assert detail["agent"] == "assistant"
    # A blob moved to another session does not open there.
    other = _session_id(ask(alice, "another"))
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE chat_messages SET content = :c WHERE session_id = :o AND role = 'user'"),
            {"c": rows[1].content, "o": other},
        )
    try:
        moved = httpx.get(f"{live.url}/v1/chat/sessions/{other}", headers=alice.headers)
        assert moved.status_code == 500
        assert moved.json()["code"] == "chat_history_unreadable"
    finally:
        httpx.delete(f"{live.url}/v1/chat/sessions/{other}", headers=alice.headers)


def test_sessions_are_listed_renamed_and_deleted_and_private(
    live: Any, alice: Any, bob: Any, ask: Any
) -> None:
    sid = _session_id(ask(alice, "How was my week of sleep?"))
    listed = httpx.get(f"{live.url}/v1/chat/sessions", headers=alice.headers).json()
    assert sid in [s["id"] for s in listed["data"]]
    assert listed["data"][0]["id"] == sid
    url = f"{live.url}/v1/chat/sessions/{sid}"
    assert httpx.get(url, headers=bob.headers).status_code == 404
    assert httpx.patch(url, json={"title": "x"}, headers=bob.headers).status_code == 404
    assert httpx.delete(url, headers=bob.headers).status_code == 404
    bob_list = httpx.get(f"{live.url}/v1/chat/sessions", headers=bob.headers).json()
    assert sid not in [s["id"] for s in bob_list["data"]]
    renamed = httpx.patch(url, json={"title": "Sleep"}, headers=alice.headers)
    assert renamed.status_code == 200 and renamed.json()["title"] == "Sleep"
    assert httpx.delete(url, headers=alice.headers).status_code == 204
    assert httpx.get(url, headers=alice.headers).status_code == 404
    with httpx.Client(timeout=10) as http:
        other = http.post(
            f"{live.url}/v1/chat", headers=bob.headers, json={"message": "hi", "session_id": sid}
        )
    assert other.status_code == 404


def test_earlier_turns_are_reloaded_into_the_context(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    def script(body: dict[str, Any]) -> Any:
        if any(m["role"] == "tool" for m in body["messages"]):
            return reply(text=["first answer"])
        if len(body["messages"]) == 2:
            return reply(tool_calls=[("search_indicators", {"query": "steps"})])
        return reply(text=["second answer"])

    live.fake.script("primary", script)
    sid = _session_id(ask(alice, "first question"))
    ask(alice, "second question", session_id=sid)
    last = live.fake.requests["primary"][-1]["messages"]
    assert [
        (m["role"], m.get("content"))
        for m in last
        if m["role"] in ("user", "assistant") and m.get("content")
    ] == [("user", "first question"), ("assistant", "first answer"), ("user", "second question")]
    assert any(m["role"] == "tool" for m in last)


def test_the_oldest_turns_are_dropped_beyond_the_token_budget() -> None:
    turns: list[dict[str, Any]] = [
        {"role": "user", "content": "a" * 400},
        {"role": "assistant", "content": "b" * 400},
        {"role": "user", "content": "c" * 40},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1"}]},
        {"role": "tool", "content": "d" * 40},
        {"role": "assistant", "content": "e"},
    ]
    assert fit_context(turns, 10_000) == turns
    kept = fit_context(turns, 60)
    assert kept[0] == turns[2] and kept[-1] == turns[-1]
    assert fit_context(turns, 1) == []


def test_a_disconnect_stops_the_generation(
    live: Any, alice: Any, reply: Any, engine: Engine
) -> None:
    live.fake.script(
        "primary", lambda _: reply(text=[f"word{i} " for i in range(40)], part_delay_s=0.05)
    )
    with (
        httpx.Client(base_url=live.url, timeout=10) as http,
        http.stream(
            "POST", "/v1/chat", json={"message": "tell me a long story"}, headers=alice.headers
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: ") and "word1 " in line:
                break
    # The scripted answer ends either cut off (the API closed the model's stream) or finished.
    wait_until(lambda: live.fake.streams_ended == 1, "the scripted answer to end")
    assert live.fake.finished == [False]
    with engine.connect() as conn:
        roles = (
            conn.execute(
                text(
                    "SELECT role FROM chat_messages WHERE session_id = "
                    "(SELECT id FROM chat_sessions WHERE user_id = :u "
                    "ORDER BY created_at DESC LIMIT 1) ORDER BY id"
                ),
                {"u": alice.id},
            )
            .scalars()
            .all()
        )
    assert roles == ["agent", "user"]  # the question is kept; no half answer is stored


def test_a_tool_call_without_its_stored_result_is_left_out_of_the_context() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "x", "arguments": "{}"}}
    stopped: list[dict[str, Any]] = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "let me look", "tool_calls": [call]},
        {"role": "user", "content": "q2"},
    ]
    assert answered_only(stopped) == [
        stopped[0],
        {"role": "assistant", "content": "let me look"},
        stopped[2],
    ]
    done = [*stopped[:2], {"role": "tool", "tool_call_id": "c1", "content": "r"}]
    assert answered_only(done) == done


def test_a_sessions_agent_is_kept_for_later_questions(live: Any, alice: Any, ask: Any) -> None:
    sid = _session_id(ask(alice, "how did I sleep", agent="sleep"))
    events = ask(alice, "and last week?", session_id=sid)
    assert events[0][1]["agent"] == "sleep"
    assert [t["function"]["name"] for t in live.fake.requests["primary"][-1]["tools"]] == [
        "get_daily_summary"
    ]
    switched = ask(alice, "now anything", session_id=sid, agent="assistant")
    assert switched[0][1]["agent"] == "assistant"
    detail = httpx.get(f"{live.url}/v1/chat/sessions/{sid}", headers=alice.headers).json()
    assert detail["agent"] == "assistant"


def test_a_new_sessions_title_is_generated_from_the_first_exchange(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.configure([live.backend("primary")], [], generate_titles=True)

    def script(body: dict[str, Any]) -> Any:
        if body["messages"][0]["content"].startswith("Write a title"):
            return reply(text=['"Weekly ', 'step trend"'])
        return reply(text=["You walked more this week."])

    live.fake.script("primary", script)
    events = ask(alice, "did i walk more this week than last week or not, honestly")
    assert events[-1][1]["title"] == "Weekly step trend"
    sid = _session_id(events)
    detail = httpx.get(f"{live.url}/v1/chat/sessions/{sid}", headers=alice.headers).json()
    assert detail["title"] == "Weekly step trend"
    assert "You walked more" in live.fake.requests["primary"][-1]["messages"][1]["content"]
    later = ask(alice, "and the week before?", session_id=sid)
    assert "title" not in later[-1][1]  # only the first exchange names the session


def test_a_title_falls_back_to_the_first_message_when_no_backend_answers(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.configure([live.backend("primary")], [], generate_titles=True)
    calls = iter([reply(text=["fine"]), reply(status=500)])
    live.fake.script("primary", lambda _: next(calls))
    events = ask(alice, "How is my resting heart rate?")
    assert events[-1][0] == "message" and events[-1][1]["title"] is None
    detail = httpx.get(
        f"{live.url}/v1/chat/sessions/{_session_id(events)}", headers=alice.headers
    ).json()
    assert detail["title"] == "How is my resting heart rate?"


def test_a_small_context_window_drops_the_oldest_turns_when_reloading(
    live: Any, alice: Any, ask: Any
) -> None:
    # 2200-token window - 1024 reserved for the answer - prompt and schema: under 1000 left.
    live.configure(
        [live.backend("primary", context_window=2200)],
        [{"name": "sleep", "tools": ["get_daily_summary"]}],
    )
    sid = _session_id(ask(alice, "old " * 1200, agent="sleep"))  # ~1200 tokens
    ask(alice, "newer question", session_id=sid)
    ask(alice, "newest question", session_id=sid)
    sent = [m.get("content") for m in live.fake.requests["primary"][-1]["messages"]]
    assert "newer question" in sent and not any("old old" in (c or "") for c in sent)
    second = live.fake.requests["primary"][1]["messages"]
    assert [m["role"] for m in second] == ["system", "user"]  # the long first turn dropped
