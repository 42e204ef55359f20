"""Withings `getintradayactivity`: one stored document per UTC day, `series` keyed by epoch
seconds (the keys are data, so the entries are cut out of the payload text in polars).

The response names no timezone: a sample's offset comes from the IANA `timezone` of the same
user's activity, sleep or workout record nearest in date in the batch being formatted, which
the pipeline completes with the user's stored zoned records within ZONE_SEARCH_DAYS; UTC when
there is none."""

from __future__ import annotations

import logging

import polars as pl

from indicators.catalogue import get_indicator
from indicators.timeutils import epoch_utc_expr
from indicators.units import indicator_conversion
from indicators.zones import offset_at_instant_expr
from providers.anchors import Anchors
from providers.formatting import COLUMNS, RecordMapping

log = logging.getLogger(__name__)
S, INT = pl.String(), pl.Int64()

# entry field -> (indicator, vendor unit)
INTRADAY_SAMPLES: dict[str, tuple[str, str]] = {
    "heart_rate": ("heart_rate", "/min"),
    "spo2_auto": ("spo2", "%"),
    "rmssd": ("hrv_rmssd", "ms"),
    "sdnn1": ("hrv_sdnn", "ms"),
    "rr": ("respiratory_rate", "/min"),  # breathing during sleep (whole breaths per minute)
}
_DAILY = (
    "the daily `activity` summary carries the day's total; the same source's epochs "
    "would add to it in the daily sum"
)
INTRADAY_IGNORED: dict[str, str] = {
    "steps": _DAILY,
    "distance": _DAILY,
    "calories": _DAILY,
    "elevation": _DAILY,
    "duration": "length of the epoch the counts cover; the counts are not mapped",
    "stroke": "swim strokes: no catalogue id",
    "pool_lap": "pool laps: no catalogue id",
    "hrv_quality": "quality score of rmssd/sdnn1, not a measurement",
    "core_body_temperature": "estimated core temperature: unit and method undocumented",
    "chest_movement_rate": "chest movements per minute: no catalogue id",
    "deviceid": "device id",
    "model": "device label",
    "model_id": "device label",
}
# Record types whose documents carry a local `date` and an IANA `timezone`.
_ZONED = ("activity", "sleep", "workouts")
_ENTRY = r'"\d+":\{[^{}]*\}'
ZONE_SEARCH_DAYS = 7  # how far from a document's day a zoned record is looked up in storage


def user_zones(raw: pl.DataFrame) -> pl.DataFrame:
    """(user_id, _zone_day, timezone) of every zoned Withings record in `raw`."""
    zoned = raw.filter(pl.col("record_type").is_in(_ZONED))
    doc = pl.col("payload").str.json_decode(pl.Struct({"date": S, "timezone": S}))
    return (
        zoned.select("user_id", doc.alias("_d"))
        .select(
            "user_id",
            pl.col("_d").struct.field("date").str.to_date(strict=False).alias("_zone_day"),
            pl.col("_d").struct.field("timezone"),
        )
        .drop_nulls()
        .unique(["user_id", "_zone_day"], keep="last")
        .sort("_zone_day")
    )


def _prepare(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """Join each document's payload text (the series keys are data) and its user's zone."""
    payloads = (
        raw.filter(pl.col("record_type") == "intraday")
        .select("user_id", pl.col("vendor_id").alias("record_id"), "payload")
        .unique(["user_id", "record_id"], keep="last")
    )
    frame = flat.collect().join(payloads, on=["user_id", "record_id"], how="left")
    frame = frame.with_columns(epoch_utc_expr("startdate").dt.date().alias("_zone_day")).sort(
        "_zone_day"
    )
    zones = user_zones(raw)
    joined = frame.join_asof(
        zones, on="_zone_day", by="user_id", strategy="nearest", check_sortedness=False
    )  # sorted by day; by-groups follow
    missing = joined.filter(pl.col("timezone").is_null()).height
    if missing:
        log.info(
            "withings intraday: %d documents without a zoned record nearby: the "
            "person's time zone gives their offsets",
            missing,
        )
    return joined.lazy()


def offset_in_zone(anchor: pl.Expr, zones: list[str]) -> pl.Expr:
    """Seconds east of UTC of `anchor` (a UTC instant) in each row's IANA `timezone`."""
    return offset_at_instant_expr(anchor, "timezone", zones)


def _rows(frame: pl.DataFrame) -> pl.DataFrame:
    entries = (
        frame.select(
            "user_id",
            "record_id",
            "source",
            "timezone",
            pl.col("payload").str.extract_all(_ENTRY).alias("_e"),
        )
        .explode("_e")
        .drop_nulls("_e")
        .with_columns(
            epoch_utc_expr(pl.col("_e").str.extract(r'^"(\d+)"', 1).cast(INT))
            .dt.cast_time_unit("us")
            .alias("time")
        )
    )
    values = [
        (
            pl.col("_e")
            .str.extract(rf'"{key}":\s*(-?[0-9.eE+-]+)', 1)
            .cast(pl.Float64, strict=False)
            * indicator_conversion(indicator, unit)[0]
            + indicator_conversion(indicator, unit)[1]
        ).alias(indicator)
        for key, (indicator, unit) in INTRADAY_SAMPLES.items()
    ]
    zones = entries.get_column("timezone").unique().drop_nulls().to_list()
    units = {i: get_indicator(i).unit for i, _ in INTRADAY_SAMPLES.values()}
    return (
        entries.with_columns(*values, offset_in_zone(pl.col("time"), zones).alias("tz_offset_s"))
        .unpivot(
            index=["user_id", "time", "tz_offset_s", "source", "record_id"],
            on=list(units),
            variable_name="indicator",
            value_name="value",
        )
        .filter(pl.col("value").is_not_null())
        .with_columns(
            pl.lit(None, pl.Datetime("us", "UTC")).alias("end_time"),
            pl.col("indicator").replace_strict(units, return_dtype=S).alias("unit"),
        )
        .select(COLUMNS)
    )


INTRADAY = RecordMapping(
    record_type="intraday",
    paths={"startdate": INT},
    prepare=_prepare,
    # the zone comes from the user's zoned records near in date: in the batch, else stored
    anchors=Anchors(_ZONED, days=ZONE_SEARCH_DAYS),
    time=epoch_utc_expr("startdate"),
    # rows carry each sample's own offset; without a zoned record nearby, the person's zone
    tz_offset_s=pl.when(pl.col("timezone").is_not_null()).then(pl.lit(0)),
    offset="utc",
    fields=(),
    rows=_rows,
    ignored={
        "day": "the person's local day the document covers (its identity)",
        "startdate": "request window start, stored with the document (day of the record)",
        "enddate": "request window end, stored with the document",
        "series": "entries keyed by epoch seconds, decoded by the rows hook",
        **{f"series.<epoch>.{key}": reason for key, reason in INTRADAY_IGNORED.items()},
    },
)
