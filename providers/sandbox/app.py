"""The sandbox vendor cloud as one ASGI app (every vendor under its own prefix), and a helper
that serves it with uvicorn on a free loopback port in a background thread."""

from __future__ import annotations

import importlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response

from providers.sandbox.cloud import SANDBOX_CREDENTIALS, VENDORS, VendorState
from providers.sandbox.oauth_server import SandboxOAuth

# Access-token lifetimes and refresh behaviour as the vendor notes give them.
_OAUTH: dict[str, dict[str, Any]] = {
    "whoop": {"access_ttl_s": 3600},
    "garmin": {"access_ttl_s": 86400, "pkce_required": True},
    "oura": {"access_ttl_s": 86400},
    "withings": {"access_ttl_s": 10800},
    "polar": {"access_ttl_s": 315359999, "issues_refresh": False},
    "fitbit": {"access_ttl_s": 28800, "pkce_required": True},
}


@dataclass
class SandboxCloud:
    """Every emulated vendor's state; `today` bounds the data they hold."""

    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    vendors: dict[str, VendorState] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for vendor in VENDORS:
            creds = SANDBOX_CREDENTIALS[vendor]
            oauth = SandboxOAuth(
                vendor, creds["client_id"], creds["client_secret"], **_OAUTH[vendor]
            )
            module = importlib.import_module(f"providers.sandbox.{vendor}")
            self.vendors[vendor] = VendorState(
                vendor, oauth, self.today, rate_headers=getattr(module, "rate_headers", None)
            )

    def reset_test_hooks(self) -> None:
        """Every vendor's test hooks back to none (between tests sharing one cloud)."""
        for state in self.vendors.values():
            state.reset_test_hooks()

    def __getitem__(self, vendor: str) -> VendorState:
        return self.vendors[vendor]

    def settings(self, base_url: str) -> dict[str, dict[str, str]]:
        """Provider settings pointing every provider at this cloud served at `base_url`."""
        return {
            v: SANDBOX_CREDENTIALS[v] | {"base_url": f"{base_url.rstrip('/')}/{v}"} for v in VENDORS
        }


def build_app(cloud: SandboxCloud | None = None) -> FastAPI:
    """One ASGI app mounting each vendor emulator under /<vendor>."""
    cloud = cloud or SandboxCloud()
    app = FastAPI(title="Mirobody sandbox vendor cloud")
    for vendor in VENDORS:
        module = importlib.import_module(f"providers.sandbox.{vendor}")
        app.mount(f"/{vendor}", module.build(cloud[vendor]))
    app.state.cloud = cloud

    @app.middleware("http")
    async def garble(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Test hook: a truncated JSON body in place of a data answer (never on OAuth)."""
        vendor = request.url.path.strip("/").split("/", 1)[0]
        state = cloud.vendors.get(vendor)
        path = request.url.path.lower()
        if (
            state is not None
            and state.garble_next > 0
            and request.method == "GET"
            and not any(w in path for w in ("oauth", "token", "authoriz"))
        ):
            state.garble_next -= 1
            return Response(b'{"records": [{"id": ', media_type="application/json")
        return await call_next(request)

    @app.get("/")
    def index() -> dict[str, Any]:
        """The emulated vendors and their sandbox client ids."""
        return {"vendors": {v: SANDBOX_CREDENTIALS[v]["client_id"] for v in VENDORS}}

    return app


class SandboxServer:
    """Serves the sandbox cloud on 127.0.0.1:<free port> in a daemon thread."""

    def __init__(
        self, cloud: SandboxCloud | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self.cloud = cloud or SandboxCloud()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.host, self.port = self._sock.getsockname()[:2]
        config = uvicorn.Config(build_app(self.cloud), log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._sock]}, daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings(self) -> dict[str, dict[str, str]]:
        return self.cloud.settings(self.base_url)

    def start(self, timeout_s: float = 10.0) -> SandboxServer:
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("sandbox server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)
        self._sock.close()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """Serve the sandbox cloud in the foreground (the run command's helper)."""
    import argparse

    parser = argparse.ArgumentParser(description="Serve the sandbox vendor cloud")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument(
        "--log-level",
        default="warning",
        help="uvicorn log level (its access log prints OAuth codes at info)",
    )
    args = parser.parse_args()
    uvicorn.run(build_app(), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
