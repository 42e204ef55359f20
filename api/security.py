"""Passwords (argon2id, memory-hard; zxcvbn strength floor) and API tokens (HS256 JWT access,
opaque refresh)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from zxcvbn import zxcvbn

from api.errors import UnauthorizedError

ALGORITHM = "HS256"
ACCESS_TYPE = "access"
LEEWAY_S = 5  # clock skew accepted on `exp`: a token lives this much past its expiry
# zxcvbn 4.5 refuses longer input (its matching is quadratic); the score of a prefix is about
# a floor of the whole's, so a long password is judged by its first 72 characters.
_ZXCVBN_MAX_CHARS = 72
# Verified against when the email is unknown, so a login takes as long either way.
_DUMMY_PASSWORD = "not-a-real-password-" + secrets.token_hex(8)


class Passwords:
    """argon2id hashing with the configured cost."""

    def __init__(self, time_cost: int, memory_kib: int) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=1)
        self._dummy = self._hasher.hash(_DUMMY_PASSWORD)

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False


def weak_password_reason(password: str, known: Iterable[str], min_score: int) -> str | None:
    """Why `password` is too easy to guess (zxcvbn's warning and suggestions), or None when it
    scores at least `min_score` (0-4). `known` are words an attacker knows (the email, the
    name). The reason is zxcvbn's fixed feedback text: it never quotes the password."""
    words = [w for w in known if w]
    result = zxcvbn(password[:_ZXCVBN_MAX_CHARS], user_inputs=words)
    if int(result["score"]) >= min_score:
        return None
    feedback = result.get("feedback") or {}
    advice = [str(feedback.get("warning") or ""), *map(str, feedback.get("suggestions") or [])]
    said = " ".join(a.strip() for a in advice if a.strip())
    return f"password is too easy to guess: {said or 'use a longer passphrase.'}"


@dataclass(frozen=True)
class AccessClaims:
    user_id: uuid.UUID
    jti: str
    expires_at: datetime


class TokenIssuer:
    """Signs and verifies access JWTs: signature, expiry, issuer, audience and type."""

    def __init__(self, key: str, issuer: str, audience: str, ttl_s: int) -> None:
        if not key:
            raise ValueError("JWT signing key is empty")
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl_s = ttl_s

    def issue(self, user_id: uuid.UUID, now: datetime | None = None) -> str:
        now = now or datetime.now(UTC)
        claims = {
            "sub": str(user_id),
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_s)).timestamp()),
            "jti": uuid.uuid4().hex,
            "typ": ACCESS_TYPE,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> AccessClaims:
        """The claims of a valid token; raises UnauthorizedError (never quoting the token)."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY_S,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("access token expired", code="token_expired") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("invalid access token", code="invalid_token") from None
        if claims.get("typ") != ACCESS_TYPE:
            raise UnauthorizedError("invalid access token", code="invalid_token")
        try:
            user_id = uuid.UUID(str(claims["sub"]))
        except ValueError:
            raise UnauthorizedError("invalid access token", code="invalid_token") from None
        return AccessClaims(
            user_id, str(claims["jti"]), datetime.fromtimestamp(int(claims["exp"]), UTC)
        )


def new_refresh_token() -> tuple[str, str]:
    """A fresh opaque refresh token and the hash that is stored (the token itself never is)."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
