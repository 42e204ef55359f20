"""Token refresh under a per-connection lock: two workers never spend one refresh token, and an
unlinked connection is never refreshed (WHOOP in the sandbox rotates refresh tokens and refuses
a spent one, as the vendor does)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine, text

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.resources import MirobodyResource
from providers.errors import ReconnectRequiredError
from providers.sandbox import SandboxServer
from providers.types import Connection, Window

WINDOW = Window.for_days(date(2025, 2, 20), date(2025, 2, 20))  # the sandbox's today


def _connection(repo: ConnectionRepository, user: str) -> Connection:
    (connection,) = repo.active("whoop", [user])
    return connection


def test_two_workers_refreshing_one_connection_spend_its_refresh_token_once(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ada")
    whoop = mirobody.registry.get("whoop")
    connection = _connection(repo, user)
    oauth = sandbox.cloud["whoop"].oauth
    oauth.expire_access_tokens()
    before = oauth.refresh_count

    async def both() -> list[object]:
        return await asyncio.gather(
            *(
                whoop.pull(
                    connection, WINDOW, repo.token_store(connection), record_types=("sleep",)
                )
                for _ in range(2)
            ),
            return_exceptions=True,
        )

    outcomes = asyncio.run(both())
    assert [type(o).__name__ for o in outcomes] == ["DataFrame", "DataFrame"], outcomes
    assert oauth.refresh_count == before + 1
    stored = repo.stored_tokens(connection.id)
    assert stored is not None and stored.access_token != connection.tokens.access_token


def test_an_unlinked_connection_is_not_refreshed(
    mirobody: MirobodyResource,
    repo: ConnectionRepository,
    sandbox: SandboxServer,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ada")
    whoop = mirobody.registry.get("whoop")
    connection = _connection(repo, user)
    with engine.begin() as conn:  # the user unlinks while a pull holds the old tokens
        conn.execute(text("DELETE FROM provider_connections WHERE id = :i"), {"i": connection.id})
    oauth = sandbox.cloud["whoop"].oauth
    oauth.expire_access_tokens()
    before = oauth.refresh_count
    with pytest.raises(ReconnectRequiredError, match="unlinked"):
        asyncio.run(
            whoop.pull(connection, WINDOW, repo.token_store(connection), record_types=("sleep",))
        )
    assert oauth.refresh_count == before
