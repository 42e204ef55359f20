"""Dates outside the days Mirobody holds (before the pipeline's first day, after tomorrow) are a
clean invalid-params error naming the argument, for every prompt and tool that takes one: never
JSON-RPC error 0, an "Error executing tool", or a traceback in the server's log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent

from mirobody_assets.days import FIRST_DAY

INVALID_PARAMS = -32602
DAY_AFTER_TOMORROW = (datetime.now(UTC).date() + timedelta(days=2)).isoformat()
BAD_DAYS = [
    "0001-01-01",
    "1999-12-31",
    (FIRST_DAY - timedelta(days=1)).isoformat(),
    DAY_AFTER_TOMORROW,
    "9999-12-31",
]


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Nothing the requests do may log an exception (the SDK logs crashes with exc_info)."""
    with caplog.at_level(logging.INFO):
        yield
    crashes = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not crashes, [f"{r.name}: {r.getMessage()}" for r in crashes]


def _invalid_params(outcome: Any, argument: str) -> str:
    assert isinstance(outcome, MCPError), outcome
    assert outcome.error.code == INVALID_PARAMS, outcome.error
    message = outcome.error.message
    assert argument in message and FIRST_DAY.isoformat() in message, message
    assert "Traceback" not in message and "Error rendering" not in message
    return message


@pytest.mark.parametrize("day", BAD_DAYS)
@pytest.mark.parametrize(
    ("prompt", "argument"), [("weekly_health_review", "week_ending"), ("sleep_analysis", "end_day")]
)
@pytest.mark.usefixtures("no_tracebacks")
def test_a_prompt_date_out_of_range_is_invalid_params(
    with_client: Callable[..., Any], prompt: str, argument: str, day: str
) -> None:
    outcome = with_client(lambda c: c.get_prompt(prompt, {argument: day}))
    _invalid_params(outcome, argument)


@pytest.mark.usefixtures("no_tracebacks")
def test_a_prompt_date_within_range_still_renders(with_client: Callable[..., Any]) -> None:
    tomorrow = (datetime.now(UTC).date() + timedelta(days=1)).isoformat()
    for prompt, argument, day in [
        ("weekly_health_review", "week_ending", "2025-01-14"),
        ("sleep_analysis", "end_day", FIRST_DAY.isoformat()),
        ("weekly_health_review", "week_ending", tomorrow),
    ]:
        result = with_client(lambda c, p=prompt, a=argument, d=day: c.get_prompt(p, {a: d}))
        assert not isinstance(result, MCPError), result
        assert day in result.messages[0].content.text


TOOL_DATES: list[tuple[str, dict[str, Any], str]] = [
    ("get_daily_summary", {"end_day": "2025-01-02"}, "start_day"),
    ("get_daily_summary", {"start_day": "2025-01-01"}, "end_day"),
    ("render_chart", {"indicators": ["steps"], "end_day": "2025-01-02"}, "start_day"),
    ("render_chart", {"indicators": ["steps"], "start_day": "2025-01-01"}, "end_day"),
    ("compare_periods", {"indicators": ["steps"]}, "end_day"),
    ("request_sync", {"kind": "backfill", "end_day": "2025-01-02"}, "start_day"),
    ("request_sync", {"kind": "backfill", "start_day": "2025-01-01"}, "end_day"),
]


@pytest.mark.parametrize("day", ["0001-01-01", DAY_AFTER_TOMORROW, "9999-12-31"])
@pytest.mark.parametrize(("tool", "arguments", "argument"), TOOL_DATES)
@pytest.mark.usefixtures("no_tracebacks")
def test_a_tool_date_out_of_range_is_invalid_params(
    with_client: Callable[..., Any], tool: str, arguments: dict[str, Any], argument: str, day: str
) -> None:
    outcome = with_client(lambda c: c.call_tool(tool, {**arguments, argument: day}))
    _invalid_params(outcome, argument)


@pytest.mark.parametrize(
    ("argument", "moment"),
    [
        ("start", "0001-01-01T00:00:00+14:00"),
        ("start", "2019-12-31T23:59:59Z"),
        ("end", "9999-12-31T23:59:59-12:00"),
        ("end", f"{DAY_AFTER_TOMORROW}T00:00:01Z"),
    ],
)
@pytest.mark.usefixtures("no_tracebacks")
def test_a_series_time_out_of_range_is_invalid_params(
    with_client: Callable[..., Any], argument: str, moment: str
) -> None:
    window = {"start": "2025-01-01T00:00:00Z", "end": "2025-01-02T00:00:00Z"}
    outcome = with_client(
        lambda c: c.call_tool(
            "get_indicator_series", {"indicators": ["steps"], **window, argument: moment}
        )
    )
    message = _invalid_params(outcome, argument)
    assert "time" in message


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
@pytest.mark.usefixtures("no_tracebacks")
def test_query_sql_refuses_days_out_of_range_with_a_clear_reason(
    with_client: Callable[..., Any], day: str
) -> None:
    outcome = with_client(lambda c: c.call_tool("query_sql", {"sql": "SELECT 1", "end_day": day}))
    if isinstance(outcome, MCPError):  # its own argument type may refuse it first
        _invalid_params(outcome, "end_day")
        return
    assert isinstance(outcome, CallToolResult) and outcome.is_error
    block = outcome.content[0]
    assert isinstance(block, TextContent)
    assert "end_day" in block.text and FIRST_DAY.isoformat() in block.text, block.text
