"""Authentication of /mcp requests: the API's Bearer access tokens, or a secret MCP URL.

Every HTTP request is authenticated on its own (a session id is not a credential), and the
SDK binds each MCP session to the user that opened it.
"""

from __future__ import annotations

import uuid

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from starlette.datastructures import Headers
from starlette.types import Scope

from api.errors import UnauthorizedError
from api.mcp.links import resolve_secret
from api.ratelimit import Limit
from api.services.accounts import verify_access_token
from api.state import AppState
from mirobody_assets.storage.models import User

ISSUER = "mirobody"


def authenticate(state: AppState, scope: Scope) -> uuid.UUID:
    """The user a request acts for; raises UnauthorizedError, TooManyRequestsError or
    UnavailableError (the revocation list in Redis cannot be read).

    Blocking (database, Redis): call it from a worker thread.
    """
    client = scope.get("client")
    ip = client[0] if client else "unknown"
    ip_limit = Limit("ip", ip, state.api.rate_limit_ip_per_minute)
    secret = (scope.get("path_params") or {}).get("secret")
    with state.sessions() as session:
        if isinstance(secret, str):
            user_id = resolve_secret(session, secret)
            if user_id is None:
                state.limiter.check(ip_limit)
                raise UnauthorizedError("unknown or revoked MCP URL", code="invalid_mcp_url")
        else:
            header = Headers(scope=scope).get("authorization", "")
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                state.limiter.check(ip_limit)
                raise UnauthorizedError("missing bearer token")
            user_id = verify_access_token(state, token.strip()).user_id
            if session.get(User, user_id) is None:
                raise UnauthorizedError("invalid access token", code="invalid_token")
    state.limiter.check(ip_limit, Limit("user", str(user_id), state.api.rate_limit_user_per_minute))
    return user_id


def principal(user_id: uuid.UUID) -> AuthenticatedUser:
    """What the SDK compares to bind a session to the user that opened it (not the token,
    so a refreshed access token keeps its session)."""
    return AuthenticatedUser(
        AccessToken(
            token="", client_id=ISSUER, scopes=[], subject=str(user_id), claims={"iss": ISSUER}
        )
    )
