"""Sign up, sign in, sign out, password change and time zone through the pages, with the
session cookie's flags, CSRF refusals and the Content-Security-Policy."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.web.pages import PASSWORD, Browser


def test_the_root_leads_to_the_app_and_its_files_are_served(browser: Browser) -> None:
    root = browser.get("/")
    assert root.status_code == 307 and root.headers["location"] == "/app"
    css = browser.get("/app/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert browser.get("/app/static/app.js").headers["content-type"].startswith("text/javascript")
    for hidden in (
        "/app/static/..%2F__init__.py",
        "/app/static/.hidden.css",
        "/app/static/nothing.css",
    ):
        assert browser.get(hidden).status_code == 404, hidden


def test_pages_redirect_to_sign_in_when_signed_out(browser: Browser) -> None:
    for path in (
        "/app",
        "/app/devices",
        "/app/data",
        "/app/ai",
        "/app/account",
        "/app/indicators/steps",
    ):
        response = browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/app/signin?next=" + path


def test_sign_up_signs_the_browser_in_with_a_strict_cookie(browser: Browser) -> None:
    page = browser.get("/app/signup")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert '<label for="email">Email</label>' in page.text

    token = browser.csrf("/app/signup")
    done = browser.client.post(
        "/app/signup",
        data={
            "csrf_token": token,
            "email": "Web-Signup@Example.org",
            "password": PASSWORD,
            "timezone": "Europe/Paris",
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/app/devices?welcome=1"
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith("mirobody_session=")
    )
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=lax" in flags and "path=/app" in flags
    assert "secure" not in flags  # plain http here; see the https test
    devices = browser.get(done.headers["location"])
    assert devices.status_code == 200
    assert "web-signup@example.org" in devices.text
    assert "Your account is ready" in devices.text


def test_sign_up_shows_each_error_next_to_its_field(browser: Browser, engine: Engine) -> None:
    weak = browser.submit(
        "/app/signup",
        "/app/signup",
        {"email": "weak@example.org", "password": "password12", "timezone": "UTC"},
    )
    assert weak.status_code == 422
    assert 'id="password-error"' in weak.text and "too easy to guess" in weak.text
    assert 'value="weak@example.org"' in weak.text  # what was typed is kept

    zone = browser.submit(
        "/app/signup",
        "/app/signup",
        {"email": "zone@example.org", "password": PASSWORD, "timezone": "Mars/Olympus"},
    )
    assert zone.status_code == 422
    assert 'id="timezone-error"' in zone.text

    email = browser.sign_up()
    other = Browser(browser.client.__class__(browser.client.app, follow_redirects=False))
    taken = other.submit(
        "/app/signup", "/app/signup", {"email": email, "password": PASSWORD, "timezone": "UTC"}
    )
    assert taken.status_code == 409
    assert 'id="email-error"' in taken.text
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM users WHERE email IN "
                    "('weak@example.org', 'zone@example.org')"
                )
            ).scalar()
            == 0
        )


def test_forms_without_the_csrf_token_are_refused(browser: Browser, engine: Engine) -> None:
    anonymous = browser.client.post(
        "/app/signin", data={"email": "x@example.org", "password": PASSWORD}
    )
    assert anonymous.status_code == 403
    assert "came from another site" in anonymous.text

    browser.sign_up()
    for action, data in (
        ("/app/signout", {}),
        ("/app/data/delete", {"confirm": "delete"}),
        ("/app/ai/mcp-urls", {"name": "x"}),
    ):
        forged = browser.client.post(action, data={"csrf_token": "forged", **data})
        assert forged.status_code == 403, action
    # Still signed in, nothing created.
    assert browser.get("/app/ai").status_code == 200
    with engine.connect() as conn:
        assert (
            conn.execute(
                text(
                    "SELECT count(*) FROM mcp_links l JOIN users u ON u.id = l.user_id "
                    "WHERE u.email = :e"
                ),
                {"e": browser.email},
            ).scalar()
            == 0
        )


def test_sign_in_and_sign_out(new_browser: Callable[[], Browser]) -> None:
    first = new_browser()
    email = first.sign_up()
    second = new_browser()
    wrong = second.submit("/app/signin", "/app/signin", {"email": email, "password": "nope"})
    assert wrong.status_code == 401
    assert "wrong email or password" in wrong.text
    signed = second.submit(
        "/app/signin?next=/app/data",
        "/app/signin",
        {"email": email, "password": PASSWORD, "next": "/app/data"},
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/app/data"
    stolen = second.client.cookies.get("mirobody_session")
    assert stolen

    out = second.submit("/app/data", "/app/signout", {})
    assert out.status_code == 303 and out.headers["location"] == "/app/signin"
    assert second.get("/app/data").status_code == 303
    # The old cookie value is dead on the server too, not only forgotten by the browser.
    replay = TestClient(
        second.client.app, follow_redirects=False, cookies={"mirobody_session": stolen}
    )
    assert replay.get("/app/data").status_code == 303
    assert first.get("/app/data").status_code == 200  # the other session is untouched


def test_sign_in_never_redirects_to_another_site(new_browser: Callable[[], Browser]) -> None:
    email = new_browser().sign_up()
    for target in ("https://evil.example/", "//evil.example/app", "/app/../v1/me", "/app\\evil"):
        done = new_browser().submit(
            "/app/signin", "/app/signin", {"email": email, "password": PASSWORD, "next": target}
        )
        assert done.status_code == 303
        location = done.headers["location"]
        assert (
            location.startswith("/app") and "//" not in location and ".." not in location
        ) or location == "/app", location


def test_session_cookie_is_secure_under_https(started_app: FastAPI) -> None:
    browser = Browser(
        TestClient(started_app, base_url="https://testserver", follow_redirects=False)
    )
    response = browser.submit(
        "/app/signup",
        "/app/signup",
        {
            "email": f"https-{secrets.token_hex(4)}@example.org",
            "password": PASSWORD,
            "timezone": "UTC",
        },
    )
    assert response.status_code == 303
    anonymous = next(c for c in response.request.headers.get_list("cookie"))
    assert "mirobody_csrf=" in anonymous  # the pre-session token cookie came back
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("mirobody_session=")
    )
    assert "secure" in cookie.lower()


def test_password_change_ends_other_sessions(new_browser: Callable[[], Browser]) -> None:
    here = new_browser()
    email = here.sign_up()
    elsewhere = new_browser()
    elsewhere.submit("/app/signin", "/app/signin", {"email": email, "password": PASSWORD})
    assert elsewhere.get("/app").status_code == 200

    wrong = here.submit(
        "/app/account",
        "/app/account/password",
        {
            "current_password": "not it at all",
            "new_password": "plum orbit velvet canyon",
            "confirm_password": "plum orbit velvet canyon",
        },
    )
    assert wrong.status_code == 422 and 'id="current_password-error"' in wrong.text
    differ = here.submit(
        "/app/account",
        "/app/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "plum orbit velvet canyon",
            "confirm_password": "plum orbit velvet canyo",
        },
    )
    assert differ.status_code == 422 and 'id="confirm_password-error"' in differ.text

    done = here.submit(
        "/app/account",
        "/app/account/password",
        {
            "current_password": PASSWORD,
            "new_password": "plum orbit velvet canyon",
            "confirm_password": "plum orbit velvet canyon",
        },
    )
    assert done.status_code == 303 and done.headers["location"] == "/app/account?done=password"
    assert here.get("/app/account?done=password").status_code == 200
    assert elsewhere.get("/app").status_code == 303
    old = new_browser().submit("/app/signin", "/app/signin", {"email": email, "password": PASSWORD})
    assert old.status_code == 401
    new = new_browser().submit(
        "/app/signin", "/app/signin", {"email": email, "password": "plum orbit velvet canyon"}
    )
    assert new.status_code == 303


def test_password_change_through_the_api_revokes_refresh_tokens(started_app: FastAPI) -> None:
    client = TestClient(started_app)
    email = f"api-pw-{secrets.token_hex(4)}@example.org"
    assert (
        client.post("/v1/auth/register", json={"email": email, "password": PASSWORD}).status_code
        == 201
    )
    tokens = client.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    refused = client.post(
        "/v1/auth/password",
        headers=headers,
        json={"current_password": "wrong password!", "new_password": "plum orbit velvet canyon"},
    )
    assert refused.status_code == 401
    changed = client.post(
        "/v1/auth/password",
        headers=headers,
        json={"current_password": PASSWORD, "new_password": "plum orbit velvet canyon"},
    )
    assert changed.status_code == 204
    again = client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert again.status_code == 401


def test_time_zone_is_saved_with_its_history(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    page = browser.get("/app/account")
    assert '<strong id="zone-now">UTC</strong>' in page.text
    bad = browser.submit("/app/account", "/app/account/timezone", {"timezone": "Nowhere/Land"})
    assert bad.status_code == 422 and 'id="timezone-error"' in bad.text
    day = browser.submit(
        "/app/account",
        "/app/account/timezone",
        {"timezone": "Asia/Kathmandu", "effective_from": "someday"},
    )
    assert day.status_code == 422 and 'id="effective_from-error"' in day.text
    done = browser.submit(
        "/app/account",
        "/app/account/timezone",
        {"timezone": "Asia/Kathmandu", "effective_from": ""},
    )
    assert done.status_code == 303
    assert done.headers["location"].startswith("/app/account?done=timezone")
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT timezone FROM users WHERE email = :e"), {"e": browser.email}
            ).scalar()
            == "Asia/Kathmandu"
        )
    after = browser.get(done.headers["location"]).text
    assert '<strong id="zone-now">Asia/Kathmandu</strong>' in after
    assert "<td>always</td><td>Asia/Kathmandu</td><td>you</td>" in after
    later = browser.submit(
        "/app/account",
        "/app/account/timezone",
        {"timezone": "Europe/Paris", "effective_from": "2025-01-15"},
    )
    assert later.status_code == 303
    history = browser.get("/app/account").text
    assert "<td>2025-01-15</td><td>Europe/Paris</td><td>you</td>" in history


def test_a_password_changed_through_the_api_ends_web_sessions(
    new_browser: Callable[[], Browser], started_app: FastAPI
) -> None:
    browser = new_browser()
    email = browser.sign_up()
    assert browser.get("/app").status_code == 200
    api = TestClient(started_app)
    token = api.post("/v1/auth/login", json={"email": email, "password": PASSWORD}).json()
    changed = api.post(
        "/v1/auth/password",
        headers={"Authorization": f"Bearer {token['access_token']}"},
        json={"current_password": PASSWORD, "new_password": "plum orbit velvet canyon"},
    )
    assert changed.status_code == 204
    assert browser.get("/app").status_code == 303
