"""Provider connections as the pipeline sees them: decrypted tokens, rotation, sync status.

Implements the providers' `TokenStore`: a rotated token is encrypted and committed before the
provider uses it, so a crash right after a refresh never leaves a spent refresh token behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import Connection as DbConnection
from sqlalchemy import Engine, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from indicators.zones import ZoneHistory
from mirobody_assets.storage.crypto import (
    TokenCipher,
    TokenDecryptionError,
    open_tokens,
    seal_tokens,
)
from mirobody_assets.storage.models import ProviderConnection
from mirobody_assets.storage.timezones import load_zones
from providers.errors import ReconnectRequiredError
from providers.types import Connection, Tokens

log = logging.getLogger(__name__)

ACTIVE = "active"
NEEDS_REAUTH = "needs_reauth"


class ConnectionRepository:
    """Reads and updates provider_connections; the only place the pipeline opens tokens."""

    def __init__(self, engine: Engine, cipher: TokenCipher) -> None:
        self.engine = engine
        self.cipher = cipher

    def active(self, provider: str, users: Sequence[str] | None = None) -> list[Connection]:
        """Active connections of a provider (optionally only these users)."""
        query = select(ProviderConnection).where(
            ProviderConnection.provider == provider, ProviderConnection.status == ACTIVE
        )
        if users is not None:
            query = query.where(ProviderConnection.user_id.in_(list(users)))
        with Session(self.engine) as session:
            rows = session.scalars(query).all()
            zones = load_zones(session.connection(), {str(r.user_id) for r in rows})
        out: list[Connection] = []
        for row in rows:
            try:
                out.append(
                    replace(self._to_connection(row), zones=ZoneHistory.of(zones, str(row.user_id)))
                )
            except (TokenDecryptionError, ValueError) as exc:
                # Unreadable tokens (lost key, tampered row) cannot be used again: ask the
                # user to link anew instead of failing every other user's pull.
                log.error("connection %s (%s): %s", row.id, row.provider, exc)
                self.mark(
                    str(row.id), error="stored tokens unreadable; link again", needs_reauth=True
                )
        return out

    def _to_connection(self, row: ProviderConnection) -> Connection:
        user_id = str(row.user_id)
        if row.token_key_id is None or row.access_token_ct is None:
            raise ValueError(f"connection {row.id} has no stored tokens")
        expires = row.token_expires_at.timestamp() if row.token_expires_at else None
        tokens = open_tokens(
            self.cipher,
            user_id,
            row.provider,
            row.token_key_id,
            row.access_token_ct,
            row.refresh_token_ct,
            expires,
        )
        return Connection(
            id=str(row.id),
            user_id=user_id,
            provider=row.provider,
            tokens=tokens,
            vendor_user_id=row.vendor_user_id,
        )

    def upsert(
        self,
        user_id: str,
        provider: str,
        tokens: Tokens,
        vendor_user_id: str | None,
        scopes: str | None = None,
    ) -> str:
        """Store a freshly linked connection (re-linking replaces the tokens); returns its id."""
        sealed = seal_tokens(self.cipher, user_id, provider, tokens)
        expires = (
            datetime.fromtimestamp(tokens.expires_at, UTC)
            if tokens.expires_at is not None
            else None
        )
        values = dict(
            token_key_id=sealed.token_key_id,
            access_token_ct=sealed.access_token_ct,
            refresh_token_ct=sealed.refresh_token_ct,
            token_expires_at=expires,
            vendor_user_id=vendor_user_id,
            scopes=scopes,
            status=ACTIVE,
            last_error=None,
            updated_at=datetime.now(UTC),
        )
        stmt = (
            insert(ProviderConnection)
            .values(user_id=user_id, provider=provider, **values)
            .on_conflict_do_update(constraint="uq_provider_connections_user_id", set_=values)
            .returning(ProviderConnection.id)
        )
        with self.engine.begin() as conn:
            return str(conn.execute(stmt).scalar_one())

    def stored_tokens(self, connection_id: str, conn: DbConnection | None = None) -> Tokens | None:
        """The connection's tokens as stored now; None when it no longer exists. With `conn`,
        read inside that connection's transaction (the refresh lock's)."""
        with Session(conn or self.engine) as session:
            row = session.get(ProviderConnection, connection_id)
            return self._to_connection(row).tokens if row is not None else None

    def save_sync(
        self,
        connection_id: str,
        user_id: str,
        provider: str,
        tokens: Tokens,
        conn: DbConnection | None = None,
    ) -> None:
        """Store rotated tokens: committed here, or with `conn`'s transaction."""
        sealed = seal_tokens(self.cipher, user_id, provider, tokens)
        expires = (
            datetime.fromtimestamp(tokens.expires_at, UTC)
            if tokens.expires_at is not None
            else None
        )
        stmt = (
            update(ProviderConnection)
            .where(ProviderConnection.id == connection_id)
            .values(
                token_key_id=sealed.token_key_id,
                access_token_ct=sealed.access_token_ct,
                refresh_token_ct=sealed.refresh_token_ct,
                token_expires_at=expires,
                updated_at=datetime.now(UTC),
            )
        )
        if conn is not None:
            conn.execute(stmt)
            return
        with self.engine.begin() as tx:
            tx.execute(stmt)

    def token_store(self, connection: Connection) -> ConnectionTokenStore:
        return ConnectionTokenStore(self, connection.user_id, connection.provider)

    def mark(
        self, connection_id: str, *, error: str | None = None, needs_reauth: bool = False
    ) -> None:
        """Record a pull's outcome on the connection (the API shows it as sync status)."""
        now = datetime.now(UTC)
        values: dict[str, object] = {"last_sync_at": now, "updated_at": now}
        if needs_reauth:
            values |= {"status": NEEDS_REAUTH, "last_error": error}
        elif error is not None:
            values |= {"last_error": error}
        else:
            values |= {"last_success_at": now, "last_error": None}
        with self.engine.begin() as conn:
            conn.execute(
                update(ProviderConnection)
                .where(ProviderConnection.id == connection_id)
                .values(**values)
            )


class ConnectionTokenStore:
    """The TokenStore handed to a provider for one connection."""

    def __init__(self, repo: ConnectionRepository, user_id: str, provider: str) -> None:
        self.repo, self.user_id, self.provider = repo, user_id, provider

    async def save(self, connection_id: str, tokens: Tokens) -> None:
        await asyncio.to_thread(
            self.repo.save_sync, connection_id, self.user_id, self.provider, tokens
        )

    async def rotate(
        self, connection: Connection, refresh: Callable[[Tokens], Awaitable[Tokens]]
    ) -> Tokens:
        """Refresh under the connection's lock (every process and run shares it): tokens that
        another worker rotated meanwhile are used as they are, so a rotating vendor never sees
        one refresh token spent twice; an unlinked connection is not refreshed at all. The
        new tokens are saved in the lock's transaction, committed before they are returned."""
        async with refresh_lock(self.repo.engine, connection.id) as conn:
            stored = await asyncio.to_thread(self.repo.stored_tokens, connection.id, conn)
            if stored is None:
                raise ReconnectRequiredError(self.provider, "the connection was unlinked")
            if stored.access_token != connection.tokens.access_token:
                return stored
            tokens = await refresh(connection.tokens)
            await asyncio.to_thread(
                self.repo.save_sync, connection.id, self.user_id, self.provider, tokens, conn
            )
        return tokens


@contextlib.asynccontextmanager
async def refresh_lock(engine: Engine, connection_id: str) -> AsyncIterator[DbConnection]:
    """A transaction holding a PostgreSQL advisory lock on one connection's tokens across the
    vendor call; committed when the block ends normally, rolled back otherwise.

    Transaction-scoped, never a session lock: behind PgBouncer in transaction mode a session
    lock stays on whichever server connection took it, and its unlock may reach another one."""
    conn = await asyncio.to_thread(engine.connect)
    key = {"k": f"connection-tokens|{connection_id}"}
    try:
        await asyncio.to_thread(
            conn.execute, text("SELECT pg_advisory_xact_lock(hashtext(:k))"), key
        )
        yield conn
        await asyncio.to_thread(conn.commit)
    finally:
        await asyncio.to_thread(conn.close)
