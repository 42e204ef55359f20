"""Catalogue, time series, daily summaries and the health profile over the serving tables."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

DAY1 = {"start": "2025-01-01T00:00:00Z", "end": "2025-01-02T00:00:00Z"}
ALL = {"start": "2025-01-01T00:00:00Z", "end": "2025-01-04T00:00:00Z"}


def _series(client: TestClient, account: Any, **params: Any) -> Any:
    return client.get("/v1/series", params=params, headers=account.headers)


def test_catalogue_lists_searches_and_reads_indicators(api_client: TestClient, seeded: Any) -> None:
    everything = api_client.get("/v1/indicators", headers=seeded.headers).json()
    assert everything["count"] == len(everything["data"]) > 50
    found = api_client.get(
        "/v1/indicators", params={"q": "resting heart"}, headers=seeded.headers
    ).json()
    assert found["data"][0]["id"] == "resting_heart_rate"
    sleep = api_client.get(
        "/v1/indicators", params={"category": "sleep"}, headers=seeded.headers
    ).json()
    assert sleep["count"] > 0 and {i["category"] for i in sleep["data"]} == {"sleep"}
    one = api_client.get("/v1/indicators/steps", headers=seeded.headers)
    assert one.status_code == 200 and one.json()["unit"] == "{steps}"


def test_unknown_indicator_or_category_is_refused(api_client: TestClient, seeded: Any) -> None:
    assert api_client.get("/v1/indicators/nope", headers=seeded.headers).status_code == 404
    bad = api_client.get("/v1/indicators", params={"category": "astrology"}, headers=seeded.headers)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_category"


def test_raw_series_returns_every_row_of_the_range(api_client: TestClient, seeded: Any) -> None:
    page = _series(api_client, seeded, indicator="heart_rate", limit=10000, **DAY1).json()
    assert len(page["data"]) == 96 and page["next_cursor"] is None
    assert {p["source"] for p in page["data"]} == {"whoop", "garmin.fenix7"}
    assert page["data"][0]["start"].startswith("2025-01-01T00:00:00")


def test_raw_series_pages_by_cursor_without_gaps_or_repeats(
    api_client: TestClient, seeded: Any
) -> None:
    seen: list[tuple[str, str, str]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"indicator": ["heart_rate", "steps"], "limit": 37, **ALL}
        if cursor:
            params["cursor"] = cursor
        page = _series(api_client, seeded, **params).json()
        seen += [(p["indicator"], p["start"], p["source"]) for p in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 3 * 96 + 3
    assert seen == sorted(seen)


def test_source_filter_takes_a_provider_or_an_exact_source(
    api_client: TestClient, seeded: Any
) -> None:
    garmin = _series(api_client, seeded, indicator="heart_rate", source="garmin", **DAY1).json()
    assert {p["source"] for p in garmin["data"]} == {"garmin.fenix7"}
    exact = _series(api_client, seeded, indicator="heart_rate", source="whoop", **DAY1).json()
    assert {p["source"] for p in exact["data"]} == {"whoop"} and len(exact["data"]) == 48


def test_hourly_and_daily_resolution_roll_up_by_the_catalogue_rollup(
    api_client: TestClient, seeded: Any
) -> None:
    hourly = _series(
        api_client, seeded, indicator="heart_rate", resolution="hour", source="whoop", **DAY1
    ).json()
    assert len(hourly["data"]) == 24
    assert hourly["data"][0]["value"] == 60.5 and hourly["data"][0]["count"] == 2
    daily = _series(
        api_client,
        seeded,
        indicator=["heart_rate", "steps"],
        resolution="day",
        source=["whoop", "garmin"],
        **ALL,
    ).json()["data"]
    assert len(daily) == 3 * 2 + 3
    steps = [p for p in daily if p["indicator"] == "steps"]
    assert [p["value"] for p in steps] == [1000.0, 1001.0, 1002.0]  # sum
    assert [p["day"] for p in steps] == ["2025-01-01", "2025-01-02", "2025-01-03"]
    hr = [p for p in daily if p["indicator"] == "heart_rate" and p["source"] == "whoop"]
    expected = 60.0 + sum(slot % 10 for slot in range(48)) / 48
    assert abs(hr[0]["value"] - expected) < 1e-9 and hr[0]["count"] == 48  # mean


def test_daily_resolution_pages_by_cursor(api_client: TestClient, seeded: Any) -> None:
    both = {
        "indicator": "heart_rate",
        "resolution": "day",
        "limit": 4,
        "source": ["whoop", "garmin"],
        **ALL,
    }
    first = _series(api_client, seeded, **both).json()
    rest = _series(api_client, seeded, cursor=first["next_cursor"], **both).json()
    keys = [(p["day"], p["source"]) for p in first["data"] + rest["data"]]
    assert len(keys) == len(set(keys)) == 6 and rest["next_cursor"] is None
    merged = {"indicator": "heart_rate", "resolution": "day", "limit": 2, **ALL}
    first = _series(api_client, seeded, **merged).json()
    rest = _series(api_client, seeded, cursor=first["next_cursor"], **merged).json()
    days = [p["day"] for p in first["data"] + rest["data"]]
    assert days == ["2025-01-01", "2025-01-02", "2025-01-03"] and rest["next_cursor"] is None


def test_daily_points_without_a_source_filter_are_the_merged_daily_summary(
    api_client: TestClient, seeded: Any
) -> None:
    daily = _series(
        api_client, seeded, indicator=["heart_rate", "steps"], resolution="day", **ALL
    ).json()["data"]
    assert len(daily) == 6  # one value per indicator and day, whatever the number of sources
    hr = [p for p in daily if p["indicator"] == "heart_rate"]
    assert [(p["day"], p["value"], p["source"], p["count"]) for p in hr] == [
        (f"2025-01-0{d}", 65.0, "whoop", 48) for d in (1, 2, 3)
    ]
    one_day = _series(
        api_client,
        seeded,
        indicator="steps",
        resolution="day",
        start="2025-01-02T00:00:00Z",
        end="2025-01-03T00:00:00Z",
    ).json()["data"]
    assert [(p["day"], p["value"]) for p in one_day] == [("2025-01-02", 1001.0)]


def test_malformed_series_requests_are_422(api_client: TestClient, seeded: Any) -> None:
    cases = [
        {"indicator": "no_such_indicator", **DAY1},
        {"indicator": "heart_rate", "start": "2025-01-01T00:00:00", "end": "2025-01-02T00:00:00"},
        {"indicator": "heart_rate", "start": DAY1["end"], "end": DAY1["start"]},
        {"indicator": "heart_rate", "cursor": "not-a-cursor!", **DAY1},
        {"indicator": "heart_rate", "resolution": "week", **DAY1},
        {"indicator": "heart_rate", "limit": 0, **DAY1},
        {"start": DAY1["start"], "end": DAY1["end"]},
        {"indicator": "heart_rate", "source": "nul\x00byte", **DAY1},
    ]
    for params in cases:
        resp = _series(api_client, seeded, **params)
        assert resp.status_code == 422, params
        assert set(resp.json()) >= {"code", "reason"}
    raw_cursor = _series(api_client, seeded, indicator="heart_rate", limit=1, **DAY1).json()[
        "next_cursor"
    ]
    other = _series(
        api_client, seeded, indicator="heart_rate", resolution="day", cursor=raw_cursor, **DAY1
    )
    assert other.status_code == 422 and other.json()["code"] == "invalid_cursor"


def test_daily_summaries_page_by_day(api_client: TestClient, seeded: Any) -> None:
    params = {"start_day": "2025-01-01", "end_day": "2025-01-03", "limit": 4}
    first = api_client.get("/v1/daily-summaries", params=params, headers=seeded.headers).json()
    rest = api_client.get(
        "/v1/daily-summaries",
        params=params | {"cursor": first["next_cursor"]},
        headers=seeded.headers,
    ).json()
    rows = first["data"] + rest["data"]
    assert len(rows) == 6 and rest["next_cursor"] is None
    assert rows[0] == {
        "indicator": "heart_rate",
        "day": "2025-01-01",
        "value": 65.0,
        "unit": "/min",
        "source": "whoop",
        "sources": "whoop,garmin.fenix7",
        "n_values": 48,
    }
    steps = api_client.get(
        "/v1/daily-summaries", params=params | {"indicator": "steps"}, headers=seeded.headers
    ).json()
    assert [r["indicator"] for r in steps["data"]] == ["steps"] * 3
    bad = api_client.get(
        "/v1/daily-summaries",
        headers=seeded.headers,
        params={"start_day": "2025-01-03", "end_day": "2025-01-01"},
    )
    assert bad.status_code == 422


def test_profile_shows_devices_latest_values_and_coverage(
    api_client: TestClient, seeded: Any
) -> None:
    profile = api_client.get("/v1/profile", headers=seeded.headers).json()
    assert profile["user_id"] == seeded.id
    assert profile["devices"][0]["provider"] == "whoop"
    assert profile["devices"][0]["needs_reauthorization"] is False
    latest = {v["indicator"]: v for v in profile["latest"]}
    assert set(latest) == {"heart_rate", "steps"}
    assert latest["steps"]["value"] == 1002.0
    assert profile["first_day"] == "2025-01-01" and profile["last_day"] == "2025-01-03"
    assert [c["indicators"] for c in profile["coverage"]] == [2, 2, 2]


def test_last_and_duration_weighted_rollups_per_day(
    api_client: TestClient, register: Any, settings: Any
) -> None:
    from datetime import date, datetime

    from tests.support.facts import write_values

    account = register()
    rows = [
        ("user_max_heart_rate", "2025-03-01T08:00:00Z", None, 180.0),
        ("user_max_heart_rate", "2025-03-01T20:00:00Z", None, 185.0),
        ("workout_average_heart_rate", "2025-03-01T08:00:00Z", "2025-03-01T09:00:00Z", 120.0),
        ("workout_average_heart_rate", "2025-03-01T18:00:00Z", "2025-03-01T18:20:00Z", 160.0),
    ]
    write_values(
        settings.data_dir,
        account.id,
        [
            {
                "indicator": i,
                "source": "whoop",
                "time": datetime.fromisoformat(t),
                "end": datetime.fromisoformat(e) if e else None,
                "day": date(2025, 3, 1),
                "value": v,
                "unit": "/min",
            }
            for i, t, e, v in rows
        ],
    )
    daily = api_client.get(
        "/v1/series",
        headers=account.headers,
        params={
            "indicator": ["user_max_heart_rate", "workout_average_heart_rate"],
            "resolution": "day",
            "source": "whoop",
            "start": "2025-03-01T00:00:00Z",
            "end": "2025-03-02T00:00:00Z",
        },
    ).json()["data"]
    values = {p["indicator"]: p["value"] for p in daily}
    assert values["user_max_heart_rate"] == 185.0  # last
    assert values["workout_average_heart_rate"] == (120.0 * 60 + 160.0 * 20) / 80  # weighted
