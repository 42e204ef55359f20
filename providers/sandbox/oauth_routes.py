"""The OAuth 2.0 routes the emulators share: the authorize redirect and the token endpoint
with the client's credentials in the form body. A vendor names its paths and what it adds to
a token answer; vendors whose token endpoint differs (Polar: HTTP Basic and no refresh grant;
Withings: an `action` form inside its own envelope) keep their own and share the authorize
route only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse

from providers.sandbox.cloud import VendorState, oauth_error
from providers.sandbox.oauth_server import OAuthRefusal
from providers.sandbox.physiology import Person

# What a vendor adds to a token answer, given the person and the token request's form.
TokenExtras = Callable[[Person, dict[str, str]], dict[str, object]]


def add_authorize_route(
    app: FastAPI, state: VendorState, path: str, *, min_state_chars: int = 0
) -> None:
    """GET `path`: approve the sandbox user (`sandbox_user`, default ada) and redirect to the
    client's `redirect_uri` with a code, or answer the vendor's OAuth error."""

    @app.get(path)
    def authorize(request: Request) -> Response:
        """The authorization endpoint: a 302 to the client with `code` and `state`."""
        params = dict(request.query_params)
        try:
            if len(params.get("state", "")) < min_state_chars:
                raise OAuthRefusal("invalid_state", f"state must be >= {min_state_chars} chars")
            return RedirectResponse(state.oauth.authorize(params), status_code=302)
        except OAuthRefusal as refusal:
            return oauth_error(refusal)


def add_token_route(
    app: FastAPI, state: VendorState, path: str, extras: TokenExtras | None = None
) -> None:
    """POST `path`: the authorization_code and refresh_token grants, client credentials in the
    form body; the answer is the token set plus the vendor's `extras`."""

    @app.post(path)
    async def token(request: Request) -> Response:
        """The token endpoint (form-encoded)."""
        form = {k: str(v) for k, v in (await request.form()).items()}
        try:
            person, body = state.oauth.token(form)
        except OAuthRefusal as refusal:
            return oauth_error(refusal)
        return JSONResponse(body | (extras(person, form) if extras else {}))
