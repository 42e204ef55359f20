"""REST routes for secret MCP URLs (for MCP clients that cannot send an Authorization header)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, status
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.mcp import links
from api.schemas.text import visible_text

router = APIRouter(prefix="/v1/mcp/urls", tags=["mcp"], responses=ERROR_RESPONSES)


class McpUrlCreate(BaseModel):
    name: str = Field(
        default="MCP client",
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f]+$",
        description="What the URL is for.",
    )

    _name = field_validator("name")(visible_text)


class McpUrlPublic(BaseModel):
    """A secret MCP URL without its secret (`hint` is its first characters)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    hint: str
    created_at: datetime
    last_used_at: datetime | None


class McpUrlCreated(McpUrlPublic):
    url: str = Field(description="The secret URL. Shown once: store it like a password.")


class McpUrlsPublic(BaseModel):
    data: list[McpUrlPublic]
    count: int


@router.post("", response_model=McpUrlCreated, status_code=status.HTTP_201_CREATED)
def create_mcp_url(
    body: McpUrlCreate, user: CurrentUser, session: SessionDep, state: StateDep
) -> McpUrlCreated:
    """Create a secret MCP URL that acts for the caller; the URL is returned only now."""
    row, secret = links.create_link(session, user.id, body.name)
    base = state.api.public_url or f"http://{state.settings.api_host}:{state.settings.api_port}"
    return McpUrlCreated(
        **McpUrlPublic.model_validate(row).model_dump(), url=links.secret_url(base, secret)
    )


@router.get("", response_model=McpUrlsPublic)
def list_mcp_urls(user: CurrentUser, session: SessionDep) -> McpUrlsPublic:
    """The caller's active secret MCP URLs (without their secrets)."""
    rows = links.list_links(session, user.id)
    return McpUrlsPublic(data=[McpUrlPublic.model_validate(r) for r in rows], count=len(rows))


@router.delete("/{url_id}", status_code=status.HTTP_204_NO_CONTENT)
def revoke_mcp_url(url_id: uuid.UUID, user: CurrentUser, session: SessionDep) -> None:
    """Revoke one of the caller's secret MCP URLs; it stops working at once."""
    links.revoke_link(session, user.id, url_id)
