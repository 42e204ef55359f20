"""Schemas of the frames that cross package boundaries, and the quarantine of bad values."""

from collections.abc import Callable
from datetime import date

import pandera.errors
import polars as pl
import pytest

from indicators.frames import (
    DAILY_SUMMARY_COLUMNS,
    INDICATOR_VALUE_COLUMNS,
    RAW_RECORD_COLUMNS,
    canonical_json,
    content_hash,
    empty_frame,
)
from indicators.schemas import (
    QUARANTINE_COLUMNS,
    QUARANTINE_REASONS,
    DailySummarySchema,
    FrameContractError,
    IndicatorValueSchema,
    QuarantineSchema,
    RawRecordSchema,
    quarantine_counts,
    split_valid,
)

ValuesBuilder = Callable[..., pl.DataFrame]
T0 = date(2025, 3, 11)
MODELS = [RawRecordSchema, IndicatorValueSchema, DailySummarySchema, QuarantineSchema]
CONTRACTS = [RAW_RECORD_COLUMNS, INDICATOR_VALUE_COLUMNS, DAILY_SUMMARY_COLUMNS, QUARANTINE_COLUMNS]


@pytest.mark.parametrize(("model", "columns"), list(zip(MODELS, CONTRACTS, strict=True)))
def test_every_schema_field_is_described_and_in_contract_order(model: type, columns: dict) -> None:
    schema = model.to_schema()  # type: ignore[attr-defined]
    assert list(schema.columns) == list(columns)
    for name, column in schema.columns.items():
        assert column.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize(("model", "columns"), list(zip(MODELS, CONTRACTS, strict=True)))
def test_an_empty_contract_frame_is_valid(model: type, columns: dict) -> None:
    model.validate(empty_frame(columns))  # type: ignore[attr-defined]


def test_valid_values_pass_the_indicator_value_schema(values: ValuesBuilder) -> None:
    frame = values(
        {"indicator": "steps", "value": 1200.0},
        {"indicator": "sleep_duration_deep", "value": 80.0, "minutes": 480, "source": "oura"},
        {"indicator": "heart_rate", "value": 61.0, "source": "garmin.fenix7"},
    )
    IndicatorValueSchema.validate(frame)


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"unit": "kJ", "indicator": "active_energy"}, "unit_is_standard"),
        ({"value": 1e9}, "value_is_plausible"),
        ({"value": float("inf")}, "value_is_plausible"),
        ({"indicator": "heartbeats"}, "isin"),
        ({"source": "Garmin Fenix"}, "str_matches"),
        ({"tz_offset_s": 90_000}, "less_than_or_equal_to"),
    ],
)
def test_the_value_schema_rejects_contract_breaches(
    values: ValuesBuilder, change: dict, check: str
) -> None:
    with pytest.raises(pandera.errors.SchemaErrors) as caught:
        IndicatorValueSchema.validate(values(change), lazy=True)
    assert caught.value.failure_cases["check"].str.contains(check).any()


def test_the_value_schema_rejects_duplicate_keys_and_naive_times(values: ValuesBuilder) -> None:
    with pytest.raises(pandera.errors.SchemaErrors):
        IndicatorValueSchema.validate(values({}, {}), lazy=True)
    naive = values({}).with_columns(pl.col("time").dt.replace_time_zone(None))
    with pytest.raises(pandera.errors.SchemaErrors):
        IndicatorValueSchema.validate(naive, lazy=True)


def test_split_valid_quarantines_each_bad_row_with_its_reason(values: ValuesBuilder) -> None:
    frame = values(
        {"value": 1000.0},  # valid
        {"value": 2000.0},  # same key as the first: duplicate
        {"indicator": "steps_per_fortnight", "unit": "x", "hours": 1},
        {"indicator": "active_energy", "unit": "kJ", "value": 799.0},
        {"indicator": "heart_rate", "value": float("nan")},
        {"indicator": "heart_rate", "value": 400.0, "hours": 2},
        {"indicator": "weight", "value": 70.0, "tz_offset_s": 99_999},
        {"indicator": "sleep_duration_deep", "value": 60.0, "minutes": -30},
        {"indicator": "spo2", "value": None},
        {"indicator": "spo2", "value": 97.0},  # valid
    )
    valid, quarantine = split_valid(frame)
    assert valid["record_id"].to_list() == ["r0", "r9"]
    assert quarantine["record_id"].to_list() == [f"r{n}" for n in range(1, 9)]
    assert quarantine["reason"].to_list() == [
        "duplicate_key",
        "unknown_indicator",
        "wrong_unit",
        "non_finite_value",
        "out_of_bounds",
        "invalid_offset",
        "end_before_start",
        "missing_field",
    ]
    assert set(quarantine["reason"]) <= set(QUARANTINE_REASONS)
    assert quarantine_counts(quarantine)["duplicate_key"] == 1
    IndicatorValueSchema.validate(valid)
    QuarantineSchema.validate(quarantine)


def test_split_valid_keeps_every_row_somewhere(values: ValuesBuilder) -> None:
    frame = values(*({"value": float(v), "hours": v % 3} for v in range(-5, 20)))
    valid, quarantine = split_valid(frame)
    assert valid.height + quarantine.height == frame.height
    assert quarantine_counts(quarantine) == {"out_of_bounds": 5, "duplicate_key": 17}


def test_a_bad_row_never_shadows_a_good_row_with_the_same_key(values: ValuesBuilder) -> None:
    valid, quarantine = split_valid(values({"value": -1.0}, {"value": 5.0}))
    assert valid["value"].to_list() == [5.0]
    assert quarantine["reason"].to_list() == ["out_of_bounds"]


def test_split_valid_needs_the_contract_columns(values: ValuesBuilder) -> None:
    with pytest.raises(FrameContractError, match="record_id"):
        split_valid(values({}).drop("record_id"))


def test_content_hash_ignores_key_order_and_whitespace() -> None:
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert content_hash({"b": 1, "a": "ü"}) == content_hash({"a": "ü", "b": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})
    with pytest.raises(ValueError):
        canonical_json({"a": float("nan")})


def _raw(**overrides: object) -> dict[str, object]:
    payload = {"id": "5f0c", "score": {"recovery_score": 71.0}}
    return {
        "provider": "whoop",
        "user_id": "u1",
        "record_type": "recovery",
        "vendor_id": "418772301",
        "version": "2025-03-11T11:05:09.118Z",
        "content_hash": content_hash(payload),
        "day": date(2025, 3, 11),
        "payload": canonical_json(payload),
    } | overrides


def test_raw_records_validate_and_identical_content_is_a_duplicate() -> None:
    RawRecordSchema.validate(pl.DataFrame([_raw(), _raw(version=None, vendor_id="2")]))
    with pytest.raises(pandera.errors.SchemaErrors):
        RawRecordSchema.validate(pl.DataFrame([_raw(), _raw()]), lazy=True)
    with pytest.raises(pandera.errors.SchemaErrors):
        RawRecordSchema.validate(pl.DataFrame([_raw(content_hash="abc")]), lazy=True)


def test_daily_summary_schema_rejects_a_wrong_unit_and_duplicate_days() -> None:
    row = {
        "user_id": "u1",
        "day": T0,
        "indicator": "steps",
        "value": 10.0,
        "unit": "{steps}",
        "source": "garmin",
        "n_values": 1,
        "sources": "garmin",
    }
    good = pl.DataFrame([row], schema=DAILY_SUMMARY_COLUMNS)
    DailySummarySchema.validate(good)
    with pytest.raises(pandera.errors.SchemaErrors):
        DailySummarySchema.validate(good.with_columns(unit=pl.lit("kg")), lazy=True)
    with pytest.raises(pandera.errors.SchemaErrors):
        DailySummarySchema.validate(pl.concat([good, good]), lazy=True)
