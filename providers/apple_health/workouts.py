"""Workouts: duration, energy and distance of each `<Workout>` element.

Exports before iOS 16 carry `totalEnergyBurned`/`totalDistance` attributes; later ones may
carry only `<WorkoutStatistics type=... sum=... unit=...>` children (kept as `statistics`):
the attribute is read when present, else the statistic (active energy; the distance of
walking/running, cycling, swimming...)."""

from __future__ import annotations

import polars as pl

from indicators.units import indicator_conversion
from providers.apple_health.records import RECORD_PATHS, mapping_for, with_unit
from providers.apple_health.types import QUANTITY, WORKOUT_TYPE

S = pl.String()
_WORKOUT_FIELDS = {
    "workoutActivityType": S,
    "duration": S,
    "durationUnit": S,
    "totalDistance": S,
    "totalDistanceUnit": S,
    "totalEnergyBurned": S,
    "totalEnergyBurnedUnit": S,
    "sourceName": S,
    "sourceVersion": S,
    "device": S,
    "creationDate": S,
    "startDate": S,
    "endDate": S,
    "statistics": pl.List(pl.Struct({"type": S, "sum": S, "unit": S})),
}
PATHS = {**RECORD_PATHS, "records": pl.List(pl.Struct(_WORKOUT_FIELDS))}


def _scales(indicator: str, units: dict[str, str]) -> dict[str, float]:
    out = {}
    for apple, unit in units.items():
        scale, offset = indicator_conversion(indicator, unit)
        assert offset == 0
        out[apple] = scale
    return out


_DURATION = _scales("workout_duration", {"min": "min", "s": "s", "h": "h"})
_ENERGY = _scales("workout_energy", {"kcal": "kcal", "Cal": "kcal", "kJ": "kJ"})
_DISTANCE = _scales("workout_distance", {"km": "km", "m": "m", "mi": "[mi_i]", "ft": "[ft_i]"})
_DISTANCE_STATS = [
    QUANTITY + t
    for t in (
        "DistanceWalkingRunning",
        "DistanceCycling",
        "DistanceSwimming",
        "DistanceWheelchair",
        "DistanceDownhillSnowSports",
    )
]


def _statistic(types: list[str], scales: dict[str, float]) -> pl.Expr:
    """The sum of the workout's statistics of these types, converted (null: none)."""
    return (
        pl.col("statistics")
        .list.eval(
            pl.when(pl.element().struct.field("type").is_in(types)).then(
                pl.element().struct.field("sum").cast(pl.Float64, strict=False)
                * pl.element()
                .struct.field("unit")
                .replace_strict(scales, default=None, return_dtype=pl.Float64)
            )
        )
        .list.drop_nulls()
        .list.sum()
        .replace(0.0, None)
    )


def _converted(value: str, unit: str, scales: dict[str, float]) -> pl.Expr:
    return pl.col(value).cast(pl.Float64, strict=False) * pl.col(unit).replace_strict(
        scales, default=None, return_dtype=pl.Float64
    )


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    span = (pl.col("_end") - pl.col("time")).dt.total_seconds() / 60
    values = {
        "workout_duration": pl.coalesce(_converted("duration", "durationUnit", _DURATION), span),
        "workout_energy": pl.coalesce(
            _converted("totalEnergyBurned", "totalEnergyBurnedUnit", _ENERGY),
            _statistic([QUANTITY + "ActiveEnergyBurned"], _ENERGY),
        ),
        "workout_distance": pl.coalesce(
            _converted("totalDistance", "totalDistanceUnit", _DISTANCE),
            _statistic(_DISTANCE_STATS, _DISTANCE),
        ),
    }
    index = ["user_id", "time", "end_time", "tz_offset_s", "source", "record_id"]
    long = (
        frame.with_columns(pl.col("_end").alias("end_time"))
        .select(*index, **values)
        .unpivot(index=index, variable_name="indicator", value_name="value")
        .filter(pl.col("value").is_not_null())
        .with_columns(pl.lit(None, pl.String).alias("unit"))
    )
    return with_unit(long)


WORKOUT = mapping_for(
    WORKOUT_TYPE,
    rows=_rows,
    paths=PATHS,
    ignored={
        "records.workoutActivityType": "the sport: a label",
        "records.duration": "mapped (rows)",
        "records.durationUnit": "the duration's unit",
        "records.totalDistance": "mapped (rows)",
        "records.totalDistanceUnit": "its unit",
        "records.totalEnergyBurned": "mapped (rows)",
        "records.totalEnergyBurnedUnit": "its unit",
        "records.statistics": "sums read when the totals are absent (active energy, distance); "
        "heart-rate statistics repeat the HeartRate records",
    },
)
