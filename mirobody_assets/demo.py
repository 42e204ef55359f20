"""Sandbox users with data for `mirobody up`: accounts linked to every sandbox vendor.

Each sandbox person (ada, ben) gets a Mirobody account and is linked through the real OAuth
flow to every enabled provider; the pipeline's sensor then pulls their initial history. The
sandbox keeps its grants in memory, so every start links them again (the upsert replaces the
stored tokens). Their password is generated once and kept in <data_dir>/sandbox-users.json.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
from pathlib import Path

import httpx
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.provider_config import build_registry
from mirobody_assets.sandbox_link import SandboxLinkError, link_sandbox_person
from mirobody_assets.settings import Settings
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.engine import make_engine
from mirobody_assets.storage.models import User
from providers.errors import ProviderError
from providers.types import AuthKind

log = logging.getLogger(__name__)

PERSONS = {
    "ada": ("ada@sandbox.mirobody.dev", "Ada (sandbox)", "Europe/Berlin"),
    "ben": ("ben@sandbox.mirobody.dev", "Ben (sandbox)", "America/New_York"),
}
CREDENTIALS_FILE = "sandbox-users.json"
LINKABLE = {AuthKind.OAUTH2, AuthKind.OAUTH2_PKCE, AuthKind.OAUTH1}


def _password(data_dir: Path) -> str:
    path = data_dir / CREDENTIALS_FILE
    if path.exists():
        return str(json.loads(path.read_text())["password"])
    password = secrets.token_urlsafe(12)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"users": [p[0] for p in PERSONS.values()], "password": password}, fh)
    return password


def _ensure_user(session: Session, email: str, name: str, tz: str, password_hash: str) -> str:
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        user = User(email=email, display_name=name, timezone=tz, password_hash=password_hash)
        session.add(user)
        session.flush()
    return str(user.id)


def seed_sandbox_users(settings: Settings) -> dict[str, list[str]]:
    """Create the sandbox accounts and link them to every enabled provider.

    Returns {email: [linked providers]}. A provider that refuses is logged and skipped.
    """
    if not settings.database_url:
        raise ValueError("seeding needs DATABASE_URL")
    engine = make_engine(settings.database_url)
    try:
        password_hash = PasswordHasher().hash(_password(settings.data_dir))
        with Session(engine) as session, session.begin():
            users = {
                person: _ensure_user(session, email, name, tz, password_hash)
                for person, (email, name, tz) in PERSONS.items()
            }
        repo = ConnectionRepository(engine, TokenCipher(settings.encryption_keys()))
        registry = build_registry(settings)
        linked: dict[str, list[str]] = {PERSONS[p][0]: [] for p in PERSONS}
        # Vendors linked through OAuth; file imports (Apple Health) have nothing to link.
        for provider in [p for p in registry.enabled() if p.info.auth_kind in LINKABLE]:
            for person, user_id in users.items():
                try:
                    asyncio.run(link_sandbox_person(provider, repo, user_id, person))
                except (ProviderError, SandboxLinkError, httpx.HTTPError) as exc:
                    # One vendor refusing must not stop the demo for the others.
                    log.error("sandbox link %s/%s failed: %s", provider.slug, person, exc)
                    continue
                linked[PERSONS[person][0]].append(provider.slug)
        return linked
    finally:
        engine.dispose()


def seeded_user_ids(engine: Engine) -> dict[str, str]:
    """{email: user id} of the sandbox users that exist."""
    emails = [email for email, _, _ in PERSONS.values()]
    with Session(engine) as session:
        rows = session.execute(select(User.email, User.id).where(User.email.in_(emails))).all()
    return {email: str(uid) for email, uid in rows}
