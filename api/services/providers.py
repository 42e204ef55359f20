"""Provider listing, the caller's connections, and the link / callback / unlink flow."""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import anyio
import httpx
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api.errors import (
    ConflictError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    VendorError,
)
from api.schemas.providers import ConnectionPublic, LinkStart, ProviderPublic, UnlinkResult
from api.services.oauth_state import PendingLink, save_pending_link, take_pending_link
from api.state import AppState
from mirobody_assets.connections import ConnectionRepository, refresh_lock
from mirobody_assets.storage.crypto import TokenDecryptionError, open_tokens
from mirobody_assets.storage.models import ProviderConnection
from mirobody_assets.storage.sync_requests import SyncKind, record_sync_request
from providers.base import Provider
from providers.errors import (
    OAuthFlowError,
    ProviderDisabledError,
    ProviderError,
    UnknownProviderError,
)
from providers.registry import discover
from providers.types import AuthKind, Connection, LinkResult, ProviderInfo

log = logging.getLogger(__name__)


def list_providers(state: AppState) -> list[ProviderPublic]:
    out = []
    for status in state.registry.statuses():
        info = status.provider.info if status.provider else _declared_info(status.slug)
        out.append(
            ProviderPublic(
                slug=status.slug,
                enabled=status.enabled,
                reason=status.reason,
                display_name=info.display_name if info else None,
                auth_kind=info.auth_kind.value if info else None,
                scopes=list(info.scopes) if info else [],
                supports_webhooks=bool(info and info.supports_webhooks),
            )
        )
    return out


def _declared_info(slug: str) -> ProviderInfo | None:
    # A disabled provider has no instance; its class still declares what it is.
    for ep in discover():
        if ep.name == slug:
            try:
                info = getattr(ep.load(), "info", None)
                return info if isinstance(info, ProviderInfo) else None
            except (ImportError, AttributeError):
                return None
    return None


def connection_public(row: ProviderConnection) -> ConnectionPublic:
    return ConnectionPublic(
        provider=row.provider,
        status=row.status,
        vendor_user_id=row.vendor_user_id,
        scopes=row.scopes,
        created_at=row.created_at,
        last_sync_at=row.last_sync_at,
        last_success_at=row.last_success_at,
        last_error=row.last_error,
        needs_reauthorization=row.status == "needs_reauth",
    )


def list_connections(session: Session, user_id: uuid.UUID) -> list[ConnectionPublic]:
    rows = session.scalars(
        select(ProviderConnection)
        .where(ProviderConnection.user_id == user_id)
        .order_by(ProviderConnection.provider)
    )
    return [connection_public(r) for r in rows]


def enabled_provider(state: AppState, slug: str) -> Provider:
    try:
        return state.registry.get(slug)
    except UnknownProviderError:
        raise NotFoundError("no such provider", code="unknown_provider") from None
    except ProviderDisabledError as exc:
        raise ConflictError(f"provider is disabled: {exc}", code="provider_disabled") from None


def redirect_uri(state: AppState, slug: str) -> str:
    base = state.api.public_url or f"http://{state.settings.api_host}:{state.settings.api_port}"
    return f"{base.rstrip('/')}/v1/providers/{slug}/callback"


def link_cookie_name(slug: str) -> str:
    """The cookie that binds a link attempt to the browser that started it."""
    return f"mirobody_link_{slug}"


def _nonce_hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


async def start_link(state: AppState, user_id: uuid.UUID, slug: str) -> tuple[LinkStart, str]:
    """The vendor's authorization URL, and a nonce for the caller's browser: the callback must
    come back with it (as a cookie) or with the starting user's own token."""
    provider = enabled_provider(state, slug)
    if provider.info.auth_kind is AuthKind.FILE_IMPORT:  # nothing to link: an uploaded export
        raise InvalidRequestError(f"{slug} is not linked: upload its export", code="upload_instead")
    uri = redirect_uri(state, slug)
    try:
        request = await provider.authorization_request(uri, secrets.token_urlsafe(24))
    except (ProviderError, httpx.HTTPError) as exc:
        state.metrics.provider_pulls.labels(slug, "link_error").inc()
        raise VendorError(f"{slug}: could not start linking ({type(exc).__name__})") from None
    nonce = secrets.token_urlsafe(32)
    pending = PendingLink(
        str(user_id),
        slug,
        uri,
        request.code_verifier,
        dict(request.request_token) if request.request_token else None,
        _nonce_hash(nonce),
    )
    save_pending_link(
        state.redis, state.cipher, request.state, pending, state.api.oauth_state_ttl_s
    )
    return LinkStart(
        provider=slug, authorization_url=request.url, expires_in=state.api.oauth_state_ttl_s
    ), nonce


def _check_binding(
    pending: PendingLink, caller: uuid.UUID | None, browser_nonce: str | None
) -> None:
    """The callback must come from whoever started the link: their token, or the browser
    holding the link cookie. Otherwise a consent URL sent to someone else would link *their*
    vendor account into the sender's Mirobody account."""
    if caller is not None:
        if str(caller) != pending.user_id:
            raise ForbiddenError("this link was started by another user", code="state_mismatch")
        return
    if pending.browser_hash is None:
        return
    if browser_nonce is None or not hmac.compare_digest(
        _nonce_hash(browser_nonce), pending.browser_hash
    ):
        raise ForbiddenError(
            "this link was started in another browser: start it again here, signed in",
            code="link_browser_mismatch",
        )


async def complete_link(
    state: AppState,
    slug: str,
    params: Mapping[str, str],
    caller: uuid.UUID | None,
    browser_nonce: str | None = None,
) -> ConnectionPublic:
    """The vendor's redirect: check the state (once) and who brings it back, exchange the
    code, store the tokens."""
    given = params.get("state") or ""
    pending = take_pending_link(state.redis, state.cipher, given) if given else None
    if pending is None or pending.provider != slug:
        raise InvalidRequestError("unknown, used or expired link state", code="invalid_state")
    _check_binding(pending, caller, browser_nonce)
    provider = enabled_provider(state, slug)
    try:
        result = await provider.complete_link(
            redirect_uri=pending.redirect_uri,
            params=params,
            expected_state=given,
            code_verifier=pending.code_verifier,
            request_token=pending.request_token,
        )
    except OAuthFlowError as exc:
        if exc.error is None:  # no OAuth error code: the vendor failed, it did not refuse
            state.metrics.provider_pulls.labels(slug, "link_error").inc()
            log.warning("link failed at the vendor: %s", exc, extra={"provider": slug})
            raise VendorError(f"{slug}: vendor error during linking") from None
        state.metrics.provider_pulls.labels(slug, "link_refused").inc()
        log.warning("link refused by the vendor (%s)", exc.error, extra={"provider": slug})
        raise InvalidRequestError(
            f"{slug} refused the link ({exc.error or 'error'})", code="link_refused"
        ) from None
    except (httpx.HTTPError, ProviderError, KeyError, ValueError) as exc:
        # Unreachable vendor, or an answer not in its documented shape.
        state.metrics.provider_pulls.labels(slug, "link_error").inc()
        log.warning("link failed at the vendor (%s)", type(exc).__name__, extra={"provider": slug})
        raise VendorError(f"{slug}: vendor error ({type(exc).__name__})") from None
    state.metrics.provider_pulls.labels(slug, "linked").inc()
    return await anyio.to_thread.run_sync(_store_link, state, pending, provider, result)


def _store_link(
    state: AppState, pending: PendingLink, provider: Provider, result: LinkResult
) -> ConnectionPublic:
    if result.vendor_user_id is not None:
        with state.sessions() as session:
            owner = session.scalar(
                select(ProviderConnection.user_id).where(
                    ProviderConnection.provider == provider.slug,
                    ProviderConnection.vendor_user_id == result.vendor_user_id,
                )
            )
        if owner is not None and str(owner) != pending.user_id:
            state.metrics.provider_pulls.labels(provider.slug, "link_conflict").inc()
            log.warning(
                "link refused: vendor account linked to another user",
                extra={"user_id": pending.user_id, "provider": provider.slug},
            )
            raise ConflictError(
                f"this {provider.info.display_name} account is already linked "
                "to another Mirobody account; unlink it there first",
                code="vendor_account_linked",
            )
    repo = ConnectionRepository(state.engine, state.cipher)
    try:
        repo.upsert(
            pending.user_id,
            provider.slug,
            result.tokens,
            result.vendor_user_id,
            " ".join(provider.info.scopes),
        )
    except IntegrityError:  # the same account linked by someone else at this very moment
        raise ConflictError(
            f"this {provider.info.display_name} account is already linked "
            "to another Mirobody account",
            code="vendor_account_linked",
        ) from None
    today = datetime.now(UTC).date()
    with state.sessions() as session:
        record_sync_request(
            session,
            uuid.UUID(pending.user_id),
            provider.slug,
            SyncKind.BACKFILL,
            today - timedelta(days=state.settings.initial_history_days - 1),
            today,
            "link",
        )
        session.commit()
        row = session.scalars(
            select(ProviderConnection).where(
                ProviderConnection.user_id == uuid.UUID(pending.user_id),
                ProviderConnection.provider == provider.slug,
            )
        ).one()
        log.info("provider linked", extra={"user_id": pending.user_id, "provider": provider.slug})
        return connection_public(row)


async def revoke_at_vendor(state: AppState, row: ProviderConnection) -> str:
    """Tell the vendor to forget the grant; returns 'revoked' or why it could not be."""
    try:
        provider = state.registry.get(row.provider)
    except (UnknownProviderError, ProviderDisabledError):
        return "skipped: provider disabled"
    if row.token_key_id is None or row.access_token_ct is None:
        return "skipped: no stored tokens"
    try:
        tokens = open_tokens(
            state.cipher,
            str(row.user_id),
            row.provider,
            row.token_key_id,
            row.access_token_ct,
            row.refresh_token_ct,
            row.token_expires_at.timestamp() if row.token_expires_at else None,
        )
        connection = Connection(
            str(row.id), str(row.user_id), row.provider, tokens, row.vendor_user_id
        )
        if tokens.is_expired() and tokens.refresh_token:
            connection = connection.with_tokens(await provider.refresh(tokens))
            state.metrics.token_refreshes.labels(row.provider).inc()
        await provider.revoke(connection)
    except TokenDecryptionError:
        return "skipped: stored tokens unreadable"
    except (ProviderError, httpx.HTTPError, KeyError, ValueError) as exc:
        state.metrics.provider_pulls.labels(row.provider, "revoke_error").inc()
        log.warning(
            "vendor revocation failed (%s)",
            type(exc).__name__,
            extra={"provider": row.provider, "user_id": str(row.user_id)},
        )
        return f"failed: {type(exc).__name__}"
    state.metrics.provider_pulls.labels(row.provider, "revoked").inc()
    return "revoked"


async def unlink(state: AppState, user_id: uuid.UUID, slug: str) -> UnlinkResult:
    """Revoke at the vendor (best effort, reported) and delete the connection and its tokens."""

    def load() -> ProviderConnection | None:
        with state.sessions() as session:
            return session.scalars(
                select(ProviderConnection).where(
                    ProviderConnection.user_id == user_id, ProviderConnection.provider == slug
                )
            ).first()

    row = await anyio.to_thread.run_sync(load)
    if row is None:
        raise NotFoundError(f"no {slug} connection", code="no_connection")

    def remove() -> None:
        with state.sessions() as session:
            session.execute(delete(ProviderConnection).where(ProviderConnection.id == row.id))
            session.commit()

    # Under the tokens' lock: a pull refreshing them right now finishes first, and any pull
    # after finds the connection gone instead of refreshing a revoked grant.
    async with refresh_lock(state.engine, str(row.id)):
        outcome = await revoke_at_vendor(state, row)
        await anyio.to_thread.run_sync(remove)
    log.info("provider unlinked", extra={"user_id": str(user_id), "provider": slug})
    return UnlinkResult(provider=slug, revoked_at_vendor=outcome == "revoked", detail=outcome)


async def revoke_all(state: AppState, user_id: uuid.UUID) -> dict[str, str]:
    """Revoke every connection of a user at its vendor (account deletion)."""

    def load() -> list[ProviderConnection]:
        with state.sessions() as session:
            return list(
                session.scalars(
                    select(ProviderConnection).where(ProviderConnection.user_id == user_id)
                )
            )

    return {
        row.provider: await revoke_at_vendor(state, row)
        for row in await anyio.to_thread.run_sync(load)
    }
