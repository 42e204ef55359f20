"""X-Forwarded-For is believed only from proxies named in API_TRUSTED_PROXIES: the API started
exactly as `mirobody up` starts it, a real uvicorn process on a loopback port."""

from __future__ import annotations

import base64
import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from mirobody_assets.settings import get_settings
from mirobody_assets.supervisor import api_command
from tests.support.live import free_port

pytestmark = pytest.mark.slow


@contextmanager
def _api(database_url: str, redis_url: str, prefix: str, **extra: str) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("API_")} | {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": prefix,
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "API_RATE_LIMIT_IP_PER_MINUTE": "3",
        "LOG_LEVEL": "WARNING",
        **extra,
    }
    argv = api_command(get_settings(api_host="127.0.0.1", api_port=port))
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, (
                proc.stderr.read().decode()[-2000:] if proc.stderr else "the API exited"
            )
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _statuses(base: str, n: int) -> list[int]:
    """n anonymous requests, each claiming another client address."""
    return [
        httpx.get(
            base + "/v1/me", headers={"X-Forwarded-For": f"203.0.113.{i}"}, timeout=10
        ).status_code
        for i in range(n)
    ]


def test_forwarded_addresses_from_an_untrusted_peer_do_not_dodge_the_ip_limit(
    database_url: str, redis_url: str, redis_prefix: str
) -> None:
    with _api(database_url, redis_url, f"{redis_prefix}fwd-{secrets.token_hex(3)}:") as base:
        assert _statuses(base, 5) == [401, 401, 401, 429, 429]


def test_a_trusted_proxy_forwards_the_client_address(
    database_url: str, redis_url: str, redis_prefix: str
) -> None:
    with _api(
        database_url,
        redis_url,
        f"{redis_prefix}fwd-{secrets.token_hex(3)}:",
        API_TRUSTED_PROXIES="127.0.0.1/32",
    ) as base:
        assert _statuses(base, 5) == [401] * 5
