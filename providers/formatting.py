"""Vectorised formatting: a whole frame of raw records to normalised indicator rows, with the
records that cannot be formatted isolated from the rest.

Each record type declares a `RecordMapping` (see `providers.mapping`): the payload paths it
decodes, how to compute `time`/`end_time`/`tz_offset_s`, one `Field` (path, indicator, vendor
unit) per mapped value, and `ignored` paths with the reason. Each record type's records are
formatted together in one vectorised pass (`providers.vectorised`). When that pass raises,
the batch is bisected down to the records at fault; each is reported with the payload field
that stopped it (`providers.diagnose`), and the others are formatted together again."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from indicators.quarantine import quarantine_counts, split_valid
from indicators.zones import resolve_offsets
from providers.anchors import with_context
from providers.diagnose import diagnose
from providers.errors import ProviderError, RecordFormatError
from providers.mapping import COLUMNS, OUTPUT_SCHEMA, Field, Prepare, RecordMapping
from providers.vectorised import GroupRows, failure_frame, format_group, no_failures

__all__ = [
    "COLUMNS",
    "OUTPUT_SCHEMA",
    "Field",
    "Formatted",
    "Isolated",
    "Prepare",
    "RecordMapping",
    "format_isolated",
    "format_records",
    "format_rows",
]

log = logging.getLogger(__name__)
_FAULTS = (pl.exceptions.PolarsError, ProviderError)


@dataclass(frozen=True)
class Formatted:
    """Normalised rows that passed the contract, and the quarantined rest (with `reason`)."""

    values: pl.DataFrame
    quarantine: pl.DataFrame


@dataclass(frozen=True)
class Isolated:
    """Rows of every record that formatted (contract columns, not yet validated), and one
    failure row per record that did not (indicators.quarantine.RECORD_FAILURE_COLUMNS)."""

    rows: pl.DataFrame
    failures: pl.DataFrame


def _without(sub: pl.DataFrame, failures: pl.DataFrame) -> pl.DataFrame:
    return sub.join(
        failures.select(pl.col("record_id").alias("vendor_id")), on="vendor_id", how="anti"
    )


def _merge(results: list[GroupRows]) -> GroupRows:
    return GroupRows(
        pl.concat([r.rows for r in results], how="vertical"),
        pl.concat([r.failures for r in results], how="vertical"),
    )


def _isolate(
    provider: str, mapping: RecordMapping, sub: pl.DataFrame, raw: pl.DataFrame
) -> GroupRows:
    """Format `sub` in one pass; if that raises, find the records at fault (named by the
    error, else by bisection) and format the others in one pass again."""
    try:
        return format_group(provider, mapping, sub, raw)
    except _FAULTS as exc:
        if sub.height == 1:
            return GroupRows(
                pl.DataFrame(schema=OUTPUT_SCHEMA), diagnose(provider, mapping, sub, raw, exc)
            )
        named = (
            sub.filter(pl.col("vendor_id").is_in(list(exc.record_ids)))
            if isinstance(exc, RecordFormatError) and exc.record_ids
            else None
        )
        if named is not None and named.height:
            failed = pl.concat(
                [diagnose(provider, mapping, named[i], raw, exc) for i in range(named.height)]
            )
            rest = _isolate(provider, mapping, _without(sub, failed), raw)
            return GroupRows(rest.rows, pl.concat([failed, rest.failures]))
        half = sub.height // 2
        halves = _merge(
            [
                _isolate(provider, mapping, sub.slice(0, half), raw),
                _isolate(provider, mapping, sub.slice(half), raw),
            ]
        )
        if halves.failures.height == 0:
            return halves  # fails only as a whole: its halves stand for it
        # Again in one pass without the records at fault: records that combine (Garmin epoch
        # parts of one bucket) must not be split by the bisection.
        try:
            rest = format_group(provider, mapping, _without(sub, halves.failures), raw)
        except _FAULTS:
            return halves
        return GroupRows(rest.rows, pl.concat([halves.failures, rest.failures]))


def format_isolated(
    provider: str,
    raw: pl.DataFrame,
    mappings: Mapping[str, RecordMapping],
    context: pl.DataFrame | None = None,
    zones: pl.DataFrame | None = None,
    resolve: bool = True,
) -> Isolated:
    """Every raw record of `raw` to normalised rows; a record that cannot be formatted is a
    failure row naming its field, and costs no other record its rows.

    `context`: raw records that others are dated or offset by (see `providers.anchors`),
    used for that and not formatted themselves. `zones`: the people's zone histories
    (indicators.zones.ZONE_HISTORY_COLUMNS) that give rows without a vendor offset theirs;
    `resolve=False` leaves such rows unresolved (the pipeline learns zones from the vendors'
    offsets of the whole batch first, then calls `indicators.zones.resolve_offsets`)."""
    rows: list[pl.DataFrame] = []
    failures: list[pl.DataFrame] = []
    if raw.height == 0:
        return Isolated(pl.DataFrame(schema=OUTPUT_SCHEMA), no_failures())
    every = with_context(raw, context)
    for (record_type,), sub in raw.partition_by("record_type", as_dict=True).items():
        mapping = mappings.get(str(record_type))
        if mapping is None:
            failures.append(
                failure_frame(
                    provider,
                    str(record_type),
                    sub,
                    "unknown_record_type",
                    None,
                    f"no mapping for record type {record_type!r}",
                )
            )
            continue
        result = _isolate(provider, mapping, sub, every)
        log.debug(
            "%s %s: %d records -> %d rows", provider, record_type, sub.height, result.rows.height
        )
        if result.failures.height:
            first = result.failures.row(0, named=True)
            log.warning(
                "%s %s: %d of %d records not formatted, e.g. %s (%s, field %s): %s",
                provider,
                record_type,
                result.failures.height,
                sub.height,
                first["record_id"],
                first["reason"],
                first["field_path"],
                first["detail"],
            )
        rows.append(result.rows)
        failures.append(result.failures)
    values = (
        pl.concat(rows, how="vertical").cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]
        if rows
        else pl.DataFrame(schema=OUTPUT_SCHEMA)
    )
    if resolve:
        values = resolve_offsets(values, zones)
    return Isolated(values, pl.concat(failures) if failures else no_failures())


def format_rows(
    provider: str,
    raw: pl.DataFrame,
    mappings: Mapping[str, RecordMapping],
    zones: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every raw record of `raw` to normalised rows (contract columns), before validation;
    raises `RecordFormatError` naming the first record and field at fault, if any."""
    result = format_isolated(provider, raw, mappings, zones=zones)
    if result.failures.height:
        first = result.failures.row(0, named=True)
        ids = result.failures.get_column("record_id").head(5).to_list()
        raise RecordFormatError(
            provider,
            first["record_type"],
            f"{result.failures.height} records not formatted, e.g. {ids}: {first['detail']}",
            field=first["field_path"],
            reason=first["reason"],
            record_ids=tuple(result.failures.get_column("record_id").to_list()),
        )
    return result.rows


def format_records(
    provider: str,
    raw: pl.DataFrame,
    mappings: Mapping[str, RecordMapping],
    zones: pl.DataFrame | None = None,
) -> Formatted:
    """Format, then split by the indicators contract (bounds, units, duplicate keys)."""
    valid, quarantine = split_valid(format_rows(provider, raw, mappings, zones))
    if quarantine.height:
        log.warning(
            "%s: %d rows quarantined: %s",
            provider,
            quarantine.height,
            quarantine_counts(quarantine),
        )
    return Formatted(valid, quarantine)
