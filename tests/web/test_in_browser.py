"""The web app in a real Chromium (Debian's chromium + chromium-driver, driven by selenium).

Skipped, with the reason, when selenium, chromium or chromedriver is missing (`apt-get install
chromium chromium-driver`). Chromium resolves no host name but the loopback ones: a page that
tried to load anything from elsewhere (a CDN) would fail, and every resource the page loaded is
checked to come from the app's origin. Each test saves screenshots under the run's folder.
"""

from __future__ import annotations

import csv
import os
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from fastapi import FastAPI

from api.app import create_app
from mirobody_assets.settings import Settings
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from tests.support.live import free_port, serving
from tests.support.sandbox import SANDBOX_TODAY
from tests.web.pages import PASSWORD, web_api_settings

pytestmark = pytest.mark.slow
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _missing() -> str | None:
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    if CHROMIUM is None or DRIVER is None:
        return (
            "no Chromium found: install Debian's chromium and chromium-driver "
            "(apt-get install -y chromium chromium-driver)"
        )
    return None


@pytest.fixture(scope="module")
def live(settings: Settings, registry: ProviderRegistry) -> Iterator[str]:
    """The API on a loopback port, its public URL that address (vendors redirect back to it)."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app: FastAPI = create_app(
        settings, api_settings=web_api_settings(public_url=base), registry=registry
    )
    with serving(app, port):
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "web-screenshots"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def chrome(
    live: str, shots: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Callable[[], Any]]:
    """Start Chromium browsers (each a fresh profile); screenshots are saved at the end."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    started: list[Any] = []

    def start() -> Any:
        options = webdriver.ChromeOptions()
        options.binary_location = str(CHROMIUM)
        for arg in (
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--window-size=1280,1600",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            # Network off: no name resolves but the loopback addresses.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        ):
            options.add_argument(arg)
        options.add_experimental_option(
            "prefs",
            {
                "download.default_directory": str(tmp_path / f"downloads{len(started)}"),
                "download.prompt_for_download": False,
            },
        )
        driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
        driver.set_page_load_timeout(120)  # a loaded 2-core CI machine
        started.append(driver)
        return driver

    yield start
    for i, driver in enumerate(started):
        try:
            driver.save_screenshot(str(shots / f"{request.node.name}-{i}-final.png"))
        finally:
            driver.quit()


def shot(driver: Any, shots: Path, name: str) -> None:
    driver.save_screenshot(str(shots / f"{name}.png"))


def only_same_origin(driver: Any, base: str) -> None:
    """Every resource the page loaded came from the app itself (no CDN, nothing outside)."""
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    outside = [n for n in names if not n.startswith(base)]
    assert not outside, outside


def wait_for(condition: Callable[[], Any], what: str, timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def sign_up(driver: Any, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/app/signup")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    zone = driver.find_element(By.ID, "timezone")
    assert zone.get_attribute("value")  # filled from the browser by the script
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/signup'] button").click()
    wait_for(lambda: "/app/devices" in driver.current_url, "the devices page")
    assert "Your account is ready" in driver.page_source


def link(driver: Any, base: str, slug: str, name: str) -> None:
    """Press Link: the consent page of the sandbox vendor approves and sends the browser back."""
    from selenium.webdriver.common.by import By

    driver.get(base + "/app/devices")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/devices/{slug}/link'] button").click()
    wait_for(
        lambda: driver.current_url.startswith(f"{base}/app/devices/{slug}/linked"),
        f"the landing page of {slug}",
    )
    assert f"{name} is linked" in driver.page_source


def run_first_sync(settings: Settings, sandbox: SandboxServer, user_id: str) -> None:
    """What the pipeline does after the link (its sensor is not running in tests): the user's
    days, every asset, in process."""
    import dagster as dg

    from mirobody_assets.pipeline.assets import ALL_ASSETS
    from mirobody_assets.pipeline.partitions import range_tags
    from mirobody_assets.pipeline.resources import MirobodyResource

    keys = settings.token_encryption_keys
    resource = MirobodyResource(
        database_url=settings.database_url,
        data_dir=str(settings.data_dir),
        sandbox_url=sandbox.base_url,
        token_encryption_keys=keys.get_secret_value() if keys else None,
    )
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("users", [user_id])
        first, last = SANDBOX_TODAY - timedelta(days=5), SANDBOX_TODAY - timedelta(days=1)
        dg.materialize(
            ALL_ASSETS,
            instance=instance,
            resources={"mirobody": resource},
            tags=range_tags(first, last, user_id, user_id),
        )


def user_id_of(settings: Settings, email: str) -> str:
    from sqlalchemy import text

    from mirobody_assets.storage.engine import make_engine

    engine = make_engine(str(settings.database_url))
    try:
        with engine.connect() as conn:
            return str(
                conn.execute(
                    text("SELECT id FROM users WHERE email = :e"), {"e": email}
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_a_person_links_devices_sees_data_exports_connects_an_agent_and_deletes(
    chrome: Callable[[], Any],
    live: str,
    shots: Path,
    settings: Settings,
    sandbox: SandboxServer,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    driver = chrome()
    email = f"browser-{os.getpid()}-{int(time.time())}@example.org"
    sign_up(driver, live, email)
    only_same_origin(driver, live)
    shot(driver, shots, "01-signed-up")

    link(driver, live, "oura", "Oura")
    shot(driver, shots, "02-oura-linked")
    link(driver, live, "whoop", "WHOOP")
    shot(driver, shots, "03-whoop-linked")

    run_first_sync(settings, sandbox, user_id_of(settings, email))
    driver.get(live + "/app")
    cards = driver.find_elements(By.CSS_SELECTOR, "li.card")
    assert len(cards) >= 3, driver.page_source[:2000]
    sources = driver.find_element(By.TAG_NAME, "main").text
    assert "oura" in sources and "whoop" in sources
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    only_same_origin(driver, live)
    shot(driver, shots, "04-dashboard")

    driver.find_element(By.CSS_SELECTOR, "li.card h2 a").click()
    wait_for(lambda: "/app/indicators/" in driver.current_url, "an indicator page")
    assert driver.find_elements(By.CSS_SELECTOR, "svg.chart")
    shot(driver, shots, "05-indicator")

    driver.get(live + "/app/data")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/data/export'] button").click()
    folder = tmp_path / "downloads0"
    exported = wait_for(
        lambda: [p for p in folder.glob("*.csv")] if folder.exists() else [], "the CSV download"
    )
    with exported[0].open() as f:
        assert len(list(csv.DictReader(f))) > 0
    shot(driver, shots, "06-my-data")

    driver.get(live + "/app/ai")
    driver.find_element(By.ID, "name").send_keys("agent in a test")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/ai/mcp-urls'] button").click()
    url = wait_for(lambda: driver.find_elements(By.ID, "mcp-url"), "the new URL")[0].text
    assert url.startswith(live + "/mcp/u/mcpk_")
    shot(driver, shots, "07-mcp-url")

    async def tools() -> list[str]:
        async with mcp.Client(url) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert "get_user_health_profile" in anyio.run(tools)

    driver.get(live + "/app/data")
    driver.find_element(By.ID, "confirm").send_keys("delete")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/data/delete'] button").click()
    wait_for(lambda: "deleted=1" in driver.current_url, "the deletion")
    assert "Your health data is deleted" in driver.page_source
    driver.get(live + "/app")
    assert "No data yet" in driver.page_source
    shot(driver, shots, "08-deleted")


def test_one_person_never_sees_anothers_pages(
    chrome: Callable[[], Any], live: str, shots: Path
) -> None:
    from selenium.webdriver.common.by import By

    first, second = chrome(), chrome()
    a = f"first-{os.getpid()}-{int(time.time())}@example.org"
    b = f"second-{os.getpid()}-{int(time.time())}@example.org"
    sign_up(first, live, a)
    sign_up(second, live, b)
    first.get(live + "/app/ai")
    first.find_element(By.ID, "name").send_keys("first's agent")
    first.find_element(By.CSS_SELECTOR, "form[action='/app/ai/mcp-urls'] button").click()
    wait_for(lambda: first.find_elements(By.ID, "mcp-url"), "the new URL")

    second.get(live + "/app/ai")
    assert "first's agent" not in second.page_source
    assert a not in second.page_source and b in second.page_source
    # The session cookie is out of reach of scripts (HttpOnly).
    assert second.execute_script("return document.cookie") == ""
    shot(second, shots, "isolation-second")
    second.set_window_size(390, 844)  # a phone: no page is wider than the screen
    for page in ("/app/ai", "/app/data", "/app/account", "/app", "/app/devices"):
        second.get(live + page)
        assert second.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth"
        ), page
    shot(second, shots, "phone-devices")
    second.find_element(By.CSS_SELECTOR, "form.signout button").click()
    wait_for(lambda: "/app/signin" in second.current_url, "the sign-in page")
    second.get(live + "/app/ai")
    assert "/app/signin" in second.current_url


def test_signing_in_with_the_keyboard_only(
    chrome: Callable[[], Any], live: str, shots: Path
) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    driver = chrome()
    email = f"keys-{os.getpid()}-{int(time.time())}@example.org"
    sign_up(driver, live, email)
    driver.delete_all_cookies()
    driver.get(live + "/app/signin")
    keys = ActionChains(driver)
    keys.send_keys(Keys.TAB).perform()  # the first stop skips to the content
    assert driver.execute_script("return document.activeElement.textContent") == ("Skip to content")
    keys = ActionChains(driver)
    keys.send_keys(Keys.TAB, Keys.TAB).perform()  # the brand link, then the email field
    assert driver.execute_script("return document.activeElement.id") == "email"
    keys = ActionChains(driver)
    keys.send_keys(email, Keys.TAB, PASSWORD, Keys.ENTER).perform()
    wait_for(lambda: driver.current_url.rstrip("/").endswith("/app"), "the dashboard")
    assert "No data yet" in driver.page_source
    shot(driver, shots, "keyboard-signed-in")
