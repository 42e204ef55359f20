"""The caller's linked vendor accounts."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, SessionDep, StateDep
from api.errors import ERROR_RESPONSES
from api.schemas.providers import ConnectionsPublic, UnlinkResult
from api.services import providers

router = APIRouter(prefix="/v1/connections", tags=["providers"], responses=ERROR_RESPONSES)


@router.get("", response_model=ConnectionsPublic)
def list_connections(user: CurrentUser, session: SessionDep) -> ConnectionsPublic:
    """The caller's connections with sync status: last success, last error, re-authorisation."""
    data = providers.list_connections(session, user.id)
    return ConnectionsPublic(data=data, count=len(data))


@router.delete("/{provider}", response_model=UnlinkResult)
async def unlink_provider(provider: str, user: CurrentUser, state: StateDep) -> UnlinkResult:
    """Unlink a vendor: revoke the grant at the vendor and delete the stored tokens."""
    return await providers.unlink(state, user.id, provider)
