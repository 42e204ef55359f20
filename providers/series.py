"""Sample series inside one document: objects keyed by a time offset or a local clock time
(Garmin `timeOffset*` maps keyed by seconds, Polar maps keyed by "HH:mm").

Their keys are data, so they cannot be decoded against a fixed struct: the object's JSON text
is cut out of the payload and split into key/value pairs, all in polars."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import polars as pl

from indicators.catalogue import get_indicator
from indicators.units import indicator_conversion


def _object_text(path: str, canonical: bool) -> pl.Expr:
    """The JSON text of the flat object at top-level `path`.

    Canonical payloads (no blank after a colon, as the raw store writes them) are cut with
    two literal searches; others with one regular expression; nested paths with a JSON path.
    """
    if "." in path:
        return pl.col("payload").str.json_path_match(f"$.{path}")
    if not canonical:
        return pl.col("payload").str.extract(rf'"{re.escape(path)}"\s*:\s*(\{{[^{{}}]*\}})', 1)
    key = f'"{path}":'
    found = pl.col("payload").str.find(key, literal=True)
    rest = pl.col("payload").str.slice(found + len(key))
    return rest.str.slice(0, rest.str.find("}", literal=True) + 1)


class KeyKind(StrEnum):
    OFFSET_SECONDS = "offset"  # seconds after the record's `time`
    LOCAL_CLOCK = "clock"  # "HH:mm" local wall time, rolled past midnight after `time`


@dataclass(frozen=True)
class Series:
    """A keyed object of samples mapped to one indicator (sample rows, no end time)."""

    path: str
    indicator: str
    unit: str
    keys: KeyKind = KeyKind.OFFSET_SECONDS
    min_valid: float | None = None  # vendor sentinels below this mean "not measured"

    def __post_init__(self) -> None:
        indicator_conversion(self.indicator, self.unit)


def explode_series(frame: pl.DataFrame, series: Series) -> pl.DataFrame:
    """One row per sample: time, value converted to the standard unit."""
    scale, offset = indicator_conversion(series.indicator, series.unit)
    canonical = not frame.get_column("payload").str.contains('": ', literal=True).any()
    # '{"0":58,"15":null}' -> '"0":58', '"15":null' -> key "0", value 58 (null is dropped)
    pairs = (
        frame.lazy()
        .select(
            "user_id",
            "record_id",
            "source",
            "tz_offset_s",
            pl.col("time").alias("anchor"),
            _object_text(series.path, canonical)
            .str.strip_chars("{} ")
            .str.split(",")
            .alias("_pair"),
        )
        .explode("_pair")
        .with_columns(pl.col("_pair").str.split_exact('":', 1).alias("_kv"))
        .with_columns(
            pl.col("_kv")
            .struct.field("field_0")
            .str.strip_chars()
            .str.strip_chars('"')
            .alias("_key"),
            pl.col("_kv")
            .struct.field("field_1")
            .str.strip_chars()
            .cast(pl.Float64, strict=False)
            .alias("_raw"),
        )
        .filter(
            pl.col("_key").is_not_null() & (pl.col("_key") != "") & pl.col("_raw").is_not_null()
        )
    )
    if series.min_valid is not None:
        pairs = pairs.filter(pl.col("_raw") >= series.min_valid)
    if series.keys is KeyKind.OFFSET_SECONDS:
        when = pl.col("anchor") + pl.duration(seconds=pl.col("_key").cast(pl.Int64))
    else:
        local_anchor = pl.col("anchor") + pl.duration(seconds=pl.col("tz_offset_s"))
        key = pl.col("_key")  # "HH:mm" or "H:mm"
        minutes = key.str.head(-3).cast(pl.Int64) * 60 + key.str.tail(2).cast(pl.Int64)
        local = local_anchor.dt.truncate("1d") + pl.duration(minutes=minutes)
        # A key earlier than the anchor's clock time (minus a minute of slack) is after midnight.
        local = (
            pl.when(local < local_anchor - pl.duration(minutes=1))
            .then(local + pl.duration(days=1))
            .otherwise(local)
        )
        when = local - pl.duration(seconds=pl.col("tz_offset_s"))
    value = pl.col("_raw") * scale
    return pairs.select(
        "user_id",
        pl.lit(series.indicator).alias("indicator"),
        when.dt.cast_time_unit("us").alias("time"),
        pl.lit(None, pl.Datetime("us", "UTC")).alias("end_time"),
        pl.col("tz_offset_s").cast(pl.Int32),
        (value + offset if offset else value).alias("value"),
        pl.lit(get_indicator(series.indicator).unit).alias("unit"),
        "source",
        "record_id",
    ).collect()
