"""Connection tools: which vendor accounts are linked and how their syncs are going; ask for
a sync or a backfill."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.mcp.context import current_caller
from api.mcp.errors import tool_errors
from api.mcp.tools import ToolSpec
from api.mcp.tools.common import Day
from api.schemas.providers import ConnectionPublic
from api.schemas.sync import SyncRequestCreate, SyncRequestPublic
from api.services import providers, sync


class ConnectionsStatus(BaseModel):
    connections: list[ConnectionPublic]
    recent_sync_requests: list[SyncRequestPublic] = Field(
        description="The latest sync and backfill requests, newest first."
    )


@tool_errors
def list_connections() -> ConnectionsStatus:
    """The person's linked vendor accounts (WHOOP, Garmin, Oura, ...) with their sync status:
    last attempt, last success, last error, and whether the person must re-authorise; plus
    the latest sync requests and their status."""
    caller = current_caller()
    with caller.session() as session:
        connections = providers.list_connections(session, caller.user_id)
        recent = sync.list_sync_requests(session, caller.user_id, 10)
        return ConnectionsStatus(
            connections=connections,
            recent_sync_requests=[SyncRequestPublic.model_validate(r) for r in recent],
        )


@tool_errors
def request_sync(
    kind: Annotated[
        Literal["sync", "backfill"],
        Field(description=("'sync' pulls recent days; 'backfill' pulls start_day..end_day.")),
    ] = "sync",
    provider: Annotated[
        str | None,
        Field(
            max_length=64,
            pattern=r"^[a-z][a-z0-9_]*$",
            description="One provider; default: all linked.",
        ),
    ] = None,
    start_day: Annotated[Day | None, Field(description="Backfill: first day.")] = None,
    end_day: Annotated[Day | None, Field(description="Backfill: last day.")] = None,
) -> SyncRequestPublic:
    """Ask the pipeline to pull fresh data from the person's linked vendors (or one of them).
    Returns the request with its status ('pending' until the pipeline picks it up); an
    identical pending request is returned instead of a duplicate. Data appears minutes later."""
    body = SyncRequestCreate(kind=kind, provider=provider, start_day=start_day, end_day=end_day)
    caller = current_caller()
    with caller.session() as session:
        row = sync.request_sync(session, caller.user(session), body, requested_by="mcp")
        return SyncRequestPublic.model_validate(row)


TOOLS = [ToolSpec(list_connections), ToolSpec(request_sync, read_only=False)]
