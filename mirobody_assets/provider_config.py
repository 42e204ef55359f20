"""The provider registry of this installation, built from the settings."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from indicators.aggregate import SourcePriorities
from mirobody_assets.settings import Settings
from providers.priorities import installed_priorities
from providers.registry import ProviderRegistry
from providers.sandbox.credentials import SANDBOX_CREDENTIALS


def provider_settings(settings: Settings) -> dict[str, dict[str, Any]]:
    """Configured credentials; with SANDBOX_URL, every unconfigured built-in vendor points at
    the sandbox vendor cloud with its sandbox credentials."""
    merged: dict[str, dict[str, Any]] = {}
    if settings.sandbox_url:
        base = settings.sandbox_url.rstrip("/")
        merged = {
            v: {**creds, "base_url": f"{base}/{v}"} for v, creds in SANDBOX_CREDENTIALS.items()
        }
    merged.update(settings.provider_credentials)
    return merged


def build_registry(settings: Settings) -> ProviderRegistry:
    registry = ProviderRegistry.from_entry_points(provider_settings(settings))
    for provider in registry.enabled():
        provider.policy = replace(provider.policy, timeout_s=settings.vendor_timeout_s)
    return registry


def source_priorities(settings: Settings) -> SourcePriorities:
    """The daily merge's source priorities: what the installed providers declare, with the
    deployment's SOURCE_PRIORITIES overrides."""
    return installed_priorities(settings.source_priorities)
