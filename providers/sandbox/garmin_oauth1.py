"""Garmin's legacy OAuth 1.0a in the sandbox: request token, user confirmation, access token,
and HMAC-SHA1 signature checks on signed data calls (verified with authlib's RFC 5849 code)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlencode

from authlib.oauth1.rfc5849.signature import generate_signature_base_string, hmac_sha1_signature
from authlib.oauth1.rfc5849.wrapper import OAuth1Request
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import RedirectResponse

from providers.sandbox.physiology import Person, sandbox_person


def _signed(request: Request, body: str | None = None) -> OAuth1Request:
    # authlib reads the "Authorization" key; Starlette lower-cases header names
    headers = {"Authorization": request.headers.get("authorization", "")}
    return OAuth1Request(request.method, str(request.url), body, headers)


@dataclass
class OAuth1State:
    consumer_key: str
    consumer_secret: str
    request_tokens: dict[str, dict[str, object]] = field(default_factory=dict)
    access_tokens: dict[str, tuple[str, Person]] = field(default_factory=dict)

    async def verify(self, request: Request, token_secret: str = "") -> OAuth1Request:
        body = (await request.body()).decode()
        signed = _signed(request, body)
        if signed.client_id != self.consumer_key or not signed.signature:
            raise HTTPException(401, "unknown consumer or unsigned request")
        base = generate_signature_base_string(signed)
        expected = hmac_sha1_signature(base, self.consumer_secret, token_secret)
        if not secrets.compare_digest(expected, signed.signature):
            raise HTTPException(401, "invalid OAuth 1.0a signature")
        return signed

    async def person(self, request: Request) -> Person:
        """The user of an OAuth 1.0a-signed data call."""
        token = _signed(request).token
        entry = self.access_tokens.get(token or "")
        if entry is None:
            raise HTTPException(401, "unknown user access token")
        await self.verify(request, entry[0])
        return entry[1]


def mount(app: FastAPI, state: OAuth1State) -> None:
    """Add the three OAuth 1.0a legs to the Garmin emulator."""

    @app.post("/oauth-service/oauth/request_token")
    async def request_token(request: Request) -> Response:
        signed = await state.verify(request)
        token, secret = secrets.token_urlsafe(12), secrets.token_urlsafe(18)
        state.request_tokens[token] = {"secret": secret, "callback": signed.redirect_uri}
        return Response(
            urlencode(
                {
                    "oauth_token": token,
                    "oauth_token_secret": secret,
                    "oauth_callback_confirmed": "true",
                }
            ),
            media_type="application/x-www-form-urlencoded",
        )

    @app.get("/oauthConfirm")
    def confirm(oauth_token: str, sandbox_user: str = "ada") -> Response:
        entry = state.request_tokens.get(oauth_token)
        person = sandbox_person(sandbox_user)
        if entry is None or person is None:
            raise HTTPException(400, "unknown request token or sandbox user")
        entry["person"], entry["verifier"] = person, secrets.token_urlsafe(8)
        callback = str(entry["callback"])
        query = urlencode({"oauth_token": oauth_token, "oauth_verifier": entry["verifier"]})
        return RedirectResponse(callback + ("&" if "?" in callback else "?") + query, 302)

    @app.post("/oauth-service/oauth/access_token")
    async def access_token(request: Request) -> Response:
        token = _signed(request).token
        entry = state.request_tokens.pop(token or "", None)
        if entry is None or "person" not in entry:
            raise HTTPException(401, "request token unknown or not authorized")
        signed = await state.verify(request, str(entry["secret"]))
        if signed.oauth_params.get("oauth_verifier") != entry["verifier"]:
            raise HTTPException(401, "wrong verifier")
        uat, uat_secret = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
        person = entry["person"]
        assert isinstance(person, Person)
        state.access_tokens[uat] = (uat_secret, person)
        return Response(
            urlencode({"oauth_token": uat, "oauth_token_secret": uat_secret}),
            media_type="application/x-www-form-urlencoded",
        )
