"""The vectorised core: every raw record of one record type to normalised indicator rows.

Payloads are decoded by polars' JSON reader against the mapping's struct; values are converted
with one multiply-add per column. A record that decodes but has no usable time, or none of
the mapped fields, is returned as a failure (the rest of the group is formatted); an error
that stops the whole group (a value of the wrong type, a hook that refuses a record) is
raised as `RecordFormatError`, and `providers.formatting` isolates the records at fault."""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass

import polars as pl

from indicators.catalogue import get_indicator
from indicators.quarantine import RECORD_FAILURE_COLUMNS
from indicators.units import indicator_conversion
from indicators.zones import OffsetSource
from providers.errors import RecordFormatError
from providers.mapping import COLUMNS, OUTPUT_SCHEMA, RecordMapping
from providers.series import explode_series

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GroupRows:
    """Rows of the records that formatted, and the records that did not (with why)."""

    rows: pl.DataFrame
    failures: pl.DataFrame


def failure_frame(
    provider: str,
    mapping_type: str,
    records: pl.DataFrame,
    reason: str,
    field: str | pl.Expr | None,
    detail: str | pl.Expr,
) -> pl.DataFrame:
    """Failure rows (RECORD_FAILURE_COLUMNS) for the raw `records` (vendor_id, user_id, day)."""
    return records.select(
        "user_id",
        pl.lit(provider).alias("provider"),
        pl.lit(mapping_type).alias("record_type"),
        pl.col("vendor_id").alias("record_id"),
        "day",
        _text(field).alias("field_path"),
        pl.lit(reason).alias("reason"),
        _text(detail).alias("detail"),
    ).cast(RECORD_FAILURE_COLUMNS)  # type: ignore[arg-type]


def _text(value: str | pl.Expr | None) -> pl.Expr:
    return value if isinstance(value, pl.Expr) else pl.lit(value, pl.String)


def no_failures() -> pl.DataFrame:
    return pl.DataFrame(schema=RECORD_FAILURE_COLUMNS)


def _path_expr(path: str) -> pl.Expr:
    parts = path.split(".")
    expr = pl.col("_p").struct.field(parts[0])
    for part in parts[1:]:
        expr = expr.struct.field(part)
    return expr.alias(path)


def decode(payload: pl.Series, dtype: pl.Struct) -> pl.Series:
    """Payload JSON text to a struct column `_p`, read as NDJSON in one pass (several times
    faster than decoding string by string); texts with raw newlines take the slower path."""
    if payload.str.contains("\n", literal=True).any():
        return payload.str.json_decode(dtype).alias("_p")
    text = payload.str.join("\n").cast(pl.Binary).item()  # bytes, without a Python str copy
    frame = pl.read_ndjson(io.BytesIO(text), schema={f.name: f.dtype for f in dtype.fields})
    if frame.height != payload.len():
        raise pl.exceptions.ComputeError("NDJSON row count differs from the payload count")
    return frame.select(pl.struct(pl.all()).alias("_p")).to_series()


_WARNED: set[tuple[str, str, str]] = set()


def _flat_keys(doc: object, prefix: str = "") -> set[str]:
    if not isinstance(doc, dict):
        return set()
    keys = set()
    for key, value in doc.items():
        keys.add(prefix + key)
        keys |= _flat_keys(value, f"{prefix}{key}.")
    return keys


def _warn_unknown_keys(provider: str, mapping: RecordMapping, sub: pl.DataFrame) -> None:
    """Name (once) payload keys that the mapping neither maps nor ignores: the vendor added a
    field, or renamed one; the first record of each batch is checked."""
    known = mapping.known_paths()
    keys = _flat_keys(json.loads(sub.get_column("payload")[0]))
    unknown = {
        k
        for k in keys
        if not any(k == p or k.startswith(p + ".") or p.startswith(k + ".") for p in known)
    }
    for key in sorted(unknown):
        if (provider, mapping.record_type, key) not in _WARNED:
            _WARNED.add((provider, mapping.record_type, key))
            log.warning(
                "%s %s: payload field %r is neither mapped nor ignored",
                provider,
                mapping.record_type,
                key,
            )


def _decoded(provider: str, mapping: RecordMapping, sub: pl.DataFrame) -> pl.LazyFrame:
    try:
        struct = decode(sub.get_column("payload"), mapping.decode_dtype())
    except pl.exceptions.PolarsError as exc:
        raise RecordFormatError(
            provider,
            mapping.record_type,
            f"payload does not decode: {type(exc).__name__}: {exc}",
            reason="does_not_decode",
        ) from exc
    return (
        sub.select(
            "user_id",
            pl.col("vendor_id").alias("record_id"),
            pl.col("day").alias("_day"),
            *([pl.col("payload")] if mapping.series else []),
        )
        .with_columns(struct)
        .lazy()
    )


def _timed(
    provider: str, mapping: RecordMapping, sub: pl.DataFrame, raw: pl.DataFrame
) -> pl.DataFrame:
    decoded = _decoded(provider, mapping, sub)
    try:
        paths = list(
            dict.fromkeys(
                [*mapping.paths, *(f.path for f in mapping.fields if f.path not in mapping.derived)]
            )
        )
        flat = decoded.with_columns(_path_expr(p) for p in paths).drop("_p")
        if mapping.prepare is not None:
            # materialise first: a prepare step may collect (e.g. distinct zones) and must
            # not make polars decode the JSON twice
            flat = mapping.prepare(flat.collect().lazy(), raw)
        source = (
            pl.lit(provider)
            if mapping.device is None
            else (pl.lit(provider + ".") + mapping.device).fill_null(pl.lit(provider))
        )
        timed = flat.with_columns(
            mapping.time.dt.cast_time_unit("us").alias("time"),
            (
                mapping.end_time.dt.cast_time_unit("us")
                if mapping.end_time is not None
                else pl.lit(None, pl.Datetime("us", "UTC"))
            ).alias("end_time"),
            mapping.tz_offset_s.cast(pl.Int32).alias("tz_offset_s"),
            source.alias("source"),
        ).with_columns(
            _offset_source(mapping),
            pl.col("tz_offset_s").fill_null(0)
            if mapping.offset in ("utc", "wall")
            else pl.col("tz_offset_s"),
        )
        for name, expr in mapping.derived.items():  # in order: later ones may use earlier
            timed = timed.with_columns(expr.alias(name))
        frame = timed.collect()
        if mapping.keep is not None:
            kept = frame.filter(mapping.keep)
            if kept.height < frame.height:
                log.info(
                    "%s %s: %d of %d records skipped (pending or empty by design)",
                    provider,
                    mapping.record_type,
                    frame.height - kept.height,
                    frame.height,
                )
            frame = kept
    except pl.exceptions.PolarsError as exc:
        raise RecordFormatError(
            provider, mapping.record_type, f"payload does not format: {type(exc).__name__}: {exc}"
        ) from exc
    return frame


def _offset_source(mapping: RecordMapping) -> pl.Expr:
    """What the vendor stated about each record's offset (indicators.zones.OffsetSource); a
    null offset of a "utc" or "wall" mapping is resolved later with the person's zone."""
    stated = pl.lit(str(OffsetSource.DAY if mapping.offset == "day" else OffsetSource.VENDOR))
    if mapping.offset in ("utc", "wall"):
        unknown = OffsetSource.UNKNOWN_UTC if mapping.offset == "utc" else OffsetSource.UNKNOWN_WALL
        stated = (
            pl.when(pl.col("tz_offset_s").is_null()).then(pl.lit(str(unknown))).otherwise(stated)
        )
    return stated.alias("offset_source")


def _records_of(rows: pl.DataFrame, sub: pl.DataFrame) -> pl.DataFrame:
    """The raw records (of `sub`) that rows came from; a row standing for several records
    (Garmin epoch parts summed per bucket) names them comma-joined."""
    ids = rows.select(pl.col("record_id").str.split(",").alias("vendor_id")).explode("vendor_id")
    ids = pl.concat([ids, rows.select(pl.col("record_id").alias("vendor_id"))]).unique()
    return sub.join(ids, on="vendor_id", how="semi")


def _time_failures(
    provider: str, mapping: RecordMapping, bad: pl.DataFrame, sub: pl.DataFrame
) -> pl.DataFrame:
    records = _records_of(bad, sub)
    anchors = mapping.anchors
    if anchors is not None and anchors.id_path is not None:
        key = pl.col("payload").str.json_path_match(f"$.{anchors.id_path}")
        detail = (
            pl.lit(f"lacks the time anchor: {anchors.id_path} ")
            + key.fill_null("(absent)")
            + pl.lit(f": its {'/'.join(anchors.record_types)} is neither in the batch nor stored")
        )
        return failure_frame(
            provider, mapping.record_type, records, "missing_anchor", anchors.id_path, detail
        )
    paths = mapping.time_paths()
    if not paths:
        return failure_frame(
            provider, mapping.record_type, records, "missing_time", None, "lacks the time anchor"
        )
    # (a path into a list names no single value: some entry of it does not parse)
    values = {p: pl.col("payload").str.json_path_match(f"$.{p}") for p in paths if "[]" not in p}
    missing = pl.coalesce(
        pl.lit(None, pl.String), *(pl.when(v.is_null()).then(pl.lit(p)) for p, v in values.items())
    )
    first = values.get(paths[0])
    found = (
        pl.lit(f"{paths[0]}: an entry")
        if first is None
        else pl.lit(f"{paths[0]} = ") + first.fill_null("")
    )
    named = records.with_columns(missing.alias("_missing"), found.alias("_found"))
    return pl.concat(
        [
            failure_frame(
                provider,
                mapping.record_type,
                named.filter(pl.col("_missing").is_not_null()),
                "missing_time",
                pl.col("_missing"),
                pl.lit("lacks the time anchor: ")
                + pl.col("_missing")
                + pl.lit(" is absent or null"),
            ),
            failure_frame(
                provider,
                mapping.record_type,
                named.filter(pl.col("_missing").is_null()),
                "unparsable_time",
                pl.lit(paths[0]),
                pl.lit("lacks the time anchor: ")
                + pl.col("_found")
                + pl.lit(" does not parse as a time"),
            ),
        ]
    )


def format_group(
    provider: str, mapping: RecordMapping, sub: pl.DataFrame, raw: pl.DataFrame
) -> GroupRows:
    """Rows of `sub` (raw records of `mapping`'s type); `raw` is every record at hand (the
    batch plus context), for hooks that date a record by another."""
    if sub.height == 0:
        return GroupRows(pl.DataFrame(schema=OUTPUT_SCHEMA), no_failures())
    frame = _timed(provider, mapping, sub, raw)
    _warn_unknown_keys(provider, mapping, sub)
    failures = []
    timeless = pl.col("time").is_null()
    if frame.select(timeless.any()).item():
        failures.append(_time_failures(provider, mapping, frame.filter(timeless), sub))
    failed_ids = pl.concat(failures).get_column("record_id") if failures else None
    if failed_ids is not None:
        frame = frame.filter(~_ids_in(failed_ids))
    rows, empty = _to_rows(provider, mapping, frame)
    if empty.height:
        label = mapping.fields_label()
        failures.append(
            failure_frame(
                provider,
                mapping.record_type,
                _records_of(empty, sub),
                "no_mapped_fields",
                label,
                f"carries none of the mapped fields ({label})",
            )
        )
        rows = rows.filter(~_ids_in(failures[-1].get_column("record_id")))
    return GroupRows(rows, pl.concat(failures) if failures else no_failures())


def _ids_in(ids: pl.Series) -> pl.Expr:
    """Rows whose record_id (or one of its comma-joined parts) is among `ids`."""
    listed = ids.unique().implode()
    return (
        pl.col("record_id").is_in(listed)
        | pl.col("record_id").str.split(",").list.eval(pl.element().is_in(listed)).list.any()
    )


def _to_rows(
    provider: str, mapping: RecordMapping, frame: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Long rows, and the rows of records that carry none of the mapped fields."""
    index = ["user_id", "time", "end_time", "tz_offset_s", "source", "record_id"]
    converted = []
    units: dict[str, str] = {}
    for f in mapping.fields:
        scale, offset = indicator_conversion(f.indicator, f.unit)
        expr = pl.col(f.path).cast(pl.Float64) * scale
        converted.append((expr + offset if offset else expr).alias(f.indicator))
        units[f.indicator] = get_indicator(f.indicator).unit
    parts: list[pl.DataFrame] = []
    empty = frame.clear().select("record_id")
    if converted:
        values = frame.select(*index, *converted)
        has_value = pl.any_horizontal(pl.col(list(units)).is_not_null())
        empty = values.filter(~has_value).select("record_id")
        long = values.unpivot(
            index=index, on=list(units), variable_name="indicator", value_name="value"
        ).filter(pl.col("value").is_not_null())
        at_end = [f.indicator for f in mapping.fields if f.at == "end"]
        if at_end:
            moved = pl.col("indicator").is_in(at_end)
            long = long.with_columns(
                pl.when(moved).then(pl.col("end_time")).otherwise(pl.col("time")).alias("time"),
                pl.when(moved).then(None).otherwise(pl.col("end_time")).alias("end_time"),
            )
        parts.append(
            long.with_columns(
                pl.col("indicator").replace_strict(units, return_dtype=pl.String).alias("unit")
            )
        )
    for s in mapping.series:
        parts.append(explode_series(frame, s))
    if mapping.rows is not None:
        parts.append(mapping.rows(frame))
    if not parts:
        return pl.DataFrame(schema=OUTPUT_SCHEMA), empty
    # every row of a record shares what its vendor stated about the offset
    stated = frame.select("record_id", "offset_source").unique("record_id")
    rows = pl.concat([p.select(COLUMNS) for p in parts], how="vertical")
    return rows.join(stated, on="record_id", how="left", maintain_order="left").with_columns(
        pl.col("offset_source").fill_null(str(OffsetSource.VENDOR))
    ), empty
