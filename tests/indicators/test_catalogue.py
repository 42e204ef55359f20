"""The catalogue: required ids, well-formed entries, typed lookups and keyword search."""

import pytest

from indicators import (
    CATALOGUE,
    Category,
    DayAnchor,
    Indicator,
    Kind,
    Rollup,
    UnknownIndicatorError,
    catalogue_frame,
    get_indicator,
    search_indicators,
)
from indicators.units import conversion

# Ids other packages already code against (the list plus the obvious neighbours).
REQUIRED = {
    "steps": "{steps}",
    "distance": "m",
    "floors_climbed": "{floors}",
    "active_energy": "kcal",
    "total_energy": "kcal",
    "heart_rate": "/min",
    "resting_heart_rate": "/min",
    "hrv_rmssd": "ms",
    "max_heart_rate": "/min",
    "vo2max": "mL/(kg.min)",
    "spo2": "%",
    "respiratory_rate": "/min",
    "skin_temperature": "Cel",
    "skin_temperature_deviation": "Cel",
    "sleep_duration_in_bed": "min",
    "sleep_duration_asleep": "min",
    "sleep_duration_light": "min",
    "sleep_duration_deep": "min",
    "sleep_duration_rem": "min",
    "sleep_duration_awake": "min",
    "sleep_latency": "min",
    "sleep_efficiency": "%",
    "sleep_score": "{score}",
    "sleep_start": "min",
    "sleep_end": "min",
    "sleep_disturbances": "{count}",
    "sleep_respiratory_rate": "/min",
    "recovery_score": "{score}",
    "readiness_score": "{score}",
    "body_battery": "{score}",
    "stress_level": "{score}",
    "strain": "{score}",
    "workout_duration": "min",
    "workout_energy": "kcal",
    "workout_distance": "m",
    "workout_average_heart_rate": "/min",
    "workout_max_heart_rate": "/min",
    "workout_strain": "{score}",
    "weight": "kg",
    "height": "m",
    "bmi": "kg/m2",
    "body_fat_percentage": "%",
    "muscle_mass": "kg",
    "bone_mass": "kg",
    "body_water_percentage": "%",
    "blood_pressure_systolic": "mm[Hg]",
    "blood_pressure_diastolic": "mm[Hg]",
    "blood_glucose": "mg/dL",
    "moderate_activity_duration": "min",
    "vigorous_activity_duration": "min",
}


def test_catalogue_has_at_least_sixty_indicators() -> None:
    assert len(CATALOGUE) >= 60


@pytest.mark.parametrize(("indicator_id", "unit"), sorted(REQUIRED.items()))
def test_required_indicator_exists_with_its_standard_unit(indicator_id: str, unit: str) -> None:
    assert get_indicator(indicator_id).unit == unit


def test_every_category_has_indicators() -> None:
    assert {entry.category for entry in CATALOGUE.values()} == set(Category)


def test_every_roll_up_and_kind_is_used() -> None:
    assert {entry.rollup for entry in CATALOGUE.values()} == set(Rollup)
    assert {entry.kind for entry in CATALOGUE.values()} == set(Kind)


@pytest.mark.parametrize("entry", list(CATALOGUE.values()), ids=list(CATALOGUE))
def test_every_entry_is_well_formed_and_its_unit_is_known(entry: Indicator) -> None:
    assert entry.id == entry.id.lower() and " " not in entry.id
    assert entry.description and "\n" not in entry.description
    assert entry.min_value < entry.max_value
    assert conversion(entry.unit, entry.unit) == (1.0, 0.0)


def test_skin_temperature_and_its_deviation_are_different_indicators() -> None:
    absolute = get_indicator("skin_temperature")
    deviation = get_indicator("skin_temperature_deviation")
    assert not absolute.is_delta and deviation.is_delta
    assert absolute.min_value > 0 > deviation.min_value


def test_sleep_counts_for_the_wake_up_day() -> None:
    assert get_indicator("sleep_duration_deep").day_anchor is DayAnchor.END
    assert get_indicator("steps").day_anchor is DayAnchor.START


def test_unknown_indicator_raises_a_typed_error_naming_it() -> None:
    with pytest.raises(UnknownIndicatorError, match="heart_beats"):
        get_indicator("heart_beats")


def test_an_entry_with_a_bad_id_or_bounds_is_rejected() -> None:
    with pytest.raises(ValueError, match="snake_case"):
        Indicator("Steps", "x", Kind.SAMPLE, "1", Rollup.SUM, 0, 1, "d", category=Category.BODY)
    with pytest.raises(ValueError, match="min_value"):
        Indicator("steps2", "x", Kind.SAMPLE, "1", Rollup.SUM, 1, 1, "d", category=Category.BODY)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("heart rate", "heart_rate"),
        ("hrv", "hrv_rmssd"),
        ("calories burned", "active_energy"),
        ("blood sugar", "blood_glucose"),
        ("deep sleep", "sleep_duration_deep"),
        ("weight", "weight"),
        ("oxygen saturation", "spo2"),
        ("VO2 max", "vo2max"),
        ("bedtime", "sleep_start"),
    ],
)
def test_search_ranks_the_obvious_indicator_first(query: str, first: str) -> None:
    assert search_indicators(query)[0].id == first


def test_search_matches_word_stems_and_filters_by_category() -> None:
    assert "total_energy" in {e.id for e in search_indicators("calorie")}
    results = search_indicators("temperature", category="temperature")
    assert results and all(e.category is Category.TEMPERATURE for e in results)


def test_search_with_no_match_is_empty_and_an_empty_query_lists_everything() -> None:
    assert search_indicators("zzzzqqq") == []
    assert len(search_indicators("")) == len(CATALOGUE)


def test_catalogue_frame_has_one_row_per_indicator() -> None:
    frame = catalogue_frame()
    assert frame.height == len(CATALOGUE)
    assert frame["indicator"].n_unique() == len(CATALOGUE)
