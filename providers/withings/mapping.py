"""Withings records to catalogue indicators: `getmeas` groups (`value * 10^unit`, meastype
codes), daily activity and workouts (sleep summaries: `providers.withings.sleep`). Times are
epoch seconds or local dates with an IANA timezone, converted per distinct zone."""

from __future__ import annotations

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import epoch_utc_expr
from indicators.units import indicator_conversion
from providers.errors import RecordFormatError
from providers.formatting import COLUMNS, Field, RecordMapping
from providers.withings.intraday import offset_in_zone
from providers.withings.sleep import SLEEP

S, INT, F = pl.String(), pl.Int64(), pl.Float64()

# meastype -> (indicator, unit of value * 10^unit)
MEASTYPES: dict[int, tuple[str, str]] = {
    1: ("weight", "kg"),
    4: ("height", "m"),
    5: ("fat_free_mass", "kg"),
    6: ("body_fat_percentage", "%"),
    8: ("fat_mass", "kg"),
    9: ("blood_pressure_diastolic", "mm[Hg]"),
    10: ("blood_pressure_systolic", "mm[Hg]"),
    11: ("heart_rate", "/min"),
    12: ("body_temperature", "Cel"),
    54: ("spo2", "%"),
    71: ("body_temperature", "Cel"),
    73: ("skin_temperature", "Cel"),
    76: ("muscle_mass", "kg"),
    77: ("body_water_mass", "kg"),
    88: ("bone_mass", "kg"),
    91: ("pulse_wave_velocity", "m/s"),
    123: ("vo2max", "mL/(kg.min)"),
}
IGNORED_MEASTYPES: dict[int, str] = {
    130: "AFib classification (an enum)",
    135: "ECG QRS interval: no catalogue id",
    136: "ECG PR interval",
    137: "ECG QT interval",
    138: "ECG QTc interval",
    139: "AFib from PPG (an enum)",
    155: "vascular age: no catalogue id",
    167: "nerve health score: no catalogue id",
    168: "extracellular water: no catalogue id",
    169: "intracellular water: no catalogue id",
    170: "visceral fat index: no catalogue id",
    173: "segmental fat-free mass",
    174: "segmental fat mass",
    175: "segmental muscle mass",
    196: "electrodermal activity",
    226: "BMR estimate (a rate, not a day's energy)",
    227: "metabolic age",
    229: "ESC score",
}
_TABLE = pl.DataFrame(
    {
        "_type": list(MEASTYPES),
        "indicator": [i for i, _ in MEASTYPES.values()],
        "_scale": [indicator_conversion(i, u)[0] for i, u in MEASTYPES.values()],
        "_offset": [indicator_conversion(i, u)[1] for i, u in MEASTYPES.values()],
        "unit": [get_indicator(i).unit for i, _ in MEASTYPES.values()],
    },
    schema={"_type": INT, "indicator": S, "_scale": pl.Float64, "_offset": pl.Float64, "unit": S},
)


def _zone_offsets(flat: pl.LazyFrame, raw: pl.DataFrame, anchor: pl.Expr) -> pl.LazyFrame:
    """`_tz_offset_s` of `anchor` (a UTC instant) in each row's IANA `timezone`."""
    zones = [z for z in flat.select(pl.col("timezone").unique()).collect().to_series() if z]
    return flat.with_columns(offset_in_zone(anchor, zones).alias("_tz_offset_s"))


def _local_midnights(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """Activity rows: the UTC instant of 00:00 local on `date`, and its offset."""
    zones = [z for z in flat.select(pl.col("timezone").unique()).collect().to_series() if z]
    naive = pl.col("date").str.to_date().cast(pl.Datetime("us"))
    expr = pl.lit(None, pl.Datetime("us", "UTC"))
    for zone in zones:
        utc = naive.dt.replace_time_zone(
            zone, ambiguous="earliest", non_existent="null"
        ).dt.convert_time_zone("UTC")
        expr = pl.when(pl.col("timezone") == zone).then(utc).otherwise(expr)
    flat = flat.with_columns(expr.alias("_midnight"))
    return _zone_offsets(flat, raw, pl.col("_midnight"))


def _measure_rows(frame: pl.DataFrame) -> pl.DataFrame:
    long = (
        frame.select(
            "user_id", "time", "end_time", "tz_offset_s", "source", "record_id", "measures"
        )
        .explode("measures")
        .filter(pl.col("measures").is_not_null())
    )
    long = long.with_columns(pl.col("measures").struct.unnest().name.prefix("_"))
    known = set(MEASTYPES) | set(IGNORED_MEASTYPES)
    unknown = long.filter(~pl.col("_type").is_in(list(known)))
    if unknown.height:
        codes = sorted(unknown["_type"].unique().to_list())
        raise RecordFormatError(
            "withings",
            "measure",
            f"unknown meastype codes {codes}",
            field="measures[].type",
            reason="unknown_code",
            record_ids=tuple(unknown["record_id"].unique().to_list()),
        )
    joined = long.join(_TABLE.lazy().collect(), on="_type", how="inner")
    raw_value = pl.col("_value").cast(pl.Float64) * pl.lit(10.0).pow(pl.col("_unit"))
    return joined.with_columns(
        (raw_value * pl.col("_scale") + pl.col("_offset")).alias("value")
    ).select(COLUMNS)


MEASURE = RecordMapping(
    record_type="measure",
    paths={
        "date": INT,
        "timezone": S,
        "category": INT,
        "measures": pl.List(pl.Struct({"value": INT, "type": INT, "unit": INT})),
    },
    prepare=lambda flat, raw: _zone_offsets(flat, raw, epoch_utc_expr("date")),
    time=epoch_utc_expr("date"),
    tz_offset_s=pl.col("_tz_offset_s"),
    keep=pl.col("category") == 1,  # 2 = objectives (targets), not measurements
    fields=(),
    rows=_measure_rows,
    ignored={
        "grpid": "kept as record_id",
        "attrib": "device/manual attribution",
        "created": "bookkeeping",
        "modified": "raw record version",
        "deviceid": "device id",
        "hash_deviceid": "device id",
        "model": "device label",
        "model_id": "device label",
        "comment": "free text",
        "timezone": "copied from the getmeas envelope; gives tz_offset_s",
    },
)

ACTIVITY = RecordMapping(
    record_type="activity",
    paths={"date": S, "timezone": S},
    prepare=_local_midnights,
    time=pl.col("_midnight"),
    time_field="date",
    derived={"end_time": pl.col("time") + pl.duration(days=1)},
    tz_offset_s=pl.col("_tz_offset_s"),
    fields=(
        Field("steps", "steps", "{steps}"),
        Field("distance", "distance", "m"),
        Field("elevation", "floors_climbed", "{floors}"),
        Field("soft", "light_activity_duration", "s"),
        Field("moderate", "moderate_activity_duration", "s"),
        Field("intense", "vigorous_activity_duration", "s"),
        Field("calories", "active_energy", "kcal"),
        Field("totalcalories", "total_energy", "kcal"),
        Field("hr_average", "average_heart_rate", "/min"),
        Field("hr_min", "min_heart_rate", "/min"),
        Field("hr_max", "max_heart_rate", "/min"),
    ),
    ignored={
        "date": "time",
        "timezone": "tz_offset_s",
        "deviceid": "device id",
        "hash_deviceid": "device id",
        "brand": "1 Withings / 18 external source",
        "model": "device label (Pulse HR, ScanWatch...)",
        "modelid": "device code",
        "is_tracker": "flag",
        "modified": "raw record version",
        "active": "moderate + intense, both mapped",
        **{
            f"hr_zone_{i}": "Withings' four zones have other bounds than the catalogue's "
            "zones 0-5 (WHOOP's % of max HR)"
            for i in range(4)
        },
    },
)

_WORKOUT_START, _WORKOUT_END = epoch_utc_expr("startdate"), epoch_utc_expr("enddate")
WORKOUTS = RecordMapping(
    record_type="workouts",
    paths={
        "startdate": INT,
        "enddate": INT,
        "timezone": S,
        "data.distance": F,
        "data.manual_distance": F,
        "data.calories": F,
        "data.manual_calories": F,
    },
    prepare=lambda flat, raw: _zone_offsets(flat, raw, _WORKOUT_START),
    time=_WORKOUT_START,
    end_time=_WORKOUT_END,
    tz_offset_s=pl.col("_tz_offset_s"),
    # A workout logged by hand carries only the manual_* values.
    derived={
        "duration_s": (pl.col("end_time") - pl.col("time")).dt.total_seconds(),
        "distance_m": pl.coalesce("data.distance", "data.manual_distance"),
        "energy_kcal": pl.coalesce("data.calories", "data.manual_calories"),
    },
    fields=(
        Field("duration_s", "workout_duration", "s"),
        Field("energy_kcal", "workout_energy", "kcal"),
        Field("distance_m", "workout_distance", "m"),
        Field("data.hr_average", "workout_average_heart_rate", "/min"),
        Field("data.hr_max", "workout_max_heart_rate", "/min"),
    ),
    ignored={
        "id": "kept as record_id",
        "category": "sport (a label)",
        "timezone": "tz_offset_s",
        "model": "device label",
        "attrib": "device/manual attribution",
        "startdate": "time",
        "enddate": "end_time (duration = enddate - startdate)",
        "date": "local day",
        "modified": "raw record version",
        "deviceid": "device id",
        "data.intensity": "user-rated 0-100 intensity",
        "data.manual_intensity": "user rating",
        "data.hr_min": "no workout minimum heart-rate id",
        **{
            f"data.hr_zone_{i}": "Withings' four zones have other bounds than the catalogue's "
            "zones 0-5"
            for i in range(4)
        },
        "data.pause_duration": "inside startdate-enddate as Withings reports it",
        "data.algo_pause_duration": "inside startdate-enddate (swims)",
        "data.spo2_average": "a workout average: spo2 is a reading, no session id",
        "data.steps": "the daily activity summary's steps (the day's total) count them already",
        "data.elevation": "floors climbed (per the spec), not metres of ascent: "
        "workout_elevation_gain would need a guessed height per floor, and the daily "
        "activity summary counts the floors already",
        "data.pool_laps": "no catalogue id",
        "data.pool_length": "no catalogue id",
        "data.strokes": "no catalogue id",
        "data.core_body_temperature_avg": "estimated core temperature: no session id",
        "data.core_body_temperature_min": "no session id",
        "data.core_body_temperature_max": "no session id",
        "data.core_body_temperature_status": "a label",
    },
)

MAPPINGS = {m.record_type: m for m in (MEASURE, ACTIVITY, SLEEP, WORKOUTS)}
