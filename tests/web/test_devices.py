"""Devices: each provider's state, linking through the sandbox vendor's real consent flow with
the landing page after it, refusals and foreign browsers, re-authorisation and unlinking."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from api.app import create_app
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from tests.web.pages import Browser, consent_at_sandbox, web_api_settings


def start_link(browser: Browser, slug: str) -> str:
    """Press "Link" on the devices page; the vendor's consent URL the page sends the browser to."""
    page = browser.submit("/app/devices", f"/app/devices/{slug}/link", {})
    assert page.status_code == 200, page.text
    assert '<meta http-equiv="refresh" content="0;url=' in page.text
    match = re.search(r'id="consent-link" href="([^"]+)"', page.text)
    assert match
    return html.unescape(match.group(1))


def connections(engine: Engine, user_id: str) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                text("SELECT provider, status FROM provider_connections WHERE user_id = :u"),
                {"u": user_id},
            ).all()
        )


def test_linking_lands_on_a_page_with_the_first_sync(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    user_id = browser.user_id(engine)
    page = browser.get("/app/devices")
    assert "Link WHOOP" in page.text and "Not linked" in page.text

    url = start_link(browser, "whoop")
    callback = consent_at_sandbox(url)
    assert callback.startswith("/v1/providers/whoop/callback?")
    back = browser.get(callback)
    assert back.status_code == 303
    assert back.headers["location"] == "/app/devices/whoop/linked"
    assert connections(engine, user_id) == {"whoop": "active"}
    # The link cookies are spent.
    assert not any(
        c.name.startswith("mirobody_link") or c.name == "mirobody_web_link"
        for c in browser.client.cookies.jar
    )

    landing = browser.get("/app/devices/whoop/linked")
    assert landing.status_code == 200
    assert "WHOOP is linked" in landing.text
    assert "backfill" in landing.text and "pending" in landing.text
    assert '<meta http-equiv="refresh" content="3">' in landing.text  # until the sync is done

    devices = browser.get("/app/devices").text
    assert "Re-authorise" in devices and "Unlink" in devices


def test_a_vendor_refusal_or_a_stale_state_is_explained(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    url = start_link(browser, "oura")
    state = httpx.URL(url).params["state"]
    refused = browser.get(
        "/v1/providers/oura/callback", params={"state": state, "error": "access_denied"}
    )
    assert refused.status_code == 303
    assert refused.headers["location"] == "/app/devices/oura/linked?error=link_refused"
    page = browser.get(refused.headers["location"])
    assert "You did not allow access" in page.text and 'role="alert"' in page.text

    start_link(browser, "oura")
    stale = browser.get("/v1/providers/oura/callback", params={"state": state, "code": "x"})
    assert stale.headers["location"] == "/app/devices/oura/linked?error=invalid_state"
    assert "expired or was already used" in browser.get(stale.headers["location"]).text
    # A code in the query string cannot put words on the page.
    crafted = browser.get("/app/devices/oura/linked?error=Call+this+number")
    assert "Call this number" not in crafted.text
    assert connections(engine, browser.user_id(engine)) == {}


def test_a_consent_opened_in_another_browser_links_nothing(
    new_browser: Callable[[], Browser], engine: Engine
) -> None:
    owner, other = new_browser(), new_browser()
    owner.sign_up("owner")
    other.sign_up("other")
    callback = consent_at_sandbox(start_link(owner, "whoop"))
    stolen = other.get(callback)
    assert stolen.status_code == 403
    assert connections(engine, owner.user_id(engine)) == {}
    assert connections(engine, other.user_id(engine)) == {}


def test_reauthorise_and_unlink(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    user_id = browser.user_id(engine)
    browser.get(consent_at_sandbox(start_link(browser, "whoop")))
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE provider_connections SET status = 'needs_reauth', "
                "last_error = 'refresh token revoked' WHERE user_id = :u"
            ),
            {"u": user_id},
        )
    page = browser.get("/app/devices").text
    assert "Needs re-authorisation" in page and "refresh token revoked" in page

    again = browser.get(consent_at_sandbox(start_link(browser, "whoop"), "ada"))
    assert again.headers["location"] == "/app/devices/whoop/linked"
    assert connections(engine, user_id) == {"whoop": "active"}

    gone = browser.submit("/app/devices", "/app/devices/whoop/unlink", {})
    assert gone.status_code == 303
    assert gone.headers["location"] == "/app/devices?unlinked=whoop&revoked=1"
    assert connections(engine, user_id) == {}
    assert (
        "whoop is unlinked and its access was revoked" in browser.get(gone.headers["location"]).text
    )
    missing = browser.submit("/app/devices", "/app/devices/whoop/unlink", {})
    assert missing.status_code == 404 and "no whoop connection" in missing.text


def test_a_disabled_provider_shows_why_and_cannot_be_linked(
    settings: Settings, sandbox: SandboxServer
) -> None:
    vendors = {k: v for k, v in sandbox.settings().items() if k != "polar"}
    app = create_app(
        settings,
        api_settings=web_api_settings(),
        registry=ProviderRegistry.from_entry_points(vendors),
    )
    with TestClient(app, follow_redirects=False) as client:
        browser = Browser(client)
        browser.sign_up()
        page = browser.get("/app/devices").text
        card = page[page.index('id="provider-polar"') :]
        card = card[: card.index("</li>")]
        assert "Disabled on this installation:" in card
        assert "/app/devices/polar/link" not in card
        forced = browser.submit("/app/devices", "/app/devices/polar/link", {})
        assert forced.status_code == 409 and "provider is disabled" in forced.text


EXPORT_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_GB">\n'
    b'<Record type="HKQuantityTypeIdentifierStepCount" sourceName="Watch" unit="count" '
    b'startDate="2025-03-01 08:00:00 +0100" endDate="2025-03-01 08:10:00 +0100" '
    b'value="420"/>\n</HealthData>\n'
)


def test_an_apple_health_export_is_uploaded_from_the_devices_page(
    browser: Browser, engine: Engine
) -> None:
    browser.sign_up()
    page = browser.get("/app/devices").text
    card = page[page.index('id="provider-apple_health"') :]
    card = card[: card.index("</li>")]
    assert 'enctype="multipart/form-data"' in card and "Link Apple Health" not in card
    assert "No export uploaded yet" in card

    token = browser.csrf("/app/devices")
    forged = browser.client.post(
        "/app/devices/apple_health/upload",
        data={"csrf_token": "forged"},
        files={"export": ("export.xml", EXPORT_XML, "application/xml")},
    )
    assert forged.status_code == 403
    wrong = browser.client.post(
        "/app/devices/apple_health/upload",
        data={"csrf_token": token},
        files={"export": ("photo.jpg", b"\xff\xd8\xff\xe0 not an export", "image/jpeg")},
    )
    assert wrong.status_code == 303
    assert "import_error=not_an_export" in wrong.headers["location"]
    assert "not the Health app" in browser.get(wrong.headers["location"]).text

    done = browser.client.post(
        "/app/devices/apple_health/upload",
        data={"csrf_token": token},
        files={"export": ("export.xml", EXPORT_XML, "application/xml")},
    )
    assert done.status_code == 303 and "imported=" in done.headers["location"]
    after = browser.get(done.headers["location"]).text
    assert "Your Apple Health export is uploaded" in after and "Exports uploaded: 1" in after
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM apple_health_imports WHERE user_id = :u"),
                {"u": browser.user_id(engine)},
            ).scalar()
            == 1
        )
