"""Two API processes behind a round-robin client, as behind a load balancer: the per-user rate
limit holds across both, a refresh token rotated on one is refused on the other, and an MCP
client's calls alternate replicas (stateless HTTP mode) and work."""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.live import PASSWORD, free_port, register_account
from tests.support.waiting import wait_until

pytestmark = pytest.mark.slow
USER_LIMIT = 12


def _up(url: str, proc: subprocess.Popen[bytes], log: Path) -> bool:
    assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture(scope="module")
def replicas(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    project_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[str]]:
    """Two `uvicorn api.app:create_app_from_env --factory` processes sharing Postgres, Redis and
    the signing keys, each on its own port."""
    folder = tmp_path_factory.mktemp("replicas")
    ports = [free_port(), free_port()]
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = os.environ | {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix + "replicas:",
        "DATA_DIR": str(folder / "data"),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": f"k1:{key}",
        "API_PUBLIC_URL": f"http://127.0.0.1:{ports[0]}",
        "API_MCP_STATELESS_HTTP": "true",
        "API_ARGON2_TIME_COST": "1",
        "API_ARGON2_MEMORY_KIB": "8192",
        "API_RATE_LIMIT_USER_PER_MINUTE": str(USER_LIMIT),
        "API_RATE_LIMIT_IP_PER_MINUTE": "0",
        "API_RATE_LIMIT_AUTH_IP_PER_MINUTE": "0",
    }
    procs, urls = [], []
    for n, port in enumerate(ports):
        log = folder / f"api{n}.log"
        with log.open("wb") as out:
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "uvicorn",
                        "api.app:create_app_from_env",
                        "--factory",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                        "--no-access-log",
                    ],
                    cwd=project_root,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            )
        urls.append(f"http://127.0.0.1:{port}")
    try:
        for n, (url, proc) in enumerate(zip(urls, procs, strict=True)):
            wait_until(
                lambda u=url, p=proc, n=n: _up(u, p, folder / f"api{n}.log"),
                f"API replica {n}",
                timeout_s=90,
            )
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(30)


class RoundRobin:
    """Sends each request to the next replica, as a load balancer would."""

    def __init__(self, urls: list[str]) -> None:
        self._next = itertools.cycle(urls)
        self.http = httpx.Client(timeout=30)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return self.http.request(method, next(self._next) + path, **kwargs)  # type: ignore[arg-type]


def test_the_per_user_limit_holds_across_replicas(replicas: list[str]) -> None:
    account = register_account(replicas[0], "replica-limit")
    lb = RoundRobin(replicas)
    statuses = [
        lb.request("GET", "/v1/me", headers=account.headers).status_code
        for _ in range(USER_LIMIT + 4)
    ]
    # each replica alone saw about half the requests: only a shared count reaches the limit
    assert statuses[: USER_LIMIT - 2].count(200) == USER_LIMIT - 2
    assert 429 in statuses[USER_LIMIT - 2 :], statuses


def test_a_refresh_token_rotated_on_one_replica_is_refused_on_the_other(
    replicas: list[str],
) -> None:
    account = register_account(replicas[0], "replica-refresh")
    login = {"email": account.email, "password": PASSWORD}
    refresh = httpx.post(f"{replicas[1]}/v1/auth/login", json=login, timeout=30).json()[
        "refresh_token"
    ]
    first = httpx.post(
        f"{replicas[0]}/v1/auth/refresh", json={"refresh_token": refresh}, timeout=30
    )
    assert first.status_code == 200, first.text
    again = httpx.post(
        f"{replicas[1]}/v1/auth/refresh", json={"refresh_token": refresh}, timeout=30
    )
    assert again.status_code == 401, again.text


def _rpc(
    lb: RoundRobin,
    headers: dict[str, str],
    method: str,
    params: dict | None = None,
    rid: int | None = 1,
) -> dict | None:
    body: dict = {"jsonrpc": "2.0", "method": method, "params": params or {}}
    if rid is not None:
        body["id"] = rid
    answer = lb.request(
        "POST",
        "/mcp",
        headers={
            **headers,
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        },
        json=body,
    )
    assert answer.status_code in (200, 202), answer.text
    if rid is None:
        return None
    text = answer.text
    if answer.headers.get("content-type", "").startswith("text/event-stream"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    return json.loads(text)


def test_an_mcp_client_alternating_replicas_works(replicas: list[str]) -> None:
    account = register_account(replicas[0], "replica-mcp")
    lb = RoundRobin(replicas)
    init = _rpc(
        lb,
        account.headers,
        "initialize",
        {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "replica-test", "version": "1"},
        },
    )
    assert init is not None and init["result"]["serverInfo"]["name"] == "mirobody"
    _rpc(lb, account.headers, "notifications/initialized", rid=None)
    for n in range(2, 6):  # each call lands on the other replica than the one before
        tools = _rpc(lb, account.headers, "tools/list", rid=n)
        assert tools is not None and "result" in tools, tools
        assert any(t["name"] == "list_connections" for t in tools["result"]["tools"])
    call = _rpc(
        lb, account.headers, "tools/call", {"name": "list_connections", "arguments": {}}, rid=9
    )
    assert call is not None and call["result"].get("isError") is not True, call
