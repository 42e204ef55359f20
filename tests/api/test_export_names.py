"""An export is named like its table (`daily_summary`) or like the read route
(`daily-summaries`): both give the same file, so a newcomer's first guess works."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


@pytest.mark.parametrize(
    ("table", "route"),
    [
        ("daily_summary", "daily-summaries"),
        ("indicator_values", "indicator-values"),
        ("raw_records", "raw-records"),
    ],
)
def test_both_spellings_of_a_dataset_export_the_same_file(
    api_client: TestClient, seeded: Any, table: str, route: str
) -> None:
    by_table = api_client.get(f"/v1/exports/{table}", headers=seeded.headers)
    by_route = api_client.get(f"/v1/exports/{route}", headers=seeded.headers)
    assert by_table.status_code == by_route.status_code == 200
    assert by_route.text == by_table.text and by_table.text.count("\n") > 1
    assert by_route.headers["content-disposition"] == f'attachment; filename="mirobody-{table}.csv"'


def test_an_unknown_dataset_is_refused_with_the_names_that_work(
    api_client: TestClient, seeded: Any
) -> None:
    reply = api_client.get("/v1/exports/summaries", headers=seeded.headers)
    assert reply.status_code == 422
    assert "daily-summaries" in reply.text and "daily_summary" in reply.text
