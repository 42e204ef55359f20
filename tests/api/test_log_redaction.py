"""Secrets in URL paths (secret MCP URLs, webhook URLs) never reach a log line, whatever the
method, the status or whether a route matched: the API runs as shipped (uvicorn with its access
log on) and everything the process prints is searched."""

from __future__ import annotations

import base64
import io
import logging
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.logs import configure_logging, redact
from tests.support.live import free_port, register_account

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
ACCESS = '"logger": "uvicorn.access"'  # how our JSON lines name uvicorn's access logger
pytestmark = pytest.mark.slow


@dataclass
class Server:
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def server(
    database_url: str,
    redis_url: str,
    redis_prefix: str,
    project_root: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Server]:
    """`uvicorn api.app:create_app_from_env --factory`, as `mirobody up` starts it (access log
    on, INFO), on a free loopback port; stdout and stderr go to one file."""
    folder = tmp_path_factory.mktemp("redaction")
    port = free_port()
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = os.environ | {
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "REDIS_PREFIX": redis_prefix + "redaction:",
        "DATA_DIR": str(folder / "data"),
        "JWT_SIGNING_KEY": secrets.token_urlsafe(48),
        "TOKEN_ENCRYPTION_KEYS": f"k1:{key}",
        "LOG_LEVEL": "INFO",
        "API_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "API_ARGON2_TIME_COST": "1",
        "API_ARGON2_MEMORY_KIB": "8192",
        "API_RATE_LIMIT_USER_PER_MINUTE": "0",
        "API_RATE_LIMIT_IP_PER_MINUTE": "0",
        "API_RATE_LIMIT_AUTH_IP_PER_MINUTE": "0",
    }
    log = folder / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
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
                "--log-level",
                "info",
            ],
            cwd=project_root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(url, proc, log)
        yield Server(url, log)
    finally:
        proc.terminate()
        proc.wait(30)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise AssertionError("the API did not start: " + log.read_text(errors="replace")[-3000:])


def _variants(prefix: str, secret: str) -> list[str]:
    return [
        f"{prefix}{secret}",
        f"{prefix}{secret}/",
        f"{prefix}{secret}/x",
        f"{prefix}{secret}/mcp",
        f"{prefix}{secret}?a=b",
        f"{prefix}{secret}/x/y?a=b",
        f"{prefix}{secret.replace('_', '%5F', 1)}",
    ]


def _hammer(server: Server, paths: list[str]) -> tuple[set[int], str]:
    """Every method on every path (no redirect followed): the statuses seen, and the server's
    output once the access log has a line for each of these requests."""
    before = server.output().count(ACCESS)
    statuses = set()
    with httpx.Client(base_url=server.url, timeout=30, follow_redirects=False) as http:
        for path in paths:
            for method in METHODS:
                body = b"{}" if method in {"POST", "PUT", "PATCH"} else None
                statuses.add(
                    http.request(
                        method, path, content=body, headers={"Content-Type": "application/json"}
                    ).status_code
                )
    # uvicorn writes an access line after its response: give the last ones a moment.
    deadline = time.monotonic() + 10
    while True:
        text = server.output()
        if text.count(ACCESS) >= before + len(paths) * len(METHODS):
            return statuses, text
        assert time.monotonic() < deadline, "the access log did not log every request"
        time.sleep(0.1)


def test_secret_mcp_urls_never_reach_any_log_line(server: Server) -> None:
    account = register_account(server.url, "redaction")
    created = httpx.post(
        f"{server.url}/v1/mcp/urls", json={"name": "leak test"}, headers=account.headers, timeout=30
    )
    assert created.status_code == 201, created.text
    url = created.json()["url"]  # <base>/mcp/u/<secret>/mcp
    assert url.endswith("/mcp")
    real = url.split("/mcp/u/", 1)[1].split("/", 1)[0]
    made_up = "mcpk_" + secrets.token_urlsafe(32)
    bare = secrets.token_urlsafe(32)  # no prefix: still whatever follows /mcp/u/
    paths = [p for s in (real, made_up, bare) for p in _variants("/mcp/u/", s)]
    statuses, text = _hammer(server, paths)
    assert {401, 404, 405} <= statuses  # matched and unmatched routes were both exercised
    for secret in (real, made_up, bare):
        token = secret.removeprefix("mcpk_")
        assert token not in text, [line for line in text.splitlines() if token in line][:3]
    assert "/mcp/u/[REDACTED]" in text  # the access log did log these requests


def test_webhook_url_secrets_never_reach_any_log_line(server: Server) -> None:
    secret = "whk_" + secrets.token_urlsafe(32)
    bare = secrets.token_urlsafe(32)
    paths = [p for s in (secret, bare) for p in _variants("/v1/webhooks/withings/", s)]
    _, text = _hammer(server, paths)
    for token in (secret.removeprefix("whk_"), bare):
        assert token not in text, [line for line in text.splitlines() if token in line][:3]
    assert "/v1/webhooks/withings/[REDACTED]" in text


def test_tracebacks_and_plain_formatters_are_redacted_too() -> None:
    """A handler with a plain formatter (not our JSON one) prints a logged exception's
    traceback: the URL secret in the exception's message is redacted there as well."""
    configure_logging()
    secret = "mcpk_" + secrets.token_urlsafe(32)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("tests.redaction")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"GET http://h/mcp/u/{secret}/x failed")
        except RuntimeError:
            logger.exception("call to %s failed", f"/mcp/u/{secret}", stack_info=True)
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert secret.removeprefix("mcpk_") not in text
    assert "RuntimeError: GET http://h/mcp/u/[REDACTED] failed" in text


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('"PUT /mcp/u/mcpk_Ab-9_x/y?a=b HTTP/1.1" 405', '"PUT /mcp/u/[REDACTED]?a=b HTTP/1.1" 405'),
        ("GET /mcp/u/{secret} 200", "GET /mcp/u/{secret} 200"),
        ("POST /v1/webhooks/withings/whk_Q-1/x 404", "POST /v1/webhooks/withings/[REDACTED] 404"),
        ("POST /v1/webhooks/{provider}/{secret} 202", "POST /v1/webhooks/{provider}/{secret} 202"),
        ("POST /v1/webhooks/withings 202", "POST /v1/webhooks/withings 202"),
        ("secret url mcpk%5Fabc", "secret url mcpk_[REDACTED]"),
    ],
)
def test_redact_keeps_route_templates_and_removes_path_secrets(line: str, expected: str) -> None:
    assert redact(line) == expected
