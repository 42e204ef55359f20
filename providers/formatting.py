"""Vectorised formatting: a whole frame of raw records to normalised indicator rows.

Each record type declares a `RecordMapping`: the payload paths it decodes, how to compute
`time`/`end_time`/`tz_offset_s`, one `Field` (path, indicator, vendor unit) per mapped value,
and `ignored` paths with the reason. Payloads are decoded by polars' JSON reader against a
struct built from those paths; values are converted with one multiply-add per column."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from indicators.catalogue import get_indicator
from indicators.frames import INDICATOR_VALUE_COLUMNS
from indicators.quarantine import quarantine_counts, split_valid
from indicators.units import indicator_conversion
from providers.errors import UnknownPayloadShapeError, UnknownRecordTypeError
from providers.series import Series, explode_series

log = logging.getLogger(__name__)

OUTPUT_SCHEMA = INDICATOR_VALUE_COLUMNS
COLUMNS = list(OUTPUT_SCHEMA)

Prepare = Callable[[pl.LazyFrame, pl.DataFrame], pl.LazyFrame]


@dataclass(frozen=True)
class Field:
    """One payload value mapped to one catalogue indicator."""

    path: str
    indicator: str
    unit: str
    # "end": a night's value of a daily indicator (e.g. Withings' AHI) is dated at wake-up:
    # the row's time is the record's end_time and it has no end_time of its own.
    at: str = "start"


@dataclass(frozen=True)
class RecordMapping:
    """How one vendor record type becomes indicator rows.

    `paths` declares every payload path decoded (with its polars type) besides the fields;
    `time`, `end_time` and `tz_offset_s` are expressions over those path columns; `derived`
    columns are computed after them, in order (they may use `time`/`end_time`, and may
    replace `end_time`); `keep` drops records that legitimately carry no values (pending
    scores, ring not worn).
    """

    record_type: str
    fields: tuple[Field, ...]
    ignored: Mapping[str, str]
    paths: Mapping[str, pl.DataType]
    time: pl.Expr
    tz_offset_s: pl.Expr
    end_time: pl.Expr | None = None
    keep: pl.Expr | None = None
    device: pl.Expr | None = None
    series: tuple[Series, ...] = ()
    derived: Mapping[str, pl.Expr] = field(default_factory=dict)
    prepare: Prepare | None = None
    rows: Callable[[pl.DataFrame], pl.DataFrame] | None = None  # custom long rows
    field_dtype: pl.DataType = field(default_factory=pl.Float64)

    def __post_init__(self) -> None:
        for f in self.fields:
            get_indicator(f.indicator)  # unknown ids fail at import, not at run time
            indicator_conversion(f.indicator, f.unit)
        overlap = {f.path for f in self.fields} & set(self.ignored)
        if overlap:
            raise ValueError(f"{self.record_type}: paths both mapped and ignored: {overlap}")

    def decode_dtype(self) -> pl.Struct:
        leaves: dict[str, pl.DataType] = dict(self.paths)
        for f in self.fields:
            if f.path not in self.derived:
                leaves.setdefault(f.path, self.field_dtype)
        return _struct_of(leaves)

    def known_paths(self) -> set[str]:
        """Payload paths this mapping reads or deliberately ignores (derived names excluded)."""
        read = set(self.paths) | {f.path for f in self.fields} | {s.path for s in self.series}
        return (read - set(self.derived)) | set(self.ignored)


def _struct_of(leaves: Mapping[str, pl.DataType]) -> pl.Struct:
    tree: dict[str, object] = {}
    for path, dtype in leaves.items():
        node = tree
        *parents, leaf = path.split(".")
        for part in parents:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ValueError(f"path {path!r} nests under a leaf")
            node = child
        node[leaf] = dtype

    def build(node: Mapping[str, object]) -> pl.Struct:
        fields: dict[str, pl.DataType] = {}
        for key, value in node.items():
            fields[key] = build(value) if isinstance(value, dict) else value  # type: ignore[assignment]
        return pl.Struct(fields)

    return build(tree)


def _path_expr(path: str) -> pl.Expr:
    parts = path.split(".")
    expr = pl.col("_p").struct.field(parts[0])
    for part in parts[1:]:
        expr = expr.struct.field(part)
    return expr.alias(path)


def _fail(provider: str, mapping: RecordMapping, frame: pl.DataFrame, why: str) -> None:
    ids = frame.get_column("record_id").head(5).to_list()
    log.error("%s %s: %d records rejected (%s), e.g. %s", provider, mapping.record_type,
              frame.height, why, ids)
    raise UnknownPayloadShapeError(provider, mapping.record_type,
                                   f"{frame.height} records {why}, e.g. {ids}")


def _decode(payload: pl.Series, dtype: pl.Struct) -> pl.Series:
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
    unknown = {k for k in keys if not any(k == p or k.startswith(p + ".") or p.startswith(
        k + ".") for p in known)}
    for key in sorted(unknown):
        if (provider, mapping.record_type, key) not in _WARNED:
            _WARNED.add((provider, mapping.record_type, key))
            log.warning("%s %s: payload field %r is neither mapped nor ignored", provider,
                        mapping.record_type, key)


def _format_one(provider: str, mapping: RecordMapping, sub: pl.DataFrame,
                raw: pl.DataFrame) -> pl.DataFrame:
    try:
        decoded = sub.select(
            "user_id", pl.col("vendor_id").alias("record_id"), pl.col("day").alias("_day"),
            *([pl.col("payload")] if mapping.series else []),
        ).with_columns(_decode(sub.get_column("payload"), mapping.decode_dtype())).lazy()
        paths = list(dict.fromkeys([*mapping.paths, *(
            f.path for f in mapping.fields if f.path not in mapping.derived)]))
        flat = decoded.with_columns(_path_expr(p) for p in paths).drop("_p")
        if mapping.prepare is not None:
            # materialise first: a prepare step may collect (e.g. distinct zones) and must
            # not make polars decode the JSON twice
            flat = mapping.prepare(flat.collect().lazy(), raw)
        source = pl.lit(provider) if mapping.device is None else (
            pl.lit(provider + ".") + mapping.device).fill_null(pl.lit(provider))
        timed = flat.with_columns(
            mapping.time.dt.cast_time_unit("us").alias("time"),
            (mapping.end_time.dt.cast_time_unit("us") if mapping.end_time is not None
             else pl.lit(None, pl.Datetime("us", "UTC"))).alias("end_time"),
            mapping.tz_offset_s.cast(pl.Int32).alias("tz_offset_s"),
            source.alias("source"),
        )
        for name, expr in mapping.derived.items():  # in order: later ones may use earlier
            timed = timed.with_columns(expr.alias(name))
        frame = timed.collect()
        if mapping.keep is not None:
            kept = frame.filter(mapping.keep)
            if kept.height < frame.height:
                log.info("%s %s: %d of %d records skipped (pending or empty by design)",
                         provider, mapping.record_type, frame.height - kept.height, frame.height)
            frame = kept
    except pl.exceptions.PolarsError as exc:
        raise UnknownPayloadShapeError(provider, mapping.record_type,
                                       f"payload does not decode: {type(exc).__name__}"
                                       ) from exc
    _warn_unknown_keys(provider, mapping, sub)
    bad = frame.filter(pl.col("time").is_null())
    if bad.height:
        _fail(provider, mapping, bad, "lack the time anchor")
    return _to_rows(provider, mapping, frame)


def _to_rows(provider: str, mapping: RecordMapping, frame: pl.DataFrame) -> pl.DataFrame:
    index = ["user_id", "time", "end_time", "tz_offset_s", "source", "record_id"]
    converted = []
    units: dict[str, str] = {}
    for f in mapping.fields:
        scale, offset = indicator_conversion(f.indicator, f.unit)
        expr = pl.col(f.path).cast(pl.Float64) * scale
        converted.append((expr + offset if offset else expr).alias(f.indicator))
        units[f.indicator] = get_indicator(f.indicator).unit
    parts: list[pl.DataFrame] = []
    if converted:
        values = frame.select(*index, *converted)
        has_value = pl.any_horizontal(pl.col(list(units)).is_not_null())
        empty = values.filter(~has_value)
        if empty.height:
            _fail(provider, mapping, empty, "carry none of the mapped fields")
        long = values.unpivot(index=index, on=list(units), variable_name="indicator",
                              value_name="value").filter(pl.col("value").is_not_null())
        at_end = [f.indicator for f in mapping.fields if f.at == "end"]
        if at_end:
            moved = pl.col("indicator").is_in(at_end)
            long = long.with_columns(
                pl.when(moved).then(pl.col("end_time")).otherwise(pl.col("time")).alias("time"),
                pl.when(moved).then(None).otherwise(pl.col("end_time")).alias("end_time"))
        parts.append(long.with_columns(
            pl.col("indicator").replace_strict(units, return_dtype=pl.String).alias("unit")))
    for s in mapping.series:
        parts.append(explode_series(frame, s))
    if mapping.rows is not None:
        parts.append(mapping.rows(frame))
    if not parts:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    return pl.concat([p.select(COLUMNS) for p in parts], how="vertical")


@dataclass(frozen=True)
class Formatted:
    """Normalised rows that passed the contract, and the quarantined rest (with `reason`)."""

    values: pl.DataFrame
    quarantine: pl.DataFrame


def format_rows(provider: str, raw: pl.DataFrame,
                mappings: Mapping[str, RecordMapping]) -> pl.DataFrame:
    """Every raw record of `raw` to normalised rows (contract columns), before validation."""
    if raw.height == 0:
        return pl.DataFrame(schema=OUTPUT_SCHEMA)
    outputs: list[pl.DataFrame] = []
    for (record_type,), sub in raw.partition_by("record_type", as_dict=True).items():
        mapping = mappings.get(str(record_type))
        if mapping is None:
            raise UnknownRecordTypeError(provider, f"no mapping for record type {record_type!r}")
        rows = _format_one(provider, mapping, sub, raw)
        log.debug("%s %s: %d records -> %d rows", provider, record_type, sub.height, rows.height)
        outputs.append(rows)
    return pl.concat(outputs, how="vertical").cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]


def format_records(provider: str, raw: pl.DataFrame,
                   mappings: Mapping[str, RecordMapping]) -> Formatted:
    """Format, then split by the indicators contract (bounds, units, duplicate keys)."""
    valid, quarantine = split_valid(format_rows(provider, raw, mappings))
    if quarantine.height:
        log.warning("%s: %d rows quarantined: %s", provider, quarantine.height,
                    quarantine_counts(quarantine))
    return Formatted(valid, quarantine)
