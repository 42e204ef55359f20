"""The sandbox vendor cloud: local emulators of each vendor's OAuth and data API.

The emulators (FastAPI, uvicorn) load on first use of `SandboxCloud`, `SandboxServer` or
`build_app`; importing `providers.sandbox.credentials` alone loads neither."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from providers.sandbox.credentials import SANDBOX_CREDENTIALS, VENDORS

if TYPE_CHECKING:
    from providers.sandbox.app import SandboxCloud, SandboxServer, build_app

__all__ = ["SANDBOX_CREDENTIALS", "VENDORS", "SandboxCloud", "SandboxServer", "build_app"]

_LAZY = {"SandboxCloud", "SandboxServer", "build_app"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from providers.sandbox import app

        return getattr(app, name)
    raise AttributeError(f"module 'providers.sandbox' has no attribute {name!r}")
