"""Vendor tokens at rest: AES-GCM under a key id, bound to (user, provider, column), rotatable."""

from __future__ import annotations

import os

import pytest

from mirobody_assets.storage.crypto import (
    TokenCipher,
    TokenDecryptionError,
    open_tokens,
    seal_tokens,
)
from providers.types import Tokens

TOKENS = Tokens(
    access_token="access-abc",
    refresh_token="refresh-xyz",
    scope="read",
    extra={"token_secret": "oauth1-secret"},
)


def test_sealed_tokens_open_to_the_same_values_and_hold_no_plaintext() -> None:
    cipher = TokenCipher({"k1": os.urandom(32)})
    sealed = seal_tokens(cipher, "user-1", "whoop", TOKENS)
    assert sealed.token_key_id == "k1"
    for secret in (b"access-abc", b"refresh-xyz", b"oauth1-secret"):
        assert secret not in sealed.access_token_ct
        assert secret not in (sealed.refresh_token_ct or b"")
    opened = open_tokens(
        cipher,
        "user-1",
        "whoop",
        "k1",
        sealed.access_token_ct,
        sealed.refresh_token_ct,
        expires_at=123.0,
    )
    assert (opened.access_token, opened.refresh_token, opened.scope) == (
        "access-abc",
        "refresh-xyz",
        "read",
    )
    assert opened.extra == {"token_secret": "oauth1-secret"} and opened.expires_at == 123.0


def test_a_blob_does_not_open_for_another_user_provider_or_column() -> None:
    cipher = TokenCipher({"k1": os.urandom(32)})
    sealed = seal_tokens(cipher, "user-1", "whoop", TOKENS)
    with pytest.raises(TokenDecryptionError):
        open_tokens(cipher, "user-2", "whoop", "k1", sealed.access_token_ct, None)
    with pytest.raises(TokenDecryptionError):
        open_tokens(cipher, "user-1", "oura", "k1", sealed.access_token_ct, None)
    with pytest.raises(TokenDecryptionError):  # refresh blob pasted into the access column
        open_tokens(cipher, "user-1", "whoop", "k1", sealed.refresh_token_ct or b"", None)
    tampered = bytearray(sealed.access_token_ct)
    tampered[-1] ^= 1
    with pytest.raises(TokenDecryptionError):
        open_tokens(cipher, "user-1", "whoop", "k1", bytes(tampered), None)


def test_keys_rotate_new_writes_use_the_first_key_and_old_rows_still_open() -> None:
    old_key, new_key = os.urandom(32), os.urandom(32)
    before = seal_tokens(TokenCipher({"k1": old_key}), "u", "whoop", TOKENS)
    rotated = TokenCipher({"k2": new_key, "k1": old_key})
    after = seal_tokens(rotated, "u", "whoop", TOKENS)
    assert after.token_key_id == "k2"
    for sealed in (before, after):
        assert (
            open_tokens(
                rotated,
                "u",
                "whoop",
                sealed.token_key_id,
                sealed.access_token_ct,
                sealed.refresh_token_ct,
            ).access_token
            == "access-abc"
        )
    with pytest.raises(TokenDecryptionError):
        open_tokens(TokenCipher({"k2": new_key}), "u", "whoop", "k1", before.access_token_ct, None)


def test_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        TokenCipher({"k1": b"short"})
