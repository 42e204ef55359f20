"""Pages of devices: each provider's state, link (vendor consent, then a landing page with the
first sync's progress), re-authorise, unlink. The API's link service does the work; the
callback stays the API's registered redirect URI and hands a browser that started the link
here back to the landing page (see `finish_link`)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select

from api.deps import SessionDep, StateDep
from api.errors import ApiError
from api.services import apple_health, providers
from api.services.sync import list_sync_requests
from api.state import AppState
from api.web.deps import FormDep, VisitorDep
from api.web.render import WebRoute, redirect, render
from api.web.routes_imports import IMPORT_ERRORS
from mirobody_assets.storage.models import DailySummary
from mirobody_assets.storage.sync_requests import SyncStatus
from providers.types import AuthKind

router = APIRouter(prefix="/app/devices", route_class=WebRoute, include_in_schema=False)
# Set beside the API's link cookie, on the callback's path only: this browser started the link
# from the web app, so the callback answers with the landing page rather than JSON.
WEB_LINK_COOKIE = "mirobody_web_link"
# What the landing page says for each error code of the link flow (codes, never free text
# from the query string: a crafted URL must not put words in the app's mouth).
LINK_ERRORS = {
    "link_refused": "You did not allow access at the vendor (or the vendor refused the link).",
    "invalid_state": "This link attempt expired or was already used. Start again.",
    "link_browser_mismatch": "This link was started in another browser. Start it again here.",
    "state_mismatch": "This link was started by another account.",
    "vendor_account_linked": "That vendor account is already linked to another Mirobody "
    "account. Unlink it there first.",
    "vendor_error": "The vendor did not answer as expected. Try again in a moment.",
    "provider_disabled": "This provider is disabled on this installation.",
    "unknown_provider": "There is no such provider.",
}
ACTIVE = (SyncStatus.PENDING, SyncStatus.QUEUED)
FILE_IMPORT = AuthKind.FILE_IMPORT.value


def _callback_path(slug: str) -> str:
    return f"/v1/providers/{slug}/callback"


@router.get("")
def devices_page(
    request: Request,
    visitor: VisitorDep,
    state: StateDep,
    session: SessionDep,
    welcome: str = "",
    unlinked: str = "",
    revoked: str = "",
    imported: str = "",
    import_error: str = "",
) -> Response:
    """Every provider with its state for this person, and what can be done with it: link
    through the vendor's consent, or upload an export where there is no vendor API."""
    linked = {c.provider: c for c in providers.list_connections(session, visitor.user.id)}
    known = providers.list_providers(state)
    rows = [{"provider": p, "connection": linked.get(p.slug)} for p in known]
    uploads = any(p.auth_kind == FILE_IMPORT and p.enabled for p in known)
    return render(
        request,
        "devices.html",
        user=visitor.user,
        csrf=visitor.csrf,
        rows=rows,
        welcome=bool(welcome),
        unlinked=unlinked if unlinked in {p.slug for p in known} else "",
        revoked=revoked == "1",
        imports=apple_health.read_all(state.engine, visitor.user.id, 5) if uploads else [],
        imported=imported.isdigit(),
        import_error=IMPORT_ERRORS.get(import_error, "The upload failed.")
        if import_error
        else None,
    )


@router.post("/{slug}/link")
async def start_link(
    slug: str, request: Request, visitor: VisitorDep, form: FormDep, state: StateDep
) -> Response:
    """Ask the vendor for consent: the browser goes to its page, then comes back."""
    start, nonce = await providers.start_link(state, visitor.user.id, slug)
    page = render(
        request,
        "consent.html",
        user=visitor.user,
        csrf=visitor.csrf,
        provider=slug,
        url=start.authorization_url,
    )
    secure_cookie = (state.api.public_url or str(request.base_url)).startswith("https://")
    for name, value in ((providers.link_cookie_name(slug), nonce), (WEB_LINK_COOKIE, "1")):
        page.set_cookie(
            name,
            value,
            max_age=state.api.oauth_state_ttl_s,
            path=_callback_path(slug),
            httponly=True,
            samesite="lax",
            secure=secure_cookie,
        )
    return page


async def finish_link(slug: str, request: Request, state: AppState) -> Response:
    """The vendor's redirect for a link started here: complete it through the API's service
    (state, browser binding, one vendor account per person) and land on the result page."""
    params = {k: v for k, v in request.query_params.items() if len(v) <= 4096}
    nonce = request.cookies.get(providers.link_cookie_name(slug))
    target = f"/app/devices/{quote(slug, safe='')}/linked"
    try:
        await providers.complete_link(state, slug, params, None, nonce)
    except ApiError as exc:
        target += "?error=" + quote(exc.code, safe="")
    response = redirect(target)
    for name in (providers.link_cookie_name(slug), WEB_LINK_COOKIE):
        response.delete_cookie(name, path=_callback_path(slug))
    return response


def started_from_web(request: Request) -> bool:
    return request.cookies.get(WEB_LINK_COOKIE) == "1"


@router.get("/{slug}/linked")
def linked_page(
    slug: str,
    request: Request,
    visitor: VisitorDep,
    state: StateDep,
    session: SessionDep,
    error: str = "",
) -> Response:
    """What happened at the vendor, and the first sync's progress (refreshes until done)."""
    connection = next(
        (c for c in providers.list_connections(session, visitor.user.id) if c.provider == slug),
        None,
    )
    names = {p.slug: p.display_name or p.slug for p in providers.list_providers(state)}
    syncs = [s for s in list_sync_requests(session, visitor.user.id, 50) if s.provider == slug][:5]
    days = (
        session.scalar(
            select(func.count(func.distinct(DailySummary.day))).where(
                DailySummary.user_id == visitor.user.id
            )
        )
        or 0
    )
    message = LINK_ERRORS.get(error, "The link did not complete.") if error else None
    running = connection is not None and not error and any(s.status in ACTIVE for s in syncs)
    return render(
        request,
        "linked.html",
        user=visitor.user,
        csrf=visitor.csrf,
        slug=slug,
        name=names.get(slug, slug),
        connection=connection,
        error=message,
        syncs=syncs,
        days=days,
        running=running,
    )


@router.post("/{slug}/unlink")
async def unlink(slug: str, visitor: VisitorDep, form: FormDep, state: StateDep) -> Response:
    """Revoke the grant at the vendor and forget the stored tokens; the data stays."""
    result = await providers.unlink(state, visitor.user.id, slug)
    return redirect(
        f"/app/devices?unlinked={quote(slug, safe='')}"
        f"&revoked={1 if result.revoked_at_vendor else 0}"
    )
