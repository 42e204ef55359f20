"""MCP resources: the indicator catalogue, one definition per indicator, the caller's profile."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError

from api.mcp.context import current_caller
from api.mcp.tools.health import indicator_public
from api.services.profile import read_profile
from indicators import CATALOGUE

JSON = "application/json"
PROFILE_DAYS = 90


def catalogue() -> str:
    """Every standard indicator: id, name, category, kind, unit, roll-up, plausible range."""
    return json.dumps([indicator_public(e).model_dump(mode="json") for e in CATALOGUE.values()])


def indicator_definition(indicator_id: str) -> str:
    """One indicator's definition by id (e.g. mirobody://indicators/heart_rate)."""
    entry = CATALOGUE.get(indicator_id)
    if entry is None:
        raise ResourceNotFoundError(f"unknown indicator {indicator_id[:64]!r}")
    return indicator_public(entry).model_dump_json()


def caller_profile() -> str:
    """The person's health profile: devices, latest values, coverage of the last 90 days."""
    try:
        caller = current_caller()
        with caller.session() as session:
            profile = read_profile(session, caller.user(session), PROFILE_DAYS)
    except ToolError as exc:
        raise ResourceError(str(exc)) from None
    return profile.model_dump_json()


def register_resources(server: MCPServer[Any]) -> None:
    server.resource(
        "mirobody://indicators",
        name="indicator_catalogue",
        title="Indicator catalogue",
        mime_type=JSON,
    )(catalogue)
    server.resource(
        "mirobody://indicators/{indicator_id}",
        name="indicator",
        title="Indicator definition",
        mime_type=JSON,
    )(indicator_definition)
    server.resource(
        "mirobody://me/profile", name="health_profile", title="My health profile", mime_type=JSON
    )(caller_profile)
