"""The sandbox's OAuth 2.0 authorization server, shared by every vendor emulator.

It approves sandbox users at the authorize endpoint, checks PKCE when the vendor requires it,
rotates refresh tokens (a spent one gets `invalid_grant`) and can expire access tokens on
demand so that tests see a 401 in the middle of a pull."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from providers.sandbox.physiology import Person, sandbox_person


class OAuthRefusal(Exception):  # noqa: N818 (an answer, not a bug)
    """An RFC 6749 error answer: the emulator turns it into the vendor's error shape."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass
class _Code:
    person: Person
    redirect_uri: str | None
    challenge: str | None
    expires: float


@dataclass
class Budget:
    """At most `limit` data requests per `window_s`; beyond it the vendor answers 429."""

    limit: int
    window_s: float
    hits: list[float] = field(default_factory=list)

    def take(self, now: float | None = None) -> float | None:
        """Count one request; return seconds until a slot frees up if over budget."""
        now = now or time.monotonic()
        self.hits = [t for t in self.hits if now - t < self.window_s]
        if len(self.hits) >= self.limit:
            return max(0.0, self.window_s - (now - self.hits[0]))
        self.hits.append(now)
        return None

    def reset_in(self, now: float | None = None) -> float:
        """Seconds until the oldest counted request leaves the window."""
        if not self.hits:
            return 0.0
        return max(0.0, self.window_s - ((now or time.monotonic()) - self.hits[0]))

    def remaining(self) -> int:
        return max(0, self.limit - len(self.hits))


class SandboxOAuth:
    """Grants, tokens and refresh-token rotation for one vendor."""

    def __init__(
        self,
        vendor: str,
        client_id: str,
        client_secret: str,
        *,
        access_ttl_s: int = 3600,
        pkce_required: bool = False,
        issues_refresh: bool = True,
    ) -> None:
        self.vendor = vendor
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_ttl_s = access_ttl_s
        self.pkce_required = pkce_required
        self.issues_refresh = issues_refresh
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, tuple[Person, float]] = {}
        self._refresh: dict[str, tuple[Person, bool]] = {}
        self.refresh_count = 0

    def authorize(self, params: dict[str, str]) -> str:
        """Approve the sandbox user named by `sandbox_user` (default: ada); the redirect URL."""
        if params.get("client_id") != self.client_id:
            raise OAuthRefusal("invalid_client", "unknown client_id")
        if params.get("response_type", "code") != "code":
            raise OAuthRefusal("unsupported_response_type", "only code is supported")
        person = sandbox_person(params.get("sandbox_user", "ada"))
        if person is None:
            raise OAuthRefusal("access_denied", "no such sandbox user")
        challenge = params.get("code_challenge")
        if self.pkce_required and (not challenge or params.get("code_challenge_method") != "S256"):
            raise OAuthRefusal("invalid_request", "PKCE S256 code_challenge required")
        redirect = params.get("redirect_uri")
        if not redirect:
            raise OAuthRefusal("invalid_request", "redirect_uri required")
        code = secrets.token_urlsafe(18)
        self._codes[code] = _Code(person, redirect, challenge, time.time() + 300)
        query = {"code": code}
        if "state" in params:
            query["state"] = params["state"]
        return redirect + ("&" if "?" in redirect else "?") + urlencode(query)

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        if client_id != self.client_id or client_secret != self.client_secret:
            raise OAuthRefusal("invalid_client", "client authentication failed", 401)

    def _issue(self, person: Person) -> dict[str, object]:
        access = secrets.token_urlsafe(24)
        self._access[access] = (person, time.time() + self.access_ttl_s)
        out: dict[str, object] = {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.access_ttl_s,
        }
        if self.issues_refresh:
            refresh = secrets.token_urlsafe(24)
            self._refresh[refresh] = (person, False)
            out["refresh_token"] = refresh
        return out

    def exchange(self, form: dict[str, str]) -> tuple[Person, dict[str, object]]:
        """The authorization_code grant (client already authenticated)."""
        grant = self._codes.pop(form.get("code", ""), None)
        if grant is None or grant.expires < time.time():
            raise OAuthRefusal("invalid_grant", "code unknown, used or expired")
        if grant.redirect_uri and form.get("redirect_uri") not in (None, grant.redirect_uri):
            raise OAuthRefusal("invalid_grant", "redirect_uri mismatch")
        if grant.challenge:
            verifier = form.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() != grant.challenge:
                raise OAuthRefusal("invalid_grant", "PKCE verification failed")
        return grant.person, self._issue(grant.person)

    def token(self, form: dict[str, str]) -> tuple[Person, dict[str, object]]:
        """The token endpoint with body credentials: checks the client, then either grant."""
        self.check_client(form.get("client_id"), form.get("client_secret"))
        grant = form.get("grant_type")
        if grant == "refresh_token":
            return self.rotate(form)
        if grant == "authorization_code":
            return self.exchange(form)
        raise OAuthRefusal("unsupported_grant_type", "unsupported grant")

    def rotate(self, form: dict[str, str]) -> tuple[Person, dict[str, object]]:
        """The refresh_token grant: the old refresh token is spent from now on."""
        entry = self._refresh.get(form.get("refresh_token", ""))
        if entry is None or entry[1]:
            raise OAuthRefusal("invalid_grant", "refresh token spent or unknown")
        self._refresh[form["refresh_token"]] = (entry[0], True)
        self.refresh_count += 1
        return entry[0], self._issue(entry[0])

    def person_for(self, authorization: str | None) -> Person | None:
        """The user a Bearer header belongs to, or None (unknown or expired token)."""
        if not authorization or not authorization.lower().startswith("bearer "):
            return None
        entry = self._access.get(authorization[7:].strip())
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    def revoke_access(self, token: str) -> None:
        person = self._access.pop(token, (None, 0))[0]
        if person is not None:
            for key, (owner, _) in list(self._refresh.items()):
                if owner.key == person.key:
                    self._refresh[key] = (owner, True)

    def expire_access_tokens(self) -> None:
        """Test hook: every access token issued so far is now expired."""
        self._access = {k: (p, 0.0) for k, (p, _) in self._access.items()}
