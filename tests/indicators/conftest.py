"""Builders of small contract frames for the indicator tests."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from indicators.catalogue import CATALOGUE
from indicators.frames import INDICATOR_VALUE_COLUMNS

ValuesBuilder = Callable[..., pl.DataFrame]
T0 = datetime(2025, 3, 11, 12, 0, tzinfo=UTC)


def build_values(*rows: dict[str, Any]) -> pl.DataFrame:
    """Indicator values from partial rows: defaults fill user, time, unit, source, ids."""
    full = []
    for number, given in enumerate(rows):
        row = dict(given)  # popped below; parametrised dicts are shared between tests
        indicator = row.get("indicator", "steps")
        minutes = row.pop("minutes", None)
        hours = row.pop("hours", 0)
        time = row.get("time", T0 + timedelta(hours=hours))
        full.append(
            {
                "user_id": "u1",
                "indicator": indicator,
                "time": time,
                "end_time": time + timedelta(minutes=minutes) if minutes is not None else None,
                "tz_offset_s": 0,
                "value": 1.0,
                "unit": CATALOGUE[indicator].unit if indicator in CATALOGUE else "1",
                "source": "garmin",
                "record_id": f"r{number}",
                "offset_source": "vendor",
            }
            | row
        )
    return pl.DataFrame(full, schema=INDICATOR_VALUE_COLUMNS)


@pytest.fixture
def values() -> ValuesBuilder:
    return build_values
