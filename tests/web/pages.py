"""Helpers of the web tests: a browser-like client that follows forms with their CSRF tokens,
the sandbox consent step, and daily summaries to draw."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.config import ApiSettings
from mirobody_assets.settings import get_settings

PASSWORD = "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """One browser: a cookie jar, pages fetched and forms posted with their CSRF token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.email = ""

    def get(self, path: str, **kw: Any) -> Any:
        """The response (httpx's, or httpx2's under TestClient: same interface)."""
        return self.client.get(path, **kw)

    def csrf(self, page: str) -> str:
        response = self.get(page)
        assert response.status_code == 200, response.text
        match = _CSRF.search(response.text)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def submit(self, page: str, action: str, data: dict[str, str], follow: bool = False) -> Any:
        """Open `page`, then post its form to `action` with the page's token."""
        token = self.csrf(page)
        return self.client.post(action, data={"csrf_token": token, **data}, follow_redirects=follow)

    def sign_up(self, prefix: str = "web") -> str:
        self.email = f"{prefix}-{secrets.token_hex(5)}@example.org"
        done = self.submit(
            "/app/signup",
            "/app/signup",
            {"email": self.email, "password": PASSWORD, "timezone": "UTC"},
        )
        assert done.status_code == 303, done.text
        return self.email

    def user_id(self, engine: Engine) -> str:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT id FROM users WHERE email = :e"), {"e": self.email}
                ).scalar_one()
            )


def web_api_settings(public_url: str = "http://testserver", **overrides: object) -> ApiSettings:
    base: dict[str, object] = {
        "rate_limit_user_per_minute": 0,
        "rate_limit_ip_per_minute": 0,
        "rate_limit_auth_ip_per_minute": 0,
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8192,
        "public_url": public_url,
    }
    return ApiSettings.from_settings(get_settings(), **(base | overrides))


def consent_at_sandbox(url: str, person: str = "ada") -> str:
    """Play the person at the sandbox vendor's consent page; the redirect back (path+query)."""
    account = f"{person}~{secrets.token_hex(4)}"
    response = httpx.get(httpx.URL(url).copy_add_param("sandbox_user", account))
    assert response.status_code == 302, response.text
    location = httpx.URL(response.headers["location"])
    return location.raw_path.decode()


def seed_daily(engine: Engine, user_id: str, last: date, days: int = 30) -> None:
    """Daily summaries of steps (WHOOP) and resting heart rate (Oura) for `days` days."""
    rows = []
    for d in range(days):
        day = last - timedelta(days=d)
        rows += [
            {
                "user": user_id,
                "indicator": "steps",
                "day": day,
                "value": 8000.0 + d,
                "unit": "{steps}",
                "source": "whoop",
                "n": 1,
                "sources": "whoop",
            },
            {
                "user": user_id,
                "indicator": "resting_heart_rate",
                "day": day,
                "value": 55.0 + d % 3,
                "unit": "/min",
                "source": "oura",
                "n": 1,
                "sources": "oura",
            },
        ]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO daily_summary (user_id, indicator, day, value, unit, source, n_values,"
                " sources) VALUES (:user, :indicator, :day, :value, :unit, :source, :n, :sources)"
            ),
            rows,
        )
