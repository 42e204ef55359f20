"""Link attempts in Redis: random state, single use, bound to the user and to the browser that
started it (a cookie nonce), PKCE verifier beside it.

The value is encrypted with the token cipher (the verifier and any OAuth 1.0a request-token
secret are credentials) and expires with the attempt's TTL. GETDEL makes each state usable once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mirobody_assets.storage.crypto import TokenCipher, TokenDecryptionError
from mirobody_assets.storage.redis_client import PrefixedRedis


@dataclass(frozen=True)
class PendingLink:
    user_id: str
    provider: str
    redirect_uri: str
    code_verifier: str | None
    request_token: dict[str, str] | None
    # SHA-256 of the nonce in the HttpOnly cookie set on the browser that started the link.
    browser_hash: str | None = None


def _aad(state: str) -> bytes:
    return f"mirobody-oauth-state|{state}".encode()


def save_pending_link(
    redis: PrefixedRedis, cipher: TokenCipher, state: str, link: PendingLink, ttl_s: int
) -> None:
    plain = json.dumps(link.__dict__).encode()
    kid, blob = cipher.encrypt(plain, _aad(state))
    stored = kid + ":" + blob.hex()
    if not redis.client.set(redis.key("oauth_state", state), stored, ex=ttl_s, nx=True):
        raise RuntimeError("state collision")  # 192 random bits: does not happen


def take_pending_link(redis: PrefixedRedis, cipher: TokenCipher, state: str) -> PendingLink | None:
    """The link attempt of this state, removed so it cannot be used twice; None if unknown."""
    stored = redis.client.getdel(redis.key("oauth_state", state))
    if not stored:
        return None
    kid, _, hexblob = str(stored).partition(":")
    try:
        doc: dict[str, Any] = json.loads(cipher.decrypt(kid, bytes.fromhex(hexblob), _aad(state)))
    except (TokenDecryptionError, ValueError):
        return None
    return PendingLink(**doc)
