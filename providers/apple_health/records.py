"""What every Apple Health document shares: decoding its `records`, their times and offsets,
their source, and the RecordMapping shell each HealthKit type fills in."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import polars as pl

from indicators.catalogue import CATALOGUE
from providers.errors import RecordFormatError
from providers.mapping import COLUMNS, RecordMapping

S = pl.String()
PROVIDER = "apple_health"
RECORD_FIELDS = {
    "sourceName": S,
    "sourceVersion": S,
    "device": S,
    "unit": S,
    "creationDate": S,
    "startDate": S,
    "endDate": S,
    "value": S,
}
RECORD_PATHS: dict[str, pl.DataType] = {
    "type": S,
    "day": S,
    "problem": S,
    "records": pl.List(pl.Struct(RECORD_FIELDS)),
}
COMMON_IGNORED = {
    "type": "the HealthKit type, also the record type",
    "day": "the local day the records were grouped by (implied by each record's time)",
    "problem": "why the import isolated this record (the failure names it)",
    "records.startDate": "time (with its own offset)",
    "records.endDate": "end time",
    "records.sourceName": "the source, unless the device names it",
    "records.device": "the source (model: Watch or iPhone)",
    "records.sourceVersion": "app or OS version, not a measurement",
    "records.creationDate": "when the sample was saved, not measured",
    "records.metadata": "HealthKit metadata (motion context, time zone name, "
    "sync identifiers): context, no value",
    "records.HeartRateVariabilityMetadataList": "beat-by-beat instantaneous bpm at clock "
    "times without a date: the SDNN is mapped",
}
_UNITS = {entry.id: entry.unit for entry in CATALOGUE.values()}
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"


def utc(column: str) -> pl.Expr:
    """`2025-03-30 07:12:00 +0200` to the UTC instant (null when it does not parse)."""
    return (
        pl.col(column)
        .str.to_datetime(STAMP_FORMAT, strict=False, time_unit="us")
        .dt.convert_time_zone("UTC")
    )


def offset_s(column: str) -> pl.Expr:
    """The written offset in seconds (+0200 -> 7200; -0930 -> -34200)."""
    text = pl.col(column)
    sign = pl.when(text.str.slice(20, 1) == "-").then(-1).otherwise(1)
    hours = text.str.slice(21, 2).cast(pl.Int32, strict=False)
    minutes = text.str.slice(23, 2).cast(pl.Int32, strict=False)
    return (sign * (hours * 3600 + minutes * 60)).cast(pl.Int32)


def apple_source(device: pl.Expr, source_name: pl.Expr) -> pl.Expr:
    """`apple_health.watch` / `.iphone` by the device's model, else the writing app or
    device by name (`Oura` -> `apple_health.oura`)."""
    slug = source_name.str.to_lowercase().str.replace_all(r"[^a-z0-9]+", "_").str.strip_chars("_")
    kind = (
        pl.when(device.str.contains("model:Watch", literal=True))
        .then(pl.lit("watch"))
        .when(device.str.contains("model:iPhone", literal=True))
        .then(pl.lit("iphone"))
        .when(slug.str.len_chars() > 0)
        .then(slug)
        .otherwise(pl.lit("unknown"))
    )
    return pl.lit(PROVIDER + ".") + kind


def check_problems(flat: pl.DataFrame, record_type: str) -> None:
    """A document the import isolated as unreadable fails with the import's reason."""
    bad = flat.filter(pl.col("problem").is_not_null())
    if bad.height == 0:
        return
    first = bad.row(0, named=True)
    problem = str(first["problem"])
    key = problem.split(" ", 1)[0]
    is_time = key in ("startDate", "endDate")
    raise RecordFormatError(
        PROVIDER,
        record_type,
        problem,
        field=f"records[].{key}",
        reason="unparsable_time"
        if is_time
        else ("unknown_code" if "category" in problem else "format_error"),
        record_ids=(str(first["record_id"]),),
    )


def explode_records(flat: pl.LazyFrame, raw: pl.DataFrame) -> pl.LazyFrame:
    """One row per record of each document, with `_time`, `_end`, `_offset`, `_end_offset`
    and `source`."""
    frame = flat.collect()
    check_problems(frame, str(frame.get_column("type")[0]) if frame.height else "")
    fields = list(frame.schema["records"].inner.fields)  # type: ignore[attr-defined]
    rows = (
        frame.explode("records")
        .with_columns(pl.col("records").struct.field(f.name) for f in fields)
        .drop("records")
    )
    return rows.lazy().with_columns(
        utc("startDate").alias("_time"),
        utc("endDate").alias("_end"),
        offset_s("startDate").alias("_offset"),
        offset_s("endDate").alias("_end_offset"),
        apple_source(pl.col("device").fill_null(""), pl.col("sourceName").fill_null("")).alias(
            "_source"
        ),
    )


def no_duplicate_keys(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per (user, indicator, source, time): samples of one source starting at the
    same instant add up (cumulative types) or average (readings); with the catalogue unit."""
    keys = ["user_id", "indicator", "source", "time"]
    merged = rows.group_by(keys, maintain_order=True).agg(
        pl.col("end_time").max(),
        pl.col("tz_offset_s").first(),
        pl.when(pl.col("cumulative").first())
        .then(pl.col("value").sum())
        .otherwise(pl.col("value").mean())
        .alias("value"),
        pl.col("record_id").first(),
    )
    return merged.with_columns(
        pl.col("indicator").replace_strict(_UNITS, return_dtype=pl.String).alias("unit")
    ).select(COLUMNS)


def with_unit(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(
        pl.col("indicator").replace_strict(_UNITS, return_dtype=pl.String).alias("unit")
    ).select(COLUMNS)


def mapping_for(
    hk_type: str,
    *,
    rows: Callable[[pl.DataFrame], pl.DataFrame],
    ignored: Mapping[str, str],
    paths: Mapping[str, pl.DataType] | None = None,
) -> RecordMapping:
    """The RecordMapping of one HealthKit type: records exploded, each on its own time and
    offset, values built by `rows`."""
    return RecordMapping(
        record_type=hk_type,
        paths=dict(paths or RECORD_PATHS),
        prepare=explode_records,
        time=pl.col("_time"),
        time_field="records[].startDate",
        tz_offset_s=pl.col("_offset"),
        device=None,
        derived={"source": pl.col("_source")},
        fields=(),
        rows=rows,
        ignored={**COMMON_IGNORED, **ignored},
    )
