"""Back ends in order: a missing key is skipped with its reason; on error or timeout the
next one answers; configuration errors are named."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.chat.config import ChatConfigError, ChatSettings, load_chat_config, settings_chat_config
from mirobody_assets.settings import get_settings

Events = list[tuple[str, dict[str, Any]]]


def test_backends_lists_a_backend_without_its_key_as_skipped_with_the_reason(
    live: Any, alice: Any
) -> None:
    response = httpx.get(f"{live.url}/v1/chat/backends", headers=alice.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [b["name"] for b in body["data"]] == ["primary", "nokey", "secondary"]
    nokey = body["data"][1]
    assert nokey["available"] is False and "MISSING_KEY" in nokey["reason"]
    assert body["data"][0]["available"] and body["data"][0]["reason"] is None
    assert body["agents"] == ["assistant", "sleep"]


def test_backends_need_credentials(live: Any) -> None:
    assert httpx.get(f"{live.url}/v1/chat/backends").status_code == 401


def test_the_next_backend_answers_when_one_fails(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.fake.script("primary", lambda _: reply(status=500))
    live.fake.script("secondary", lambda _: reply(text=["from ", "secondary"]))
    events: Events = ask(alice, "hello")
    assert events[-1][0] == "message"
    assert events[-1][1]["text"] == "from secondary" and events[-1][1]["backend"] == "secondary"
    assert len(live.fake.requests["primary"]) == 1  # no SDK retries: the chain falls back
    assert "nokey" not in live.fake.requests
    assert live.fake.requests["secondary"][0]["model"] == "model-secondary"


def test_the_next_backend_answers_when_one_times_out(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.configure(
        [live.backend("primary", timeout_s=0.5), live.backend("secondary", key="SECONDARY_KEY")], []
    )
    live.fake.script("primary", lambda _: reply(text=["late"], delay_s=2))
    live.fake.script("secondary", lambda _: reply(text=["on time"]))
    events: Events = ask(alice, "hello")
    assert events[-1][1]["text"] == "on time"


def test_every_backend_failing_is_an_error_event(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.fake.script("primary", lambda _: reply(status=500))
    live.fake.script("secondary", lambda _: reply(status=503))
    events: Events = ask(alice, "hello")
    assert events[-1][0] == "error" and events[-1][1]["code"] == "no_backend"
    assert "primary" in events[-1][1]["reason"] and "secondary" in events[-1][1]["reason"]
    assert "k1" not in events[-1][1]["reason"]


def test_an_agents_backend_is_tried_first(live: Any, alice: Any, ask: Any, reply: Any) -> None:
    live.configure(
        [live.backend("primary"), live.backend("secondary", key="SECONDARY_KEY")],
        [{"name": "coach", "system_prompt": "Coach.", "backend": "secondary"}],
    )
    events: Events = ask(alice, "hello", agent="coach")
    assert events[-1][1]["backend"] == "secondary" and "primary" not in live.fake.requests


def test_an_unknown_agent_is_a_404(live: Any, alice: Any) -> None:
    response = httpx.post(
        f"{live.url}/v1/chat", headers=alice.headers, json={"message": "hi", "agent": "nobody"}
    )
    assert response.status_code == 404 and "nobody" in response.json()["reason"]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CHAT_BACKENDS": "{nope"}, "CHAT_BACKENDS: Invalid JSON"),
        ({"CHAT_BACKENDS": '{"name": "x"}'}, "CHAT_BACKENDS: Input should be a valid list"),
        ({"CHAT_BACKENDS": '[{"name": "x"}]'}, r"CHAT_BACKENDS\.0\.BASE_URL: Field required"),
        (
            {
                "CHAT_BACKENDS": '[{"name": "x", "base_url": "u", "api_key_env": "K", "model": "m",'
                ' "modle": "typo"}]'
            },
            r"CHAT_BACKENDS\.0\.MODLE: Extra inputs",
        ),
        ({"CHAT_AGENTS": '[{"name": "a", "backend": "ghost"}]'}, "unknown back end"),
        (
            {"CHAT_MCP_SERVERS": '[{"name": "a__b", "url": "http://x/mcp"}]'},
            r"CHAT_MCP_SERVERS\.0\.NAME",
        ),
    ],
)
def test_bad_configuration_is_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ChatConfigError, match=message):
        load_chat_config(env)


def test_a_limit_of_the_wrong_type_is_refused_when_the_settings_are_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_MAX_TOOL_ROUNDS", "many")
    with pytest.raises(ValueError, match="chat_max_tool_rounds"):
        get_settings()
    with pytest.raises(ChatConfigError, match="CHAT_MAX_TOOL_ROUNDS"):
        ChatSettings.from_settings(get_settings(chat_max_tool_rounds=2), max_tool_rounds=-1)


def test_keys_come_from_the_variables_the_backends_name() -> None:
    config = load_chat_config(
        {
            "CHAT_BACKENDS": '[{"name": "o", "base_url": "http://x/v1", "api_key_env": "O_KEY",'
            ' "model": "m"}]',
            "O_KEY": "secret",
            "OTHER": "ignored",
        }
    )
    assert config.api_keys == {"O_KEY": "secret"}
    assert "secret" not in repr(config)


def test_a_backend_failing_mid_answer_ends_it_with_an_error_event(
    live: Any, alice: Any, ask: Any, reply: Any
) -> None:
    live.fake.script("primary", lambda _: reply(text=["Half ", "an ", "answer"], break_after=2))
    live.fake.script("secondary", lambda _: reply(text=["never"]))
    events: Events = ask(alice, "hello")
    assert [d["text"] for e, d in events if e == "delta"] == ["Half ", "an "]
    assert events[-1][0] == "error" and events[-1][1]["code"] == "backend_failed"
    assert "secondary" not in live.fake.requests  # retrying would repeat the text


def test_the_chat_reads_its_typed_settings_once_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHAT_AGENTS", '[{"name": "coach", "tools": ["get_daily_summary"]}]')
    monkeypatch.setenv(
        "CHAT_BACKENDS",
        '[{"name": "o", "base_url": "http://x/v1", "api_key_env": "O_KEY", "model": "m"}]',
    )
    monkeypatch.setenv("CHAT_TOOL_RESULT_CHARS", "500")
    monkeypatch.setenv("CHAT_GENERATE_TITLES", "false")
    settings = get_settings(chat_max_tool_rounds=2)
    assert settings.chat_agents == [{"name": "coach", "tools": ["get_daily_summary"]}]
    config = settings_chat_config(settings, {"O_KEY": "k"})
    assert set(config.agents) == {"assistant", "coach"}
    assert config.agents["coach"].tools == ("get_daily_summary",)
    assert [b.name for b in config.backends] == ["o"] and config.api_keys == {"O_KEY": "k"}
    assert (config.max_tool_rounds, config.tool_result_chars, config.generate_titles) == (
        2,
        500,
        False,
    )
