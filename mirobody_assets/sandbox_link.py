"""Link a Mirobody user to a sandbox vendor account through the real OAuth flow.

Used by the run command (demo users with data) and the pipeline tests: authorization URL,
the sandbox's consent page approving the named sandbox person, the callback's code exchanged
for tokens, and the connection stored with its tokens encrypted.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from mirobody_assets.connections import ConnectionRepository
from providers.base import Provider

SANDBOX_REDIRECT_URI = "http://127.0.0.1/sandbox-callback"


class SandboxLinkError(RuntimeError):
    """The sandbox refused to link (unknown person, vendor error)."""


async def link_sandbox_person(
    provider: Provider, repo: ConnectionRepository, user_id: str, person: str
) -> str:
    """Link `user_id` to the sandbox `person` at `provider`; returns the connection id."""
    request = await provider.authorization_request(SANDBOX_REDIRECT_URI)
    async with httpx.AsyncClient() as http:
        consent = await http.get(
            httpx.URL(request.url).copy_add_param("sandbox_user", person), timeout=30
        )
    location = consent.headers.get("location", "")
    if consent.status_code != 302 or not location.startswith(SANDBOX_REDIRECT_URI):
        raise SandboxLinkError(f"{provider.slug}: sandbox consent answered {consent.status_code}")
    params = dict(parse_qsl(urlsplit(location).query))
    result = await provider.complete_link(
        redirect_uri=SANDBOX_REDIRECT_URI,
        params=params,
        expected_state=request.state,
        code_verifier=request.code_verifier,
        request_token=request.request_token,
    )
    return repo.upsert(
        user_id, provider.slug, result.tokens, result.vendor_user_id, " ".join(provider.info.scopes)
    )
