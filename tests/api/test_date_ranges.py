"""Every date range from outside is clamped to the days Mirobody holds, or refused with a 4xx:
never a 500, never a run that fails later."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def test_a_backfill_before_the_first_day_is_422_and_a_straddling_one_is_clamped(
    api_client: TestClient, account: Any, link_whoop: Any
) -> None:
    link_whoop(account)
    ancient = api_client.post(
        "/v1/sync-requests",
        headers=account.headers,
        json={"kind": "backfill", "start_day": "0001-01-01", "end_day": "0001-01-05"},
    )
    assert ancient.status_code == 422 and "2020-01-01" in ancient.json()["reason"]
    everything = api_client.post(
        "/v1/sync-requests",
        headers=account.headers,
        json={"kind": "backfill", "start_day": "0001-01-01", "end_day": "2024-12-31"},
    )
    assert everything.status_code == 422 and "at most" in everything.json()["reason"]
    straddling = api_client.post(
        "/v1/sync-requests",
        headers=account.headers,
        json={"kind": "backfill", "start_day": "2019-12-01", "end_day": "2020-01-10"},
    )
    assert straddling.status_code == 202, straddling.text
    assert (straddling.json()["start_day"], straddling.json()["end_day"]) == (
        "2020-01-01",
        "2020-01-10",
    )


@pytest.mark.parametrize(
    ("path", "params"),
    [
        (
            "/v1/series",
            {
                "indicator": "heart_rate",
                "start": "0001-01-01T00:00:00Z",
                "end": "9999-12-31T23:59:59Z",
            },
        ),
        (
            "/v1/series",
            {
                "indicator": "heart_rate",
                "start": "9999-12-31T23:59:59Z",
                "end": "0001-01-01T00:00:00Z",
            },
        ),
        (
            "/v1/series",
            {
                "indicator": "heart_rate",
                "start": "0001-01-01T00:00:00+14:00",
                "end": "9999-12-31T23:59:59-12:00",
                "resolution": "daily",
            },
        ),
        (
            "/v1/series",
            {
                "indicator": "heart_rate",
                "start": "0001-01-01T00:00:00Z",
                "end": "9999-12-31T23:59:59Z",
                "resolution": "hourly",
            },
        ),
        ("/v1/daily-summaries", {"start_day": "0001-01-01", "end_day": "9999-12-31"}),
        ("/v1/daily-summaries", {"start_day": "9999-12-31", "end_day": "0001-01-01"}),
        ("/v1/exports/daily_summary", {"start_day": "0001-01-01", "end_day": "9999-12-31"}),
        (
            "/v1/exports/indicator_values",
            {"start_day": "9999-12-31", "end_day": "9999-12-31", "format": "parquet"},
        ),
    ],
)
def test_extreme_read_ranges_never_fail_the_server(
    api_client: TestClient, seeded: Any, path: str, params: dict[str, str]
) -> None:
    resp = api_client.get(path, params=params, headers=seeded.headers)
    assert resp.status_code < 500, resp.text
    if resp.status_code >= 400:
        assert resp.json()["reason"]
