"""OAuth strategies on authlib: OAuth 2.0 authorization code (with PKCE when the vendor takes
it) and OAuth 1.0a (legacy Garmin). They speak to the vendor's token endpoints only; data
calls go through `providers.http.VendorClient`."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth1Client, AsyncOAuth2Client
from authlib.oauth1 import ClientAuth

from providers.errors import OAuthFlowError, ReconnectRequiredError
from providers.types import AuthorizationRequest, ProviderSettings, Tokens

log = logging.getLogger(__name__)

# Refusals that mean "this grant is gone": ask the user to reconnect, never delete data.
_DEAD_GRANT_ERRORS = {"invalid_grant", "invalid_token", "unauthorized_client"}

TokenResponseHook = Callable[[httpx.Response], httpx.Response]


@dataclass(frozen=True)
class OAuth2Config:
    """A vendor's OAuth 2.0 dialect."""

    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    scope_separator: str = " "
    pkce: bool = False
    token_auth_method: str = "client_secret_post"  # noqa: S105 (a method name)
    extra_token_params: Mapping[str, str] = field(default_factory=dict)
    response_hook: TokenResponseHook | None = None  # unwrap vendor envelopes (Withings)
    min_state_length: int = 16


class OAuth2Strategy:
    """Authorization URL, code exchange and refresh for one OAuth 2.0 vendor."""

    def __init__(
        self, provider: str, settings: ProviderSettings, config: OAuth2Config, timeout: float = 30.0
    ) -> None:
        self.provider = provider
        self._settings = settings
        self.config = config
        self._timeout = timeout

    def _client(self, redirect_uri: str | None = None) -> AsyncOAuth2Client:
        client = AsyncOAuth2Client(
            client_id=self._settings.client_id,
            client_secret=self._settings.client_secret,
            token_endpoint_auth_method=self.config.token_auth_method,
            redirect_uri=redirect_uri,
            code_challenge_method="S256" if self.config.pkce else None,
            timeout=self._timeout,
        )
        if self.config.response_hook is not None:
            client.register_compliance_hook("access_token_response", self.config.response_hook)
            client.register_compliance_hook("refresh_token_response", self.config.response_hook)
        return client

    def authorization_request(
        self, redirect_uri: str, state: str | None = None
    ) -> AuthorizationRequest:
        """Build the URL the user is sent to; the caller keeps state and code_verifier."""
        state = state or secrets.token_urlsafe(24)
        if len(state) < self.config.min_state_length:
            raise OAuthFlowError(self.provider, "state is too short to resist guessing")
        verifier = secrets.token_urlsafe(64)[:96] if self.config.pkce else None
        client = self._client(redirect_uri)
        scope = self.config.scope_separator.join(self.config.scopes) or None
        url, _ = client.create_authorization_url(
            self.config.authorize_url, state=state, code_verifier=verifier, scope=scope
        )
        return AuthorizationRequest(url=url, state=state, code_verifier=verifier)

    async def exchange(
        self, code: str, redirect_uri: str, code_verifier: str | None = None
    ) -> Tokens:
        """Trade the callback's code for tokens."""
        if self.config.pkce and not code_verifier:
            raise OAuthFlowError(self.provider, "PKCE code_verifier missing for the exchange")
        params: dict[str, Any] = dict(self.config.extra_token_params)
        if code_verifier:
            params["code_verifier"] = code_verifier
        async with self._client(redirect_uri) as client:
            try:
                token = await client.fetch_token(
                    self.config.token_url, code=code, grant_type="authorization_code", **params
                )
            except OAuthError as exc:
                log.warning("%s: code exchange refused (%s)", self.provider, exc.error)
                raise OAuthFlowError(
                    self.provider, "authorization code refused", exc.error
                ) from None
            except httpx.HTTPError as exc:
                raise OAuthFlowError(
                    self.provider, f"token endpoint failed: {type(exc).__name__}"
                ) from None
        return Tokens.from_oauth2(token)

    async def refresh(self, tokens: Tokens) -> Tokens:
        """Use the refresh token once; the vendor rotates it, so the result must be saved."""
        if not tokens.refresh_token:
            raise ReconnectRequiredError(self.provider, "no refresh token: reconnect needed")
        async with self._client() as client:
            try:
                token = await client.refresh_token(
                    self.config.token_url,
                    refresh_token=tokens.refresh_token,
                    **dict(self.config.extra_token_params),
                )
            except OAuthError as exc:
                log.warning("%s: refresh refused (%s)", self.provider, exc.error)
                if exc.error in _DEAD_GRANT_ERRORS:
                    raise ReconnectRequiredError(
                        self.provider, "refresh token refused", exc.error
                    ) from None
                raise OAuthFlowError(self.provider, "refresh failed", exc.error) from None
            except httpx.HTTPError as exc:
                raise OAuthFlowError(
                    self.provider, f"token endpoint failed: {type(exc).__name__}"
                ) from None
        return Tokens.from_oauth2(dict(token), previous=tokens)


@dataclass(frozen=True)
class OAuth1Config:
    """A vendor's OAuth 1.0a endpoints (HMAC-SHA1)."""

    request_token_url: str
    authorize_url: str
    access_token_url: str


class OAuth1Strategy:
    """The three-legged OAuth 1.0a dance (legacy Garmin). Tokens never expire."""

    def __init__(
        self, provider: str, settings: ProviderSettings, config: OAuth1Config, timeout: float = 30.0
    ) -> None:
        self.provider = provider
        self._settings = settings
        self.config = config
        self._timeout = timeout

    async def authorization_request(
        self, redirect_uri: str, state: str | None = None
    ) -> AuthorizationRequest:
        """Fetch a request token and build the user's authorization URL."""
        state = state or secrets.token_urlsafe(24)
        callback = str(httpx.URL(redirect_uri).copy_merge_params({"state": state}))
        async with AsyncOAuth1Client(
            self._settings.client_id,
            self._settings.client_secret,
            redirect_uri=callback,
            timeout=self._timeout,
        ) as client:
            try:
                request_token = await client.fetch_request_token(self.config.request_token_url)
            except OAuthError as exc:
                raise OAuthFlowError(self.provider, "request token refused", exc.error) from None
            url = client.create_authorization_url(self.config.authorize_url)
        return AuthorizationRequest(url=url, state=state, request_token=dict(request_token))

    async def exchange(self, request_token: Mapping[str, str], verifier: str) -> Tokens:
        """Trade the authorized request token and verifier for the user access token."""
        async with AsyncOAuth1Client(
            self._settings.client_id,
            self._settings.client_secret,
            token=request_token["oauth_token"],
            token_secret=request_token["oauth_token_secret"],
            timeout=self._timeout,
        ) as client:
            try:
                token = await client.fetch_access_token(
                    self.config.access_token_url, verifier=verifier
                )
            except OAuthError as exc:
                raise OAuthFlowError(self.provider, "verifier refused", exc.error) from None
        return Tokens(
            access_token=token["oauth_token"],
            token_type="oauth1",  # noqa: S106
            extra={"token_secret": token["oauth_token_secret"]},
        )

    def auth(self, tokens: Tokens) -> httpx.Auth:
        """An httpx Auth that signs data requests with the user access token (HMAC-SHA1)."""
        return _OAuth1Signer(
            ClientAuth(
                self._settings.client_id,
                self._settings.client_secret,
                token=tokens.access_token,
                token_secret=str(tokens.extra.get("token_secret", "")),
            )
        )


class _OAuth1Signer(httpx.Auth):
    """authlib's RFC 5849 signing applied to plain httpx requests (authlib's own httpx
    integration targets httpx2's Auth class)."""

    requires_request_body = True

    def __init__(self, client_auth: ClientAuth) -> None:
        self._client_auth = client_auth

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        _, headers, _ = self._client_auth.prepare(
            request.method, str(request.url), dict(request.headers), request.content
        )
        request.headers["Authorization"] = headers["Authorization"]
        yield request
