"""Source priorities come from the providers' own declarations (plugin metadata), with a
deployment override: indicators/ names no vendor, and a new provider ranks where it says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar

import polars as pl
import pytest

from indicators.aggregate import SourcePriorities, daily_summary
from indicators.frames import INDICATOR_VALUE_COLUMNS
from mirobody_assets.provider_config import source_priorities
from mirobody_assets.settings import get_settings
from providers.oura import OuraProvider
from providers.priorities import (
    declared_priorities,
    installed_priorities,
    installed_provider_classes,
)
from providers.types import ProviderInfo


def _values(*rows: tuple[str, str, float]) -> pl.DataFrame:
    """(indicator, source, value) rows at one instant of one day, one user."""
    at = datetime(2025, 3, 11, 7, tzinfo=UTC)
    return pl.DataFrame(
        [
            {
                "user_id": "u",
                "indicator": i,
                "time": at,
                "end_time": None,
                "tz_offset_s": 0,
                "value": v,
                "unit": "x",
                "source": s,
                "record_id": f"{s}-{i}",
            }
            for i, s, v in rows
        ],
        schema=INDICATOR_VALUE_COLUMNS,
    )


def _winner(priorities: SourcePriorities, indicator: str, *sources: str) -> str:
    frame = _values(*((indicator, s, float(n)) for n, s in enumerate(sources)))
    return str(daily_summary(frame, priorities).row(0, named=True)["source"])


def test_the_installed_providers_declare_the_dedicated_device_first_for_each_domain() -> None:
    table = installed_priorities()
    assert table["sleep"][:2] == ("oura", "whoop")
    assert table["recovery"][0] == "whoop"
    assert table["body"][0] == "withings" and table["blood_pressure"][0] == "withings"
    assert table["*"][:3] == ("garmin", "garmin.epochs", "polar")
    assert _winner(table, "sleep_duration_deep", "garmin", "whoop", "oura") == "oura"
    assert _winner(table, "weight", "oura", "garmin", "withings") == "withings"
    assert _winner(table, "steps", "whoop", "garmin.epochs", "garmin.fenix7") == "garmin.fenix7"


def test_a_new_provider_ranks_where_its_metadata_says_without_edits_elsewhere() -> None:
    class RingTwo(OuraProvider):
        info = ProviderInfo(
            slug="ringtwo",
            display_name="Ring Two",
            auth_kind=OuraProvider.info.auth_kind,
            scopes=(),
            record_types=(),
            supports_webhooks=False,
        )
        priority_ranks: ClassVar[dict[str, int]] = {"sleep": 1}
        source_priorities: ClassVar[tuple[str, ...]] = ("ringtwo.gen2", "ringtwo")

    table = declared_priorities([*installed_provider_classes(), RingTwo])
    assert table["sleep"][:3] == ("ringtwo.gen2", "ringtwo", "oura")
    assert table["*"][-2:] == ("ringtwo.gen2", "ringtwo")  # undeclared for "*": last
    assert _winner(table, "sleep_duration_deep", "oura", "ringtwo.gen1") == "ringtwo.gen1"
    assert _winner(table, "sleep_duration_deep", "ringtwo.gen1", "ringtwo.gen2") == "ringtwo.gen2"
    # without the declaration the same data falls back to "more rows, then by name": oura
    assert _winner({}, "sleep_duration_deep", "ringtwo.gen1", "oura") == "oura"


def test_the_deployment_overrides_a_key_through_source_priorities(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SOURCE_PRIORITIES", '{"sleep": ["whoop", "oura"], "steps": ["oura"]}')
    table = source_priorities(get_settings())
    assert table["sleep"] == ("whoop", "oura") and table["steps"] == ("oura",)
    assert table["body"] == installed_priorities()["body"]  # other keys stay as declared
    assert _winner(table, "sleep_duration_deep", "oura", "whoop") == "whoop"
    assert _winner(table, "steps", "garmin", "oura") == "oura"
