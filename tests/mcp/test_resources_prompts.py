"""Resources (catalogue, indicator template, profile) and prompts, in memory."""

from __future__ import annotations

import json
from typing import Any, TypeVar

import mcp
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent, TextResourceContents

T = TypeVar("T")


def _text(contents: Any) -> str:
    block = contents.contents[0]
    assert isinstance(block, TextResourceContents)
    assert block.mime_type == "application/json"
    return block.text


def test_resources_and_the_indicator_template_are_listed(with_client: Any) -> None:
    async def body(c: mcp.Client) -> tuple[set[str], set[str]]:
        static = {str(r.uri) for r in (await c.list_resources()).resources}
        templates = {t.uri_template for t in (await c.list_resource_templates()).resource_templates}
        return static, templates

    static, templates = with_client(body)
    assert static == {"mirobody://indicators", "mirobody://me/profile"}
    assert templates == {"mirobody://indicators/{indicator_id}"}


def test_the_catalogue_and_one_indicator_read_as_json(with_client: Any) -> None:
    catalogue = json.loads(_text(with_client(lambda c: c.read_resource("mirobody://indicators"))))
    assert {"steps", "heart_rate", "sleep_duration_asleep"} <= {e["id"] for e in catalogue}
    one = json.loads(
        _text(with_client(lambda c: c.read_resource("mirobody://indicators/resting_heart_rate")))
    )
    assert one["id"] == "resting_heart_rate" and one["unit"] == "/min"


def test_an_unknown_indicator_resource_is_invalid_params(with_client: Any) -> None:
    error = with_client(lambda c: c.read_resource("mirobody://indicators/nope"))
    assert isinstance(error, MCPError) and error.error.code == -32602
    assert "unknown indicator" in error.error.message


def test_the_profile_resource_is_the_callers_own(with_client: Any, alice: Any, bob: Any) -> None:
    mine = json.loads(_text(with_client(lambda c: c.read_resource("mirobody://me/profile"))))
    theirs = json.loads(
        _text(with_client(lambda c: c.read_resource("mirobody://me/profile"), account=bob))
    )
    assert mine["user_id"] == alice.id and theirs["user_id"] == bob.id
    assert mine["last_day"] == "2025-01-14" and theirs["last_day"] == "2025-01-03"


def test_prompts_are_listed_with_their_arguments(with_client: Any) -> None:
    prompts = with_client(lambda c: c.list_prompts()).prompts
    arguments = {p.name: {a.name: a.required for a in p.arguments or []} for p in prompts}
    assert arguments == {
        "weekly_health_review": {"week_ending": False, "focus": False},
        "sleep_analysis": {"nights": False, "end_day": False},
    }
    assert all(p.description for p in prompts)


def test_the_weekly_review_names_the_week_and_the_tools(with_client: Any) -> None:
    result = with_client(
        lambda c: c.get_prompt(
            "weekly_health_review", {"week_ending": "2025-01-14", "focus": "recovery"}
        )
    )
    message = result.messages[0]
    assert message.role == "user" and isinstance(message.content, TextContent)
    assert "2025-01-08 to 2025-01-14" in message.content.text
    assert "compare_periods" in message.content.text and "recovery" in message.content.text


def test_the_sleep_analysis_uses_the_nights_asked_for(with_client: Any) -> None:
    result = with_client(
        lambda c: c.get_prompt("sleep_analysis", {"nights": "7", "end_day": "2025-01-14"})
    )
    text = result.messages[0].content.text
    assert "start_day=2025-01-08, end_day=2025-01-14" in text
    default = with_client(lambda c: c.get_prompt("sleep_analysis", {}))
    assert "14 nights" in default.messages[0].content.text


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("sleep_analysis", {"nights": "many"}, "nights must be a whole number"),
        ("sleep_analysis", {"nights": "400"}, "between 1 and 90"),
        ("weekly_health_review", {"week_ending": "last friday"}, "YYYY-MM-DD"),
        ("no_such_prompt", {}, "unknown prompt: no_such_prompt"),
    ],
)
def test_bad_prompt_arguments_are_a_json_rpc_error(
    with_client: Any, name: str, arguments: dict[str, str], expected: str
) -> None:
    error = with_client(lambda c: c.get_prompt(name, arguments))
    assert isinstance(error, MCPError), error
    assert error.error.code == -32602
    assert expected in error.error.message
