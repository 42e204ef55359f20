"""Discovery through the `mirobody.providers` entry points, and the disabled-provider factory."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from providers.errors import ProviderDisabledError, UnknownProviderError
from providers.registry import ProviderRegistry, discover
from providers.sandbox import SANDBOX_CREDENTIALS

BUILT_INS = {"whoop", "garmin", "oura", "withings", "polar"}


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
        registry.get("fitbit")
    assert [p.slug for p in registry.enabled()] == ["oura"]


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


PLUGIN = '''
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
'''

DIST = "mirobody_acme_provider-0.1.0"
WHEEL_FILES = {
    f"{DIST}.dist-info/METADATA": "Metadata-Version: 2.1\nName: mirobody-acme-provider\n"
                                  "Version: 0.1.0\n",
    f"{DIST}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
                               "Tag: py3-none-any\n",
    f"{DIST}.dist-info/entry_points.txt": "[mirobody.providers]\n"
                                          "acme = acme_provider:AcmeProvider\n",
}


def build_wheel(folder: Path) -> Path:
    """A third-party provider wheel, written by hand (no build backend needed offline)."""
    files = {"acme_provider.py": textwrap.dedent(PLUGIN), **WHEEL_FILES}
    record = [f"{name},sha256={_digest(text)},{len(text.encode())}"
              for name, text in files.items()]
    files[f"{DIST}.dist-info/RECORD"] = "\n".join([*record, f"{DIST}.dist-info/RECORD,,"]) + "\n"
    wheel = folder / f"{DIST}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return wheel


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

PROBE = '''
import json
from providers.registry import ProviderRegistry
registry = ProviderRegistry.from_entry_points({"acme": {"client_id": "a", "client_secret": "b"}})
print(json.dumps({s.slug: [s.enabled, s.entry_point] for s in registry.statuses()}))
'''


@pytest.mark.slow
def test_a_third_party_package_is_found_without_touching_project_code(tmp_path: Path):
    wheel = build_wheel(tmp_path)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(target), str(wheel)],
                   check=True, cwd=tmp_path, timeout=120)
    assert (target / f"{DIST}.dist-info" / "entry_points.txt").exists()
    out = subprocess.run([sys.executable, "-c", PROBE], check=True, capture_output=True,
                         text=True, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"},
                         cwd=tmp_path, timeout=60)
    statuses = json.loads(out.stdout.strip().splitlines()[-1])
    assert statuses["acme"] == [True, "acme_provider:AcmeProvider"]
    assert set(statuses) >= BUILT_INS
