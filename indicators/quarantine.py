"""Split normalised indicator values into valid rows and a quarantine with the reason.

Nothing is dropped in silence: every row that would break the indicator-value contract
(unknown indicator, wrong unit, non-finite or implausible value, duplicate key, ...) goes to
the quarantine frame with a `reason`, where it can be counted, stored and inspected.
"""

from __future__ import annotations

import polars as pl

from indicators.catalogue import catalogue_frame
from indicators.frames import INDICATOR_VALUE_COLUMNS, INDICATOR_VALUE_KEY
from indicators.time_scalar import MAX_OFFSET_S
from indicators.zones import OFFSET_SOURCES, OffsetSource

# In the order they are tested: a row gets the first reason that applies.
QUARANTINE_REASONS = (
    "missing_field",
    "unknown_indicator",
    "wrong_unit",
    "non_finite_value",
    "out_of_bounds",
    "invalid_offset",
    "end_before_start",
    "duplicate_key",
)

QUARANTINE_COLUMNS: dict[str, pl.DataType] = {**INDICATOR_VALUE_COLUMNS, "reason": pl.String()}
"""The indicator-value columns plus `reason` (one of QUARANTINE_REASONS)."""


# Why a whole vendor record could not be formatted (no rows came from it).
RECORD_FAILURE_REASONS = (
    "does_not_decode",  # a value of another type than the mapping reads (text for a number)
    "unparsable_time",  # the time field is there but does not parse
    "missing_time",  # the time field is absent or null
    "missing_anchor",  # the record it is dated by is neither in the batch nor stored
    "no_mapped_fields",  # none of the mapped fields is present
    "unknown_code",  # a code the mapping does not know (a Withings meastype)
    "unknown_record_type",  # no mapping for the record type
    "format_error",  # anything else; the detail says what
)

RECORD_FAILURE_COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "provider": pl.String(),
    "record_type": pl.String(),
    "record_id": pl.String(),  # the vendor id of the raw record
    "day": pl.Date(),  # the raw record's day (its partition)
    "field_path": pl.String(),  # the payload path at fault, e.g. `measures[].unit`
    "reason": pl.String(),  # one of RECORD_FAILURE_REASONS
    "detail": pl.String(),  # what was found, naming the field
}
"""One row per raw record that could not be formatted: quarantined whole, with its reason."""


class FrameContractError(ValueError):
    """A frame lacks contract columns or has columns that cannot be cast to the contract."""


def _to_contract(values: pl.DataFrame) -> pl.DataFrame:
    if "offset_source" not in values.columns:  # the producer states its offsets itself
        values = values.with_columns(pl.lit(str(OffsetSource.VENDOR)).alias("offset_source"))
    missing = [name for name in INDICATOR_VALUE_COLUMNS if name not in values.columns]
    if missing:
        raise FrameContractError(f"indicator values lack columns {missing}")
    try:
        return values.select(
            pl.col(name).cast(dtype) for name, dtype in INDICATOR_VALUE_COLUMNS.items()
        )
    except pl.exceptions.PolarsError as exc:
        raise FrameContractError(f"indicator values do not fit the contract: {exc}") from exc


def _key_hash(ok: pl.Expr) -> pl.Expr:
    """A 64-bit hash of the natural key and row validity: equal keys hash equal, so rows whose
    hash is unique cannot be duplicates (collisions only send rows to the exact check)."""
    user, indicator, source, time = INDICATOR_VALUE_KEY
    return (
        pl.col(user).hash(1)
        ^ pl.col(indicator).hash(2)
        ^ pl.col(source).hash(3)
        ^ pl.col(time).hash(4)
        ^ ok.hash(5)
    )


def _mark_duplicates(checked: pl.DataFrame) -> pl.DataFrame:
    """Quarantine later rows of a duplicated natural key, judged among otherwise valid rows
    only (validity is part of the key), so a bad row never shadows a good one."""
    ok = pl.col("reason").is_null()
    candidate = _key_hash(ok).is_duplicated()
    if not checked.select(candidate.any()).item():
        return checked  # the usual case: one cheap hash pass instead of a key comparison
    first = pl.struct(*INDICATOR_VALUE_KEY, ok.alias("_ok")).is_first_distinct()
    return checked.with_columns(
        pl.when(ok & candidate & ~first)
        .then(pl.lit("duplicate_key"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )


def split_valid(values: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return `(valid, quarantine)` from a frame of normalised indicator values.

    `valid` has exactly the contract columns in contract order and passes
    IndicatorValueSchema. `quarantine` has the same columns plus `reason`. For a duplicated
    natural key (user_id, indicator, source, time) the first row in input order is kept and
    the later ones are quarantined as "duplicate_key".
    """
    frame = _to_contract(values)
    bounds = catalogue_frame().select("indicator", "standard_unit", "min_value", "max_value")
    required = [name for name in INDICATOR_VALUE_COLUMNS if name != "end_time"]
    value = pl.col("value")
    reason = (
        pl.when(pl.any_horizontal(pl.col(required).is_null()))
        .then(pl.lit("missing_field"))
        .when(pl.col("standard_unit").is_null())
        .then(pl.lit("unknown_indicator"))
        .when(pl.col("unit") != pl.col("standard_unit"))
        .then(pl.lit("wrong_unit"))
        .when(~value.is_finite())
        .then(pl.lit("non_finite_value"))
        .when((value < pl.col("min_value")) | (value > pl.col("max_value")))
        .then(pl.lit("out_of_bounds"))
        .when(
            (pl.col("tz_offset_s").abs() > MAX_OFFSET_S)
            | ~pl.col("offset_source").is_in([str(s) for s in OFFSET_SOURCES])
        )
        .then(pl.lit("invalid_offset"))
        .when(pl.col("end_time") < pl.col("time"))
        .then(pl.lit("end_before_start"))
    )
    checked = frame.join(bounds, on="indicator", how="left", maintain_order="left").with_columns(
        reason.alias("reason")
    )
    checked = _mark_duplicates(checked)
    columns = list(INDICATOR_VALUE_COLUMNS)
    valid = checked.filter(pl.col("reason").is_null()).select(columns)
    quarantine = checked.filter(pl.col("reason").is_not_null()).select(*columns, "reason")
    return valid, quarantine


def quarantine_counts(quarantine: pl.DataFrame) -> dict[str, int]:
    """How many quarantined rows there are per reason (reasons with none are left out)."""
    counts = quarantine.group_by("reason").len()
    return dict(zip(counts["reason"].to_list(), counts["len"].to_list(), strict=True))
