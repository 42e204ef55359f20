"""Unit conversion: every vendor unit in the vendor notes, by hand-computed expected values."""

import math

import pint
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from indicators.units import (
    IncompatibleUnitsError,
    UnknownUnitError,
    conversion,
    convert,
    to_standard,
    to_standard_frame,
)

# (indicator, vendor value, vendor unit, expected standard value computed by hand, vendor)
VENDOR_UNITS = [
    ("active_energy", 799, "kJ", 190.966, "WHOOP kilojoule: 799 / 4.184"),
    ("total_energy", 1000, "kilojoule", 239.006, "WHOOP cycle kilojoule"),
    ("sleep_duration_deep", 3_600_000, "ms", 60.0, "WHOOP *_milli"),
    ("heart_rate_zone_2_duration", 1_500_000, "ms", 25.0, "WHOOP zone_durations"),
    ("hrv_rmssd", 63.417, "ms", 63.417, "WHOOP hrv_rmssd_milli"),
    ("skin_temperature", 33.9, "Cel", 33.9, "WHOOP skin_temp_celsius"),
    ("height", 1.83, "m", 1.83, "WHOOP height_meter"),
    ("resting_heart_rate", 52, "bpm", 52.0, "WHOOP resting_heart_rate"),
    ("sleep_respiratory_rate", 14.6, "breaths/min", 14.6, "WHOOP respiratory_rate"),
    ("sleep_duration_deep", 5_340, "s", 89.0, "Garmin deepSleepDurationInSeconds"),
    ("weight", 72_500, "g", 72.5, "Garmin weightInGrams"),
    ("muscle_mass", 34_800, "g", 34.8, "Garmin muscleMassInGrams"),
    ("active_energy", 612, "kcal", 612.0, "Garmin activeKilocalories"),
    ("distance", 8_935.0, "m", 8_935.0, "Garmin distanceInMeters"),
    ("skin_temperature_deviation", -0.12, "Cel", -0.12, "Oura temperature_deviation"),
    ("sleep_latency", 540, "s", 9.0, "Oura latency"),
    ("breathing_disturbance_index", 7, "/h", 7.0, "Oura breathing_disturbance_index"),
    ("sleep_duration_in_bed", 28_020_000, "ms", 467.0, "Fitbit sleep duration"),
    ("distance", 10.24, "km", 10_240.0, "Fitbit distance in Kilometer"),
    ("weight", 163.5, "lb", 74.162, "Fitbit en_US weight: 163.5 * 0.45359237"),
    ("weight", 11.68, "stone", 74.171, "Fitbit en_GB weight: 11.68 * 6.35029318"),
    ("distance", 6.36, "mi", 10_235.428, "Fitbit en_US distance: 6.36 * 1609.344"),
    ("body_temperature", 98.6, "[degF]", 37.0, "Fitbit en_US temperature: (98.6 - 32) / 1.8"),
    ("skin_temperature_deviation", 1.8, "[degF]", 1.0, "Fitbit nightlyRelative in F: a delta"),
    ("vo2max", 44, "mL/kg/min", 44.0, "Fitbit cardioScore"),
    ("sleep_efficiency", 0.9, "ratio", 90.0, "Withings sleep_efficiency ratio"),
    ("blood_pressure_systolic", 121, "mmHg", 121.0, "Withings meastype 10"),
    ("vo2max", 41, "ml/min/kg", 41.0, "Withings meastype 123"),
    ("pulse_wave_velocity", 7.1, "m/s", 7.1, "Withings meastype 91"),
    ("body_fat_percentage", 17.86, "%", 17.86, "Withings meastype 6"),
    ("height", 180, "cm", 1.8, "Polar physical-info height"),
    ("workout_duration", 3_390, "s", 56.5, "Polar PT56M30S after parse_duration"),
    ("sleep_duration_light", 2.5, "h", 150.0, "hours"),
    ("blood_glucose", 5.5, "mmol/L", 99.086, "5.5 * 180.156 / 10"),
    ("blood_glucose", 99, "mg/dL", 99.0, "mass concentration"),
    ("bmi", 23.4, "kg/m2", 23.4, "Garmin bodyMassIndex"),
    ("steps", 11_402, "count", 11_402.0, "a plain count"),
    ("weight", 74.2, "kg", 74.2, "WHOOP weight_kilogram"),
    ("hrv_rmssd", 58, "ms", 58.0, "Garmin lastNightAvg"),
    ("blood_pressure_diastolic", 79, "mmHg", 79.0, "Garmin bloodPressures diastolic"),
    ("spo2", 95, "%", 95.0, "Garmin timeOffsetSpo2Values"),
    ("workout_distance", 10.24, "Kilometer", 10_240.0, "Fitbit distanceUnit Kilometer"),
    ("sedentary_duration", 1_290, "min", 1_290.0, "Fitbit sedentaryMinutes"),
    ("sleep_duration_rem", 6_420, "s", 107.0, "Withings remsleepduration"),
    ("heart_rate", 54, "bpm", 54.0, "Withings meastype 11"),
    ("respiratory_rate", 13.9, "breaths/min", 13.9, "Polar breathing_rate_avg"),
    ("hrv_rmssd", 54, "ms", 54.0, "Polar heart_rate_variability_avg"),
]


@pytest.mark.parametrize(
    ("indicator", "value", "unit", "expected", "vendor"),
    VENDOR_UNITS,
    ids=[row[4] for row in VENDOR_UNITS],
)
def test_vendor_unit_converts_to_the_standard_unit(
    indicator: str, value: float, unit: str, expected: float, vendor: str
) -> None:
    assert to_standard(indicator, value, unit) == pytest.approx(expected, abs=1e-3)


def test_whoop_kilojoules_are_divided_not_multiplied() -> None:
    scale, offset = conversion("kJ", "kcal")
    assert scale == pytest.approx(1 / 4.184) and offset == 0.0


def test_milliseconds_to_minutes_divides_by_sixty_thousand() -> None:
    assert conversion("ms", "min") == (pytest.approx(1 / 60_000), 0.0)


def test_fahrenheit_to_celsius_is_affine_but_a_deviation_has_no_offset() -> None:
    scale, offset = conversion("[degF]", "Cel")
    assert (scale, offset) == (pytest.approx(5 / 9), pytest.approx(-160 / 9))
    assert conversion("[degF]", "Cel", delta=True) == (pytest.approx(5 / 9), 0.0)


@pytest.mark.parametrize("unit", ["bananas", "", "   ", "kg/", "{steps", "m^^2"])
def test_unknown_unit_is_an_error_not_passed_through(unit: str) -> None:
    with pytest.raises(UnknownUnitError):
        conversion(unit, "kg")


def test_unknown_unit_error_names_the_unit() -> None:
    with pytest.raises(UnknownUnitError, match="bananas"):
        to_standard("weight", 1.0, "bananas")


@pytest.mark.parametrize(("src", "dst"), [("kg", "min"), ("kcal", "m"), ("mmol/L", "mg/dL")])
def test_units_of_different_dimensions_do_not_convert(src: str, dst: str) -> None:
    with pytest.raises(IncompatibleUnitsError):
        conversion(src, dst)


def test_a_whole_column_converts_with_one_multiply() -> None:
    frame = pl.DataFrame({"kilojoule": [799.0, 0.0, 4184.0]})
    converted = frame.select(to_standard("active_energy", pl.col("kilojoule"), "kJ"))
    assert converted.to_series().to_list() == pytest.approx([190.966, 0.0, 1000.0], abs=1e-3)
    series = convert(pl.Series([32.0, 212.0]), "[degF]", "Cel")
    assert series.to_list() == pytest.approx([0.0, 100.0])


UREG = pint.UnitRegistry(cache_folder=None)

ROUND_TRIP_FAMILIES = [
    ("kg", "g", "lb", "stone"),
    ("min", "s", "ms", "h"),
    ("kcal", "kJ"),
    ("m", "km", "mi", "cm"),
    ("Cel", "[degF]", "K"),
    ("%", "ratio"),
]


@st.composite
def unit_pairs(draw: st.DrawFn) -> tuple[str, str]:
    family = draw(st.sampled_from(ROUND_TRIP_FAMILIES))
    return draw(st.sampled_from(family)), draw(st.sampled_from(family))


@given(pair=unit_pairs(), value=st.floats(-1e6, 1e6, allow_nan=False))
def test_conversions_round_trip(pair: tuple[str, str], value: float) -> None:
    src, dst = pair
    back = convert(convert(value, src, dst), dst, src)
    assert math.isclose(back, value, rel_tol=1e-9, abs_tol=1e-6)


@given(pair=unit_pairs(), value=st.floats(-1e4, 1e4, allow_nan=False))
def test_affine_conversion_agrees_with_pint_per_value(pair: tuple[str, str], value: float) -> None:
    names = {"[degF]": "degF", "Cel": "degC", "ratio": "dimensionless", "%": "percent"}
    src, dst = pair
    expected = UREG.Quantity(value, names.get(src, src)).to(names.get(dst, dst)).magnitude
    assert math.isclose(convert(value, src, dst), expected, rel_tol=1e-9, abs_tol=1e-6)


def test_a_frame_with_per_row_vendor_units_converts_to_standard_units() -> None:
    frame = pl.DataFrame(
        {
            "indicator": ["weight", "weight", "active_energy", "body_temperature"],
            "value": [72_500.0, 163.5, 799.0, 98.6],
            "unit": ["g", "lb", "kJ", "[degF]"],
        }
    )
    converted = to_standard_frame(frame)
    assert converted["unit"].to_list() == ["kg", "kg", "kcal", "Cel"]
    assert converted["value"].to_list() == pytest.approx([72.5, 74.162, 190.966, 37.0], abs=1e-3)


def test_a_frame_with_an_unknown_unit_is_refused_not_passed_through() -> None:
    frame = pl.DataFrame({"indicator": ["weight"], "value": [1.0], "unit": ["bananas"]})
    with pytest.raises(UnknownUnitError, match="bananas"):
        to_standard_frame(frame)


def test_a_food_calorie_is_a_kilocalorie_but_a_small_calorie_is_not() -> None:
    assert to_standard("active_energy", 500, "Cal") == pytest.approx(500.0)
    assert to_standard("active_energy", 500, "[Cal]") == pytest.approx(500.0)
    assert to_standard("active_energy", 500_000, "cal") == pytest.approx(500.0)
