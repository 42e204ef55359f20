"""A real API on a free loopback port (uvicorn in a thread) and accounts made through it."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

PASSWORD = "correct horse battery staple"


@dataclass
class Account:
    """A registered, logged-in user of the API under test."""

    id: str
    email: str
    access_token: str

    @property
    def user_id(self) -> uuid.UUID:
        return uuid.UUID(self.id)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


def live_settings(database_url: str, redis_url: str, redis_prefix: str, data_dir: Any) -> Any:
    """Settings of one suite's live API: this run's database and Redis prefix, fresh secrets."""
    from mirobody_assets.settings import get_settings

    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return get_settings(
        environment="test",
        database_url=database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        data_dir=data_dir,
        jwt_signing_key=secrets.token_urlsafe(48),
        token_encryption_keys=f"k1:{key}",
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve the ASGI app (lifespan on) until the block ends; yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(15)


def register_account(base_url: str, prefix: str = "user") -> Account:
    """Register a new account through the REST API and log it in."""
    email = f"{prefix}-{secrets.token_hex(5)}@example.org"
    with httpx.Client(base_url=base_url, timeout=30) as http:
        created = http.post("/v1/auth/register", json={"email": email, "password": PASSWORD})
        assert created.status_code == 201, created.text
        tokens = http.post("/v1/auth/login", json={"email": email, "password": PASSWORD})
        assert tokens.status_code == 200, tokens.text
    return Account(created.json()["id"], email, tokens.json()["access_token"])
