"""Vendors: what can be linked, starting a link, and the vendor's redirect back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, status

from api.deps import CurrentUser, OptionalUserId, StateDep, limit_by_ip
from api.errors import ERROR_RESPONSES, ErrorBody
from api.schemas.providers import ConnectionPublic, LinkStart, ProvidersPublic
from api.services import providers

router = APIRouter(prefix="/v1/providers", tags=["providers"], responses=ERROR_RESPONSES)
_VENDOR_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad request"},
    502: {"model": ErrorBody, "description": "vendor error"}}


@router.get("", response_model=ProvidersPublic)
def list_providers(user: CurrentUser, state: StateDep) -> ProvidersPublic:
    """Every provider of this installation: enabled, or disabled and why; scopes."""
    data = providers.list_providers(state)
    return ProvidersPublic(data=data, count=len(data))


@router.post("/{provider}/link", response_model=LinkStart, responses=_VENDOR_ERRORS,
             status_code=status.HTTP_201_CREATED)
async def link_provider(provider: str, user: CurrentUser, state: StateDep) -> LinkStart:
    """Start linking a vendor account: returns the vendor's authorization URL."""
    return await providers.start_link(state, user.id, provider)


@router.get("/{provider}/callback", response_model=ConnectionPublic, responses=_VENDOR_ERRORS,
            dependencies=[Depends(limit_by_ip)])
async def provider_callback(provider: str, request: Request, state: StateDep,
                            caller: OptionalUserId) -> ConnectionPublic:
    """Where the vendor sends the user back: checks the state, stores the tokens encrypted."""
    params = {k: v for k, v in request.query_params.items() if len(v) <= 4096}
    return await providers.complete_link(state, provider, params, caller)
