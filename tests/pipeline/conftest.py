"""Fixtures: the sandbox vendor cloud, a Postgres-backed Dagster instance, linked users."""

from __future__ import annotations

import asyncio
import base64
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import Engine

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.sandbox_link import link_sandbox_person
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.embedded import dagster_url_beside, drop_database, ensure_database
from mirobody_assets.storage.models import User
from mirobody_assets.storage.timezones import load_zones, set_zone
from providers.sandbox import SandboxServer
from providers.sandbox.physiology import PERSONS
from tests.support.sandbox import SANDBOX_TODAY

TODAY = SANDBOX_TODAY
KEYS = "k1:" + base64.urlsafe_b64encode(b"pipeline-test-key-0123456789abcd").decode()


@pytest.fixture(scope="session")
def dagster_instance(
    database_url: str, project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dg.DagsterInstance]:
    """A Dagster instance whose runs and events live in PostgreSQL, as in production."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copyfile(project_root / "dagster.yaml", home / "dagster.yaml")
    url = dagster_url_beside(database_url)
    ensure_database(url)
    previous = os.environ.get("DAGSTER_PG_URL")
    os.environ["DAGSTER_PG_URL"] = url
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        yield instance
    finally:
        instance.dispose()
        if previous is None:
            os.environ.pop("DAGSTER_PG_URL", None)
        drop_database(url)


@pytest.fixture
def mirobody(database_url: str, sandbox: SandboxServer, tmp_path: Path) -> MirobodyResource:
    return MirobodyResource(
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        sandbox_url=sandbox.base_url,
        token_encryption_keys=KEYS,
    )


@pytest.fixture
def repo(engine: Engine) -> ConnectionRepository:
    return ConnectionRepository(engine, TokenCipher({"k1": base64.urlsafe_b64decode(KEYS[3:])}))


@pytest.fixture
def make_user(engine: Engine) -> Callable[[], str]:
    from sqlalchemy.orm import Session

    def _make() -> str:
        with Session(engine) as session, session.begin():
            user = User(email=f"{uuid.uuid4().hex}@example.org")
            session.add(user)
            session.flush()
            return str(user.id)

    return _make


@pytest.fixture
def link(
    mirobody: MirobodyResource, repo: ConnectionRepository, engine: Engine
) -> Callable[..., str]:
    def _link(user_id: str, provider: str, person: str, known_zone: bool = True) -> str:
        """Link the sandbox person's account. `known_zone`: the user's zone is the person's,
        as after a first sync (the pipeline learns it from the vendors' offsets): pulls of
        samples sent in UTC only are then grouped by the same local days on every run."""
        # Each user gets their own vendor account with the person's physiology: one vendor
        # account links to one Mirobody account.
        account = person if "~" in person else f"{person}~{user_id}"
        prov = mirobody.registry.get(provider)
        if known_zone:
            with engine.begin() as conn:
                if not load_zones(conn, [user_id]).height:
                    set_zone(conn, user_id, PERSONS[person.partition("~")[0]].iana_tz, None)
        return asyncio.run(link_sandbox_person(prov, repo, user_id, account))

    return _link
