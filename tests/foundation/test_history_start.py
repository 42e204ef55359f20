"""Where the day partitions start: HISTORY_START, pinned by `mirobody up` to the month its first
initial history reaches (so the UI's partition fill means something), and the range check that
keeps requested work inside those days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mirobody_assets.days import (
    FIRST_DAY,
    DayRangeError,
    check_day_range,
    history_start,
    initial_history_start,
)
from mirobody_assets.settings import get_settings
from mirobody_assets.supervisor import pin_history_start

TODAY = date(2026, 12, 3)


def test_unset_the_partitions_start_at_the_earliest_day_any_deployment_holds() -> None:
    assert history_start({}) == FIRST_DAY
    assert history_start({"HISTORY_START": "2026-11-01"}) == date(2026, 11, 1)
    assert history_start({"HISTORY_START": "1999-01-01"}) == FIRST_DAY


def test_a_history_start_that_is_not_a_date_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="HISTORY_START is not a date"):
        history_start({"HISTORY_START": "last year"})


def test_a_new_deployment_starts_at_the_month_its_initial_history_reaches() -> None:
    assert initial_history_start(30, TODAY) == date(2026, 11, 1)
    assert initial_history_start(3, TODAY) == date(2026, 12, 1)
    assert initial_history_start(3650, TODAY) == FIRST_DAY


def test_requested_ranges_are_clamped_to_the_partitions_days() -> None:
    first = date(2026, 11, 1)
    clamped = check_day_range(date(2026, 1, 1), date(2026, 11, 5), today=TODAY, first=first)
    assert (clamped.start, clamped.end) == (first, date(2026, 11, 5))
    with pytest.raises(DayRangeError, match="ends before 2026-11-01"):
        check_day_range(date(2026, 1, 1), date(2026, 10, 31), today=TODAY, first=first)


def test_mirobody_up_pins_the_start_once_and_keeps_it(tmp_path: Path) -> None:
    settings = get_settings(data_dir=tmp_path, initial_history_days=30)
    pinned = pin_history_start(tmp_path, settings)
    assert date.fromisoformat(pinned).day == 1
    (tmp_path / "history-start").write_text("2026-06-01")  # as if pinned months ago
    assert pin_history_start(tmp_path, settings) == "2026-06-01"
    explicit = get_settings(data_dir=tmp_path, history_start="2025-03-04")
    assert pin_history_start(tmp_path, explicit) == "2025-03-04"
