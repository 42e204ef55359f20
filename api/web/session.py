"""The web app's cookie session and CSRF tokens.

A signed-in browser holds an opaque random session id in an HttpOnly, SameSite=Lax cookie
(Secure under https) scoped to /app. Redis keeps, under the id's SHA-256, the user, the
session's CSRF token and a fingerprint of the password hash: a password change anywhere (web
or API) ends every other web session. Redis down means no session (fail closed, 503).

A browser that is not signed in gets a random CSRF cookie instead (double submit): the sign-in
and sign-up forms carry its value, so another site cannot sign a visitor into its own account.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import uuid
from dataclasses import dataclass

import redis
from fastapi import Request, Response

from api.errors import UnavailableError
from api.state import AppState

log = logging.getLogger(__name__)

SESSION_COOKIE = "mirobody_session"
CSRF_COOKIE = "mirobody_csrf"
COOKIE_PATH = "/app"
CSRF_FIELD = "csrf_token"
# Idle lifetime: every request pushes the expiry this far out again.
SESSION_TTL_S = 7 * 24 * 3600


@dataclass(frozen=True)
class WebSession:
    id_hash: str
    user_id: uuid.UUID
    csrf: str
    password_fp: str


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def password_fingerprint(password_hash: str | None) -> str:
    return _hash(password_hash or "")[:32]


def _key(state: AppState, id_hash: str) -> str:
    return state.redis.key("web-session", id_hash)


def _down(exc: redis.RedisError) -> UnavailableError:
    log.warning("web session store unavailable (%s)", type(exc).__name__)
    return UnavailableError(
        "the session store is unavailable; retry shortly", headers={"Retry-After": "5"}
    )


def is_https(state: AppState, request: Request) -> bool:
    return request.url.scheme == "https" or (state.api.public_url or "").startswith("https://")


def _set_cookie(
    state: AppState,
    request: Request,
    response: Response,
    name: str,
    value: str,
    max_age: int | None,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=is_https(state, request),
    )


def start_session(
    state: AppState,
    request: Request,
    response: Response,
    user_id: uuid.UUID,
    password_hash: str | None,
) -> WebSession:
    """A fresh session for a user who just proved who they are (a new id: no fixation)."""
    _forget(state, request)
    token = secrets.token_urlsafe(32)
    session = WebSession(
        _hash(token), user_id, secrets.token_urlsafe(32), password_fingerprint(password_hash)
    )
    doc = {"user_id": str(user_id), "csrf": session.csrf, "pw": session.password_fp}
    try:
        state.redis.client.set(_key(state, session.id_hash), json.dumps(doc), ex=SESSION_TTL_S)
    except redis.RedisError as exc:
        raise _down(exc) from None
    _set_cookie(state, request, response, SESSION_COOKIE, token, SESSION_TTL_S)
    response.delete_cookie(CSRF_COOKIE, path=COOKIE_PATH)
    return session


def load_session(state: AppState, request: Request) -> WebSession | None:
    """The signed-in session of this browser, or None (no cookie, unknown or expired id)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token or len(token) > 100:
        return None
    id_hash = _hash(token)
    try:
        raw = state.redis.client.get(_key(state, id_hash))
        if raw is None:
            return None
        state.redis.client.expire(_key(state, id_hash), SESSION_TTL_S)
    except redis.RedisError as exc:
        raise _down(exc) from None
    doc = json.loads(raw)
    return WebSession(id_hash, uuid.UUID(doc["user_id"]), doc["csrf"], doc["pw"])


def drop_session(state: AppState, session: WebSession) -> None:
    try:
        state.redis.client.delete(_key(state, session.id_hash))
    except redis.RedisError as exc:
        raise _down(exc) from None


def _forget(state: AppState, request: Request) -> None:
    token = request.cookies.get(SESSION_COOKIE)
    if token and len(token) <= 100:
        try:
            state.redis.client.delete(_key(state, _hash(token)))
        except redis.RedisError as exc:
            raise _down(exc) from None


def end_session(state: AppState, request: Request, response: Response) -> None:
    """Sign this browser out: the server-side record goes, and the cookie with it."""
    _forget(state, request)
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def anonymous_csrf(state: AppState, request: Request, response: Response) -> str:
    """The CSRF token of a browser that is not signed in (set as a cookie when missing)."""
    token = request.cookies.get(CSRF_COOKIE)
    if not token or len(token) > 100:
        token = secrets.token_urlsafe(32)
        _set_cookie(state, request, response, CSRF_COOKIE, token, None)
    return token


def csrf_matches(expected: str | None, given: object) -> bool:
    return (
        isinstance(expected, str)
        and isinstance(given, str)
        and bool(expected)
        and hmac.compare_digest(expected.encode(), given.encode())
    )
