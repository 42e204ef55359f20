"""The sandbox vendor cloud: local emulators of each vendor's OAuth and data API."""

from providers.sandbox.app import SandboxCloud, SandboxServer, build_app
from providers.sandbox.cloud import SANDBOX_CREDENTIALS, VENDORS

__all__ = ["SANDBOX_CREDENTIALS", "VENDORS", "SandboxCloud", "SandboxServer", "build_app"]
