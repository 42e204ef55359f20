"""Dashboard, indicator pages, export and deletion through the pages, and one person never
seeing another's data."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine, text

from tests.web.pages import PASSWORD, Browser, seed_daily

LAST = date(2025, 2, 20)


def test_an_empty_dashboard_says_what_to_do(browser: Browser) -> None:
    browser.sign_up()
    page = browser.get("/app")
    assert page.status_code == 200
    assert "No data yet" in page.text and 'href="/app/devices"' in page.text


def test_dashboard_draws_the_last_30_days_with_sources(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    seed_daily(engine, browser.user_id(engine), LAST, days=40)
    page = browser.get("/app")
    assert page.status_code == 200
    body = page.text
    # Steps (a key indicator) comes before resting heart rate, each with its source.
    assert body.index('id="card-steps"') < body.index('id="card-resting_heart_rate"')
    assert "Source: whoop" in body and "Source: oura" in body
    assert "Daily values up to 2025-02-20" in body
    steps = body[body.index('id="card-steps"') : body.index('id="card-resting_heart_rate"')]
    assert steps.count('<rect class="chart-bar"') == 30  # 30 days, not the 40 stored
    assert "8,000" in steps  # latest day's value
    rhr = body[body.index('id="card-resting_heart_rate"') :]
    assert '<polyline class="chart-line"' in rhr
    assert "style=" not in body  # the CSP allows no inline style


def test_indicator_page_with_range_and_resolution(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    seed_daily(engine, browser.user_id(engine), LAST, days=40)
    page = browser.get("/app/indicators/steps", params={"start": "2025-02-11", "end": "2025-02-20"})
    assert page.status_code == 200
    assert page.text.count('<rect class="chart-bar"') == 10
    assert "<td>2025-02-11</td>" in page.text and "<td>2025-02-10</td>" not in page.text
    assert 'value="2025-02-11"' in page.text

    wide = browser.get(
        "/app/indicators/steps",
        params={"start": "2015-01-01", "end": "2025-02-20", "resolution": "raw"},
    )
    assert wide.status_code == 200
    assert 'id="start-error"' in wide.text and "at most 14 days" in wide.text
    bad = browser.get("/app/indicators/steps", params={"end": "yesterday"})
    assert 'id="end-error"' in bad.text
    assert browser.get("/app/indicators/not_an_indicator").status_code == 404


def test_export_as_csv_and_parquet(browser: Browser, engine: Engine, tmp_path: Path) -> None:
    browser.sign_up()
    seed_daily(engine, browser.user_id(engine), LAST, days=3)
    page = browser.get("/app/data")
    assert "6 daily summaries" in page.text
    as_csv = browser.submit(
        "/app/data", "/app/data/export", {"dataset": "daily_summary", "format": "csv"}
    )
    assert as_csv.status_code == 200
    assert (
        as_csv.headers["content-disposition"] == 'attachment; filename="mirobody-daily_summary.csv"'
    )
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert len(rows) == 6 and {r["indicator"] for r in rows} == {"steps", "resting_heart_rate"}

    as_parquet = browser.submit(
        "/app/data", "/app/data/export", {"dataset": "daily_summary", "format": "parquet"}
    )
    assert as_parquet.status_code == 200
    path = tmp_path / "export.parquet"
    path.write_bytes(as_parquet.content)
    assert pq.read_table(path).num_rows == 6
    bad = browser.submit("/app/data", "/app/data/export", {"dataset": "users", "format": "csv"})
    assert bad.status_code == 422


def test_delete_everything_needs_the_confirmation_word(browser: Browser, engine: Engine) -> None:
    browser.sign_up()
    user_id = browser.user_id(engine)
    seed_daily(engine, user_id, LAST, days=3)

    def count() -> int:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text("SELECT count(*) FROM daily_summary WHERE user_id = :u"), {"u": user_id}
                ).scalar_one()
            )

    unconfirmed = browser.submit("/app/data", "/app/data/delete", {"confirm": "yes"})
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.text
    assert count() == 6
    done = browser.submit("/app/data", "/app/data/delete", {"confirm": "delete"})
    assert done.status_code == 303 and done.headers["location"] == "/app/data?deleted=1"
    assert count() == 0
    after = browser.get("/app/data?deleted=1").text
    assert "Your health data is deleted" in after and "0 daily summaries" in after
    assert browser.get("/app").status_code == 200  # the account stays


def test_one_person_never_sees_anothers_data(
    new_browser: Callable[[], Browser], engine: Engine
) -> None:
    alice, bob = new_browser(), new_browser()
    alice.sign_up("alice")
    bob.sign_up("bob")
    seed_daily(engine, alice.user_id(engine), LAST, days=5)
    created = alice.submit("/app/ai", "/app/ai/mcp-urls", {"name": "alice's claude"})
    link_id = created.text.split('action="/app/ai/mcp-urls/')[1].split("/revoke")[0]

    assert "No data yet" in bob.get("/app").text
    assert "No values in this range" in bob.get("/app/indicators/steps").text
    exported = bob.submit(
        "/app/data", "/app/data/export", {"dataset": "daily_summary", "format": "csv"}
    )
    assert len(list(csv.DictReader(io.StringIO(exported.text)))) == 0
    assert "alice&#39;s claude" not in bob.get("/app/ai").text
    assert bob.submit("/app/ai", f"/app/ai/mcp-urls/{link_id}/revoke", {}).status_code == 404
    bob.submit("/app/data", "/app/data/delete", {"confirm": "delete"})
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM daily_summary WHERE user_id = :u"),
                {"u": alice.user_id(engine)},
            ).scalar()
            == 10
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM mcp_links WHERE id = :i AND revoked_at IS NULL"),
                {"i": link_id},
            ).scalar()
            == 1
        )
    # A session cookie of one person never opens the other's account.
    assert alice.email in alice.get("/app/account").text
    assert alice.email not in bob.get("/app/account").text


def test_delete_the_account_ends_every_session(
    new_browser: Callable[[], Browser], engine: Engine
) -> None:
    here, elsewhere = new_browser(), new_browser()
    email = here.sign_up("leaving")
    elsewhere.submit("/app/signin", "/app/signin", {"email": email, "password": PASSWORD})
    user_id = here.user_id(engine)
    seed_daily(engine, user_id, LAST, days=2)
    here.submit("/app/ai", "/app/ai/mcp-urls", {"name": "agent"})

    wrong = here.submit(
        "/app/data", "/app/data/delete-account", {"confirm_account": "someone@else.org"}
    )
    assert wrong.status_code == 422 and 'id="confirm_account-error"' in wrong.text
    done = here.submit("/app/data", "/app/data/delete-account", {"confirm_account": email.upper()})
    assert done.status_code == 303 and done.headers["location"] == "/app/signup?goodbye=1"
    assert "Your account and all its data are deleted" in here.get(done.headers["location"]).text
    with engine.connect() as conn:
        for table in ("users", "daily_summary", "mcp_links"):
            column = "id" if table == "users" else "user_id"
            assert (
                conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE {column} = :u"), {"u": user_id}
                ).scalar()
                == 0
            ), table
    assert here.get("/app").status_code == 303
    assert elsewhere.get("/app").status_code == 303
    again = new_browser().submit(
        "/app/signin", "/app/signin", {"email": email, "password": PASSWORD}
    )
    assert again.status_code == 401
