"""/docs and /redoc work without internet: every script, style and icon they load is served by
the API itself; `GET /` leads somewhere useful. With a headless Chromium on the machine, /docs is
also rendered with every non-local request refused, and must show the API's operations.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from mirobody_assets.settings import Settings

_REFERENCES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url:\s*["']([^"']+)["']""")
_ABSOLUTE = re.compile(r"""(?:https?:)?//[a-z0-9.-]+""", re.IGNORECASE)
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _references(html: str) -> list[str]:
    return [a or b for a, b in _REFERENCES.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_pages_load_only_assets_the_api_serves(api_client: TestClient, page: str) -> None:
    reply = api_client.get(page)
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/html")
    refs = _references(reply.text)
    assert refs, "the page references no script or style"
    assert _ABSOLUTE.findall(reply.text) == [], "the page names another origin"
    for ref in refs:
        asset = api_client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 0, ref
    scripts = [r for r in refs if r.endswith(".js")]
    assert scripts and all(len(api_client.get(s).content) > 100_000 for s in scripts)


def test_the_swagger_oauth2_redirect_page_is_served(api_client: TestClient) -> None:
    reply = api_client.get("/docs/oauth2-redirect")
    assert reply.status_code == 200 and "oauth2" in reply.text.lower()


def test_the_api_root_leads_to_the_web_app(api_client: TestClient) -> None:
    reply = api_client.get("/", follow_redirects=False)
    assert reply.status_code == 307 and reply.headers["location"] == "/app"


def _browser() -> str | None:
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served_app(settings: Settings) -> Iterator[str]:
    """A fresh API app under uvicorn on a free port (a browser needs a real socket)."""
    app: FastAPI = create_app(settings)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.started, "uvicorn did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def test_docs_render_in_a_headless_browser_without_network(served_app: str, tmp_path: Path) -> None:
    browser = _browser()
    if browser is None:
        pytest.skip(
            "no headless Chromium on this machine (apt-get install chromium); the "
            "asset test above still checks that /docs needs no other origin"
        )
    assert httpx.get(f"{served_app}/docs").status_code == 200
    # Every request that is not to this machine goes to a proxy that does not exist: offline.
    offline = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--proxy-server=http://127.0.0.1:9",  # loopback bypasses it
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=15000",
    ]
    dom = subprocess.run(
        [browser, *offline, "--dump-dom", f"{served_app}/docs"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    shot = tmp_path / "docs.png"
    subprocess.run(
        [
            browser,
            *offline,
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            f"{served_app}/docs",
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    # Swagger UI built the page from /openapi.json: the title and the operations are there.
    assert 'class="swagger-ui' in dom and "Mirobody" in dom
    assert "opblock-tag" in dom and "/v1/series" in dom
    assert shot.stat().st_size > 20_000  # a page with content, not a blank one
