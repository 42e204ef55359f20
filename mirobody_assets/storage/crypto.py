"""Vendor-token encryption at rest: AES-256-GCM under a key id, bound to (user, provider).

The first key of `Settings.encryption_keys()` encrypts; every listed key decrypts, so keys
rotate by prepending a new one (rows keep the key id they were written with). The associated
data binds a ciphertext to its user, provider and column: a blob copied to another user's row,
another provider or the other token column fails to decrypt. The pipeline and the API both use
`seal_tokens` / `open_tokens`; nothing else ever sees the plaintext.

Blob layout: version byte 0x01 | 12-byte nonce | ciphertext+tag.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from providers.types import Tokens

_VERSION = b"\x01"
_NONCE = 12


class TokenDecryptionError(Exception):
    """A token blob does not open: unknown key id, wrong binding, or tampered bytes."""


@dataclass(frozen=True)
class SealedTokens:
    """The column values of provider_connections that hold a connection's tokens."""

    token_key_id: str
    access_token_ct: bytes
    refresh_token_ct: bytes | None


class TokenCipher:
    """AES-GCM with a key ring; encrypts under the first key id."""

    def __init__(self, keys: Mapping[str, bytes]) -> None:
        if not keys:
            raise ValueError("no encryption key")
        for kid, key in keys.items():
            if len(key) != 32:
                raise ValueError(f"key {kid!r} must be 32 bytes")
        self._keys = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current_key_id = next(iter(keys))

    @staticmethod
    def associated_data(user_id: str, provider: str, column: str) -> bytes:
        return f"mirobody-token|{user_id}|{provider}|{column}".encode()

    def encrypt(self, plaintext: bytes, aad: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(_NONCE)
        blob = self._keys[self.current_key_id].encrypt(nonce, plaintext, aad)
        return self.current_key_id, _VERSION + nonce + blob

    def decrypt(self, key_id: str, blob: bytes, aad: bytes) -> bytes:
        aead = self._keys.get(key_id)
        if aead is None:
            raise TokenDecryptionError(f"unknown token key id {key_id!r}")
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise TokenDecryptionError("malformed token blob")
        try:
            return aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], aad)
        except InvalidTag:
            raise TokenDecryptionError("token blob does not open under its binding") from None


def seal_tokens(cipher: TokenCipher, user_id: str, provider: str, tokens: Tokens) -> SealedTokens:
    """Encrypt a connection's tokens for its row. The access blob also carries the metadata
    (type, scope, vendor extras such as an OAuth 1.0a token secret)."""
    access = json.dumps(
        {
            "access_token": tokens.access_token,
            "token_type": tokens.token_type,
            "scope": tokens.scope,
            "extra": dict(tokens.extra),
        }
    ).encode()
    kid, access_ct = cipher.encrypt(
        access, TokenCipher.associated_data(user_id, provider, "access")
    )
    refresh_ct = None
    if tokens.refresh_token:
        _, refresh_ct = cipher.encrypt(
            tokens.refresh_token.encode(), TokenCipher.associated_data(user_id, provider, "refresh")
        )
    return SealedTokens(kid, access_ct, refresh_ct)


def open_tokens(
    cipher: TokenCipher,
    user_id: str,
    provider: str,
    key_id: str,
    access_ct: bytes,
    refresh_ct: bytes | None,
    expires_at: float | None = None,
) -> Tokens:
    """Decrypt a row's tokens (the inverse of `seal_tokens`)."""
    access = json.loads(
        cipher.decrypt(key_id, access_ct, TokenCipher.associated_data(user_id, provider, "access"))
    )
    refresh = None
    if refresh_ct is not None:
        refresh = cipher.decrypt(
            key_id, refresh_ct, TokenCipher.associated_data(user_id, provider, "refresh")
        ).decode()
    return Tokens(
        access_token=access["access_token"],
        refresh_token=refresh,
        expires_at=expires_at,
        scope=access.get("scope"),
        token_type=access.get("token_type", "bearer"),
        extra=access.get("extra", {}),
    )
