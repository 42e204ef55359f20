"""Every built-in tool through the SDK's in-memory client, against seeded data."""

from __future__ import annotations

import base64
import io
import sys
from collections.abc import Callable
from typing import Any

import anyio
import mcp
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ImageContent, TextContent
from PIL import Image
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from api.mcp.context import McpDeps
from api.mcp.server import build_server

Call = Callable[..., CallToolResult]


@pytest.fixture
def call(server_for: Callable[[Any], Any], alice: Any) -> Call:
    """Call one tool as Alice; returns the CallToolResult."""

    def run(name: str, arguments: dict[str, Any], account: Any = None) -> CallToolResult:
        async def go() -> CallToolResult | MCPError:
            async with mcp.Client(server_for(account or alice)) as client:
                try:
                    return await client.call_tool(name, arguments)
                except MCPError as exc:  # raised outside, not inside the client's task group
                    return exc

        outcome = anyio.run(go)
        if isinstance(outcome, MCPError):
            raise outcome
        return outcome

    return run


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


def _error_text(result: CallToolResult) -> str:
    assert result.is_error
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert "Traceback" not in block.text
    return block.text


def test_every_tool_is_listed_with_a_description_and_a_read_only_hint(
    server_for: Callable[[Any], Any], alice: Any
) -> None:
    async def go() -> Any:
        async with mcp.Client(server_for(alice)) as client:
            return (await client.list_tools()).tools

    tools = {t.name: t for t in anyio.run(go)}
    assert set(tools) >= {
        "get_user_health_profile",
        "search_indicators",
        "get_indicator_series",
        "get_daily_summary",
        "compare_periods",
        "list_connections",
        "request_sync",
        "render_chart",
        "query_sql",
    }
    for tool in tools.values():
        assert tool.description and len(tool.description) > 60, tool.name
        assert tool.annotations is not None
    assert tools["request_sync"].annotations.read_only_hint is False
    assert tools["query_sql"].annotations.read_only_hint is True


def test_profile_shows_devices_latest_values_and_coverage(call: Call) -> None:
    profile = _ok(call("get_user_health_profile", {"days": 30}))
    assert [d["provider"] for d in profile["devices"]] == ["whoop"]
    latest = {v["indicator"]: v for v in profile["latest"]}
    assert latest["steps"]["value"] == 1013.0
    assert profile["first_day"] == "2025-01-01" and profile["last_day"] == "2025-01-14"


def test_search_indicators_ranks_the_best_match_first(call: Call) -> None:
    found = _ok(call("search_indicators", {"keywords": "resting heart"}))
    assert found["data"][0]["id"] == "resting_heart_rate"
    assert _ok(call("search_indicators", {"keywords": "", "category": "sleep"}))["count"] > 5


def test_series_rolls_up_per_hour_and_source(call: Call) -> None:
    page = _ok(
        call(
            "get_indicator_series",
            {
                "indicators": ["heart_rate"],
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-01T03:00:00Z",
                "resolution": "hour",
            },
        )
    )
    assert {(p["start"][11:16], p["source"], p["value"]) for p in page["data"]} == {
        (f"0{h}:00", s, 60.0 + h + b)
        for h in range(3)
        for s, b in (("whoop", 0.0), ("garmin.fenix7", 2.0))
    }
    assert page["truncated"] is False and page["note"] is None


def test_daily_series_of_named_sources_rolls_each_up(call: Call) -> None:
    page = _ok(
        call(
            "get_indicator_series",
            {
                "indicators": ["heart_rate"],
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-03T00:00:00Z",
                "resolution": "day",
                "sources": ["whoop", "garmin"],
            },
        )
    )
    assert {(p["day"], p["source"]) for p in page["data"]} == {
        (d, s) for d in ("2025-01-01", "2025-01-02") for s in ("whoop", "garmin.fenix7")
    }
    assert all(p["count"] == 24 for p in page["data"])


def test_series_without_an_offset_reads_the_persons_timezone(call: Call) -> None:
    page = _ok(
        call(
            "get_indicator_series",
            {
                "indicators": ["steps"],
                "start": "2025-01-01T00:00:00",
                "end": "2025-01-02T00:00:00",
                "resolution": "raw",
            },
        )
    )
    assert [p["value"] for p in page["data"]] == [1000.0]


def test_an_oversized_series_is_truncated_with_a_note(call: Call) -> None:
    page = _ok(
        call(
            "get_indicator_series",
            {
                "indicators": ["heart_rate"],
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-15T00:00:00Z",
                "resolution": "raw",
                "max_points": 50,
            },
        )
    )
    assert len(page["data"]) == 50
    assert page["truncated"] is True and "first 50 points" in page["note"]


def test_daily_summary_returns_merged_daily_values(call: Call) -> None:
    page = _ok(
        call(
            "get_daily_summary",
            {"start_day": "2025-01-01", "end_day": "2025-01-03", "indicators": ["steps"]},
        )
    )
    assert [(r["day"], r["value"]) for r in page["data"]] == [
        ("2025-01-01", 1000.0),
        ("2025-01-02", 1001.0),
        ("2025-01-03", 1002.0),
    ]
    small = _ok(
        call(
            "get_daily_summary", {"start_day": "2025-01-01", "end_day": "2025-01-14", "max_rows": 5}
        )
    )
    assert len(small["data"]) == 5 and small["truncated"] is True


def test_compare_periods_gives_means_and_the_change(call: Call) -> None:
    result = _ok(
        call(
            "compare_periods",
            {"indicators": ["steps", "vo2max"], "days": 7, "end_day": "2025-01-14"},
        )
    )
    assert result["current"] == {"start_day": "2025-01-08", "end_day": "2025-01-14"}
    assert result["previous"] == {"start_day": "2025-01-01", "end_day": "2025-01-07"}
    by_id = {c["indicator"]: c for c in result["indicators"]}
    steps = by_id["steps"]
    assert steps["current"]["mean"] == 1010.0 and steps["previous"]["mean"] == 1003.0
    assert steps["current"]["min"] == 1007.0 and steps["current"]["max"] == 1013.0
    assert steps["change"] == 7.0
    assert steps["change_pct"] == pytest.approx(700 / 1003)
    assert by_id["vo2max"]["current"] is None and by_id["vo2max"]["change"] is None


def test_list_connections_shows_sync_status(call: Call) -> None:
    status = _ok(call("list_connections", {}))
    assert [c["provider"] for c in status["connections"]] == ["whoop"]
    assert status["connections"][0]["needs_reauthorization"] is False


def test_request_sync_records_a_pending_request_once(
    call: Call, register: Any, engine: Engine
) -> None:
    carol = register("carol")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO provider_connections (user_id, provider) VALUES (:u, 'oura')"),
            {"u": carol.id},
        )
    first = _ok(call("request_sync", {"provider": "oura"}, account=carol))
    again = _ok(call("request_sync", {"provider": "oura"}, account=carol))
    assert first["status"] == "pending" and first["requested_by"] == "mcp"
    assert again["id"] == first["id"]
    assert "no whoop connection" in _error_text(
        call("request_sync", {"provider": "whoop"}, account=carol)
    )


def test_render_chart_returns_a_png_that_decodes(call: Call) -> None:
    result = call(
        "render_chart",
        {
            "indicators": ["steps", "resting_heart_rate"],
            "start_day": "2025-01-01",
            "end_day": "2025-01-14",
            "kind": "bar",
        },
    )
    assert not result.is_error, result.content
    image, caption = result.content
    assert isinstance(image, ImageContent) and image.mime_type == "image/png"
    png = Image.open(io.BytesIO(base64.b64decode(image.data)))
    png.load()
    assert png.format == "PNG" and png.width >= 600 and png.height >= 300
    assert isinstance(caption, TextContent) and "steps" in caption.text


def test_render_chart_without_data_is_an_error_result(call: Call) -> None:
    text_ = _error_text(
        call(
            "render_chart",
            {"indicators": ["vo2max"], "start_day": "2025-01-01", "end_day": "2025-01-14"},
        )
    )
    assert "no daily values of vo2max" in text_


def test_a_failing_tool_returns_a_clear_error_result(call: Call) -> None:
    text_ = _error_text(
        call(
            "get_daily_summary",
            {
                "start_day": "2025-01-01",
                "end_day": "2025-01-02",
                "indicators": ["not_an_indicator"],
            },
        )
    )
    assert "unknown indicator" in text_
    text_ = _error_text(
        call(
            "get_indicator_series",
            {
                "indicators": ["steps"],
                "start": "2025-01-02T00:00:00Z",
                "end": "2025-01-01T00:00:00Z",
            },
        )
    )
    assert "end must be after start" in text_


@pytest.mark.parametrize(
    ("name", "arguments", "expected"),
    [
        ("search_indicators", {}, "keywords: Field required"),
        ("search_indicators", {"keywords": 5}, "keywords: Input should be a valid string"),
        ("get_daily_summary", {"start_day": "yesterday", "end_day": "2025-01-01"}, "start_day"),
        (
            "render_chart",
            {"indicators": [], "start_day": "2025-01-01", "end_day": "2025-01-02"},
            "indicators",
        ),
        ("query_sql", {"sql": "select 1", "max_rows": 100000}, "max_rows"),
        ("no_such_tool", {}, "unknown tool: no_such_tool"),
    ],
)
def test_bad_arguments_are_a_json_rpc_invalid_params_error(
    call: Call, name: str, arguments: dict[str, Any], expected: str
) -> None:
    with pytest.raises(MCPError) as caught:
        call(name, arguments)
    assert caught.value.error.code == -32602
    assert expected in caught.value.error.message


def test_another_user_gets_nothing_of_alices_data_through_any_tool(
    call: Call, alice: Any, bob: Any
) -> None:
    days = {"start_day": "2025-01-01", "end_day": "2025-01-14"}
    calls: list[tuple[str, dict[str, Any]]] = [
        ("get_user_health_profile", {"days": 3660}),
        (
            "get_indicator_series",
            {
                "indicators": ["steps", "heart_rate"],
                "resolution": "raw",
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-15T00:00:00Z",
                "max_points": 5000,
            },
        ),
        (
            "get_indicator_series",
            {
                "indicators": ["steps"],
                "start": "2025-01-01T00:00:00Z",
                "end": "2025-01-15T00:00:00Z",
            },
        ),
        ("get_daily_summary", days),
        ("compare_periods", {"indicators": ["steps"], "days": 7, "end_day": "2025-01-14"}),
        ("list_connections", {}),
        ("render_chart", {"indicators": ["steps"], **days}),
        (
            "query_sql",
            {
                "sql": "SELECT * FROM daily_summary UNION ALL SELECT indicator, day, "
                "value, unit, source, '', 0 FROM indicator_values",
                **days,
                "max_rows": 1000,
            },
        ),
    ]
    alices = [alice.id, *(f"{1000 + d}.0" for d in range(14)), *(f"{1000 + d}," for d in range(14))]
    assert "1013.0" in call("query_sql", calls[-1][1]).model_dump_json()  # the check can fail
    for name, arguments in calls:
        result = call(name, arguments, account=bob)
        assert not result.is_error, (name, result.content)
        seen = result.model_dump_json()
        assert not [m for m in alices if m in seen], name
    steps = _ok(call("get_daily_summary", {**days, "indicators": ["steps"]}, account=bob))
    assert [r["value"] for r in steps["data"]] == [90000.0, 90001.0, 90002.0]


def test_render_chart_says_so_when_matplotlib_is_missing(
    call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.backends.backend_agg", None)
    text_ = _error_text(
        call(
            "render_chart",
            {"indicators": ["steps"], "start_day": "2025-01-01", "end_day": "2025-01-14"},
        )
    )
    assert "matplotlib missing" in text_


def test_an_unexpected_failure_is_an_error_result_without_internals(alice: Any) -> None:
    class BrokenState:
        def sessions(self) -> Any:
            raise OperationalError("SELECT secret_internal_query", {}, Exception("db down"))

    server = build_server(lambda: McpDeps(BrokenState(), alice.user_id))  # type: ignore[arg-type]

    async def go() -> CallToolResult:
        async with mcp.Client(server) as client:
            return await client.call_tool("get_user_health_profile", {})

    text_ = _error_text(anyio.run(go))
    assert text_ == "Error executing tool get_user_health_profile"
