"""Vendors: what can be linked, starting a link, and the vendor's redirect back."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response, status

from api.deps import CurrentUser, OptionalUserId, StateDep, limit_by_ip
from api.errors import ERROR_RESPONSES, ErrorBody
from api.schemas.providers import ConnectionPublic, LinkStart, ProvidersPublic
from api.services import providers
from api.web import routes_devices as web_devices

router = APIRouter(prefix="/v1/providers", tags=["providers"], responses=ERROR_RESPONSES)
_VENDOR_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad request"},
    502: {"model": ErrorBody, "description": "vendor error"},
}


@router.get("", response_model=ProvidersPublic)
def list_providers(user: CurrentUser, state: StateDep) -> ProvidersPublic:
    """Every provider of this installation: enabled, or disabled and why; scopes."""
    data = providers.list_providers(state)
    return ProvidersPublic(data=data, count=len(data))


@router.post(
    "/{provider}/link",
    response_model=LinkStart,
    responses=_VENDOR_ERRORS,
    status_code=status.HTTP_201_CREATED,
)
async def link_provider(
    provider: str, user: CurrentUser, state: StateDep, response: Response
) -> LinkStart:
    """Start linking a vendor account: returns the vendor's authorization URL, and sets an
    HttpOnly cookie that the callback must bring back (open the URL in this browser)."""
    start, nonce = await providers.start_link(state, user.id, provider)
    base = state.api.public_url or ""
    response.set_cookie(
        providers.link_cookie_name(provider),
        nonce,
        max_age=state.api.oauth_state_ttl_s,
        path=f"/v1/providers/{provider}/callback",
        httponly=True,
        samesite="lax",
        secure=base.startswith("https://"),
    )
    return start


@router.get(
    "/{provider}/callback",
    response_model=ConnectionPublic,
    responses=_VENDOR_ERRORS,
    dependencies=[Depends(limit_by_ip)],
)
async def provider_callback(
    provider: str, request: Request, response: Response, state: StateDep, caller: OptionalUserId
) -> ConnectionPublic | Response:
    """Where the vendor sends the user back: checks the state and that it is the browser (the
    link cookie) or the user (their token) that started the link; stores the tokens
    encrypted. 409 when the vendor account is linked to another Mirobody account. A link
    started from the web app (/app) lands on its result page instead."""
    if caller is None and web_devices.started_from_web(request):
        return await web_devices.finish_link(provider, request, state)
    params = {k: v for k, v in request.query_params.items() if len(v) <= 4096}
    nonce = request.cookies.get(providers.link_cookie_name(provider))
    done = await providers.complete_link(state, provider, params, caller, nonce)
    response.delete_cookie(
        providers.link_cookie_name(provider), path=f"/v1/providers/{provider}/callback"
    )
    return done
