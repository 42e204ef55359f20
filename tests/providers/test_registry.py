"""Discovery through the `mirobody.providers` entry points, and the disabled-provider factory."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from providers.errors import ProviderDisabledError, UnknownProviderError
from providers.registry import ProviderRegistry, discover
from providers.sandbox import SANDBOX_CREDENTIALS
from tests.support.wheels import build_plugin_wheel, pip_install_target

BUILT_INS = {"whoop", "garmin", "oura", "withings", "polar", "apple_health", "fitbit"}


def test_built_in_providers_register_through_entry_points():
    assert {ep.name for ep in discover()} >= BUILT_INS


def test_a_provider_without_credentials_is_disabled_with_its_reason():
    registry = ProviderRegistry.from_entry_points({"oura": SANDBOX_CREDENTIALS["oura"]})
    statuses = {s.slug: s for s in registry.statuses()}
    assert statuses["oura"].enabled and statuses["oura"].provider is not None
    assert not statuses["whoop"].enabled
    assert "client_id/client_secret not configured" in (statuses["whoop"].reason or "")
    with pytest.raises(ProviderDisabledError, match="not configured"):
        registry.get("whoop")
    with pytest.raises(UnknownProviderError):
        registry.get("acme-not-installed")
    # Apple Health imports uploaded files: it needs no client credentials
    assert [p.slug for p in registry.enabled()] == ["apple_health", "oura"]


def test_provider_info_describes_each_provider():
    registry = ProviderRegistry.from_entry_points(SANDBOX_CREDENTIALS)
    for provider in registry.enabled():
        info = provider.info
        assert info.slug in BUILT_INS and info.display_name and info.record_types
        assert set(info.record_types) == set(provider.mappings)


def test_secrets_do_not_show_in_reprs():
    registry = ProviderRegistry.from_entry_points(SANDBOX_CREDENTIALS)
    provider = registry.get("whoop")
    assert "secret" not in repr(provider.settings)


PLUGIN = """
from providers.base import Provider
from providers.oauth import OAuth2Config
from providers.types import AuthKind, ProviderInfo


class AcmeProvider(Provider):
    info = ProviderInfo(slug="acme", display_name="Acme Band", auth_kind=AuthKind.OAUTH2,
                        scopes=(), record_types=(), supports_webhooks=False)
    default_urls = {"authorize": "https://acme.test/a", "token": "https://acme.test/t"}
    mappings = {}

    def oauth_config(self):
        return OAuth2Config(self.url("authorize"), self.url("token"))

    async def revoke(self, connection):
        return None

    def fetch(self, client, record_type, window):
        raise NotImplementedError

    def identify(self, record_type, doc):
        raise NotImplementedError

    def verify_webhook(self, headers, body, now=None):
        return None

    def parse_webhook(self, headers, body):
        return []
"""


def build_wheel(folder: Path) -> Path:
    """A third-party provider wheel with one entry point in `mirobody.providers`."""
    return build_plugin_wheel(
        folder,
        "mirobody-acme-provider",
        "acme_provider",
        PLUGIN,
        {"mirobody.providers": {"acme": "acme_provider:AcmeProvider"}},
    )


PROBE = """
import json
from providers.registry import ProviderRegistry
registry = ProviderRegistry.from_entry_points({"acme": {"client_id": "a", "client_secret": "b"}})
print(json.dumps({s.slug: [s.enabled, s.entry_point] for s in registry.statuses()}))
"""


@pytest.mark.slow
def test_a_third_party_package_is_found_without_touching_project_code(tmp_path: Path):
    target = pip_install_target(build_wheel(tmp_path), tmp_path / "site")
    assert (target / "mirobody_acme_provider-0.1.0.dist-info" / "entry_points.txt").exists()
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
        cwd=tmp_path,
        timeout=60,
    )
    statuses = json.loads(out.stdout.strip().splitlines()[-1])
    assert statuses["acme"] == [True, "acme_provider:AcmeProvider"]
    assert set(statuses) >= BUILT_INS
