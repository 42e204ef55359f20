"""MCP prompts: a weekly health review and a sleep analysis, ready for a person to pick."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import UserMessage
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from api.mcp.context import current_caller
from api.mcp.tools.common import day_out_of_range
from api.services.sync import user_today

SLEEP_INDICATORS = (
    "sleep_duration_asleep",
    "sleep_duration_deep",
    "sleep_duration_rem",
    "sleep_efficiency",
    "sleep_latency",
    "sleep_lowest_heart_rate",
    "sleep_average_hrv_rmssd",
)
WEEK_INDICATORS = (
    "steps",
    "active_energy",
    "resting_heart_rate",
    "hrv_rmssd",
    "sleep_duration_asleep",
)


def _invalid(message: str) -> MCPError:
    """Bad prompt arguments are a JSON-RPC invalid-params error with the reason."""
    return MCPError(code=INVALID_PARAMS, message=message)


def _day(value: str, name: str) -> date | None:
    """The day a prompt argument names (None when empty): a YYYY-MM-DD date among the days
    Mirobody holds, or an invalid-params error saying which argument is wrong and why."""
    if not value.strip():
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise _invalid(f"{name} must be a date as YYYY-MM-DD") from None
    reason = day_out_of_range(day)
    if reason is not None:
        raise _invalid(f"{name} {reason}")
    return day


def _today() -> date:
    caller = current_caller()
    with caller.session() as session:
        return user_today(caller.user(session))


def weekly_health_review(week_ending: str = "", focus: str = "") -> list[UserMessage]:
    """Review my last seven days against the week before: activity, heart, sleep.

    Args:
        week_ending: Last day of the week to review (YYYY-MM-DD); default: today.
        focus: Something to pay special attention to, e.g. "recovery" or "running".
    """
    end = _day(week_ending, "week_ending") or _today()
    start = end - timedelta(days=6)
    focus_line = f"\nPay special attention to: {focus.strip()[:200]}." if focus.strip() else ""
    return [
        UserMessage(
            f"Give me a weekly health review for {start} to {end}.\n"
            "1. Call get_user_health_profile to see which devices and indicators I have.\n"
            f"2. Call compare_periods with indicators {list(WEEK_INDICATORS)} (keep only those I "
            f"have), days=7 and end_day={end}.\n"
            "3. For anything that changed a lot, look at get_daily_summary for those days, and "
            "show one render_chart of the most telling indicators.\n"
            "Summarise in plain language: what improved, what got worse, what to watch next week. "
            "Quote numbers with units; say when data is missing rather than guessing; this is not "
            f"medical advice.{focus_line}"
        )
    ]


def sleep_analysis(nights: str = "14", end_day: str = "") -> list[UserMessage]:
    """Analyse my recent sleep: duration, stages, efficiency, and what goes with good nights.

    Args:
        nights: How many nights to look at (1-90, default 14).
        end_day: The last morning to include (YYYY-MM-DD); default: today.
    """
    try:
        n = int(nights.strip() or "14")
    except ValueError:
        raise _invalid("nights must be a whole number") from None
    if not 1 <= n <= 90:
        raise _invalid("nights must be between 1 and 90")
    end = _day(end_day, "end_day") or _today()
    start = end - timedelta(days=n - 1)
    return [
        UserMessage(
            f"Analyse my sleep for the {n} nights ending on the morning of {end} ({start} to "
            f"{end}).\n"
            f"1. Call get_daily_summary with start_day={start}, end_day={end} and indicators "
            f"{list(SLEEP_INDICATORS)}.\n"
            "2. Call render_chart for sleep_duration_asleep and sleep_efficiency over the same "
            "days.\n"
            "3. If useful, use query_sql to relate sleep to the day before (e.g. steps or "
            "active_energy from daily_summary).\n"
            "Report typical duration and stage shares, consistency, the best and worst nights and "
            "what distinguished them. Use units; say which indicators have no data; this is not "
            "medical advice."
        )
    ]


PROMPTS = {
    "weekly_health_review": ("Weekly health review", weekly_health_review),
    "sleep_analysis": ("Sleep analysis", sleep_analysis),
}


def register_prompts(server: MCPServer[Any]) -> None:
    for name, (title, fn) in PROMPTS.items():
        server.prompt(name=name, title=title)(fn)
