"""Daily aggregation: indicator values to one value per (user, local day, indicator).

Pure polars, no Python loop over rows. Each source's rows of a day roll up by the
indicator's catalogue roll-up; then, where several sources have data for the same day, the
declared source priority picks the winner, and the summary records which source won and
which sources were available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from indicators.catalogue import CATALOGUE, catalogue_frame
from indicators.frames import DAILY_SUMMARY_COLUMNS, DAILY_SUMMARY_KEY, INDICATOR_VALUE_COLUMNS
from indicators.model import DayAnchor, Rollup
from indicators.quarantine import FrameContractError

SourcePriorities = Mapping[str, Sequence[str]]
"""Keys: an indicator id, a category name, or "*" (the fallback); the most specific wins.
Values: sources best first. A provider slug ("garmin") matches all its devices
("garmin.fenix7"); an exact "provider.device" entry outranks its provider's entry.

This layer names no vendor: each provider declares where it ranks (its plugin metadata), and
providers.priorities turns the installed providers' declarations, with the deployment's
override, into this mapping."""

_GROUP = ["user_id", "day", "indicator"]
_UNRANKED = 1_000_000
_MAX_SOURCE_BITS = 62
_REQUIRED = ["user_id", "indicator", "time", "tz_offset_s", "value", "source"]


def priority_table(priorities: SourcePriorities | None = None) -> pl.DataFrame:
    """The resolved priorities as rows (indicator, source, rank); lower rank wins."""
    table = dict(priorities or {})
    rows: dict[str, list[object]] = {"indicator": [], "source": [], "rank": []}
    for entry in CATALOGUE.values():
        order = table.get(entry.id, table.get(entry.category.value, table.get("*", ())))
        # A source listed twice keeps its best rank (one row, so joins cannot duplicate it).
        for rank, source in enumerate(dict.fromkeys(order)):
            rows["indicator"].append(entry.id)
            rows["source"].append(source)
            rows["rank"].append(rank)
    return pl.DataFrame(
        rows, schema={"indicator": pl.String, "source": pl.String, "rank": pl.Int32}
    )


_INDICATOR_IDS = pl.Enum(list(CATALOGUE))
_END_ANCHORED = [e.id for e in CATALOGUE.values() if e.day_anchor is DayAnchor.END]
_ROLLED_LAST = [e.id for e in CATALOGUE.values() if e.rollup is Rollup.LAST]


def local_day() -> pl.Expr:
    """The user's local day of each indicator-value row (needs indicator, time, end_time and
    tz_offset_s). Sleep counts for the wake-up day: it is anchored on its end; everything else
    on its start. The pipeline partitions values by this day, so values and their daily
    summary always share a partition."""
    end_anchored = pl.col("indicator").is_in(_END_ANCHORED) & pl.col("end_time").is_not_null()
    anchor = pl.when(end_anchored).then(pl.col("end_time")).otherwise(pl.col("time"))
    return (
        anchor.dt.replace_time_zone(None) + pl.duration(seconds=pl.col("tz_offset_s"))
    ).dt.date()


def _weight() -> pl.Expr:
    # Instantaneous rows (no end_time) weigh one second in a duration-weighted mean.
    seconds = (pl.col("end_time") - pl.col("time")).dt.total_microseconds() / 1e6
    return pl.when(seconds > 0).then(seconds).otherwise(1.0)


def _pick_rollup() -> pl.Expr:
    rollup = pl.col("rollup")
    return (
        pl.when(rollup == Rollup.SUM.value)
        .then(pl.col("total"))
        .when(rollup == Rollup.MEAN.value)
        .then(pl.col("total") / pl.col("n_values"))
        .when(rollup == Rollup.MIN.value)
        .then(pl.col("lowest"))
        .when(rollup == Rollup.MAX.value)
        .then(pl.col("highest"))
        .otherwise(pl.col("weighted") / pl.col("weights"))
    )


def per_source_daily(values: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Roll each source's rows of a local day up by the catalogue roll-up (before merging).

    Columns: user_id, day, indicator, source, value, n_values. Raises FrameContractError
    for nulls in required columns, and polars' InvalidOperationError for an indicator id
    missing from the catalogue.
    """
    keys = ["user_id", "source"]
    # Categorical/enum keys group several times faster than strings; cast back once grouped.
    # The catalogue's rules are looked up by id membership per row, and joined only onto
    # the much smaller grouped frame.
    prepared = (
        values.lazy()
        .select(list(INDICATOR_VALUE_COLUMNS))
        .with_columns(pl.col(keys).cast(pl.Categorical), pl.col("indicator").cast(_INDICATOR_IDS))
        .with_columns(
            day=local_day(),
            weight=_weight(),
            is_last=pl.col("indicator").is_in(_ROLLED_LAST).fill_null(False),
        )
        # Materialise once: both roll-up branches read it (a lazy plan would run it twice).
        .collect()
    )
    # Null counts are metadata of a materialised frame: refusing nulls here costs nothing,
    # whereas a null key or value would otherwise vanish in a filter or a null-day group.
    nulls = prepared.select(_REQUIRED).null_count().row(0, named=True)
    missing = {name: count for name, count in nulls.items() if count}
    if missing:
        raise FrameContractError(f"indicator values with nulls in {missing}; use split_valid")
    group = [*_GROUP, "source"]
    value = pl.col("value")
    rollups = catalogue_frame().lazy().select(pl.col("indicator").cast(_INDICATOR_IDS), "rollup")
    # Every roll-up but "last" is a plain, fast group aggregation; the catalogue's choice is
    # applied afterwards. "last" needs the arg-max of time, so only the (few) rows of
    # last-rolled indicators pay for it.
    others = (
        prepared.lazy()
        .filter(~pl.col("is_last"))
        .group_by(group)
        .agg(
            n_values=pl.len().cast(pl.UInt32),
            total=value.sum(),
            lowest=value.min(),
            highest=value.max(),
            weighted=(value * pl.col("weight")).sum(),
            weights=pl.col("weight").sum(),
        )
        .join(rollups, on="indicator", how="left")
        .select(*group, value=_pick_rollup(), n_values="n_values")
    )
    lasts = (
        prepared.lazy()
        .filter(pl.col("is_last"))
        .group_by(group)
        .agg(value=value.get(pl.col("time").arg_max()), n_values=pl.len().cast(pl.UInt32))
    )
    return pl.concat([others, lasts]).with_columns(pl.col([*keys, "indicator"]).cast(pl.String))


def daily_summary(
    values: pl.DataFrame | pl.LazyFrame, priorities: SourcePriorities | None = None
) -> pl.DataFrame:
    """Aggregate indicator values into the daily summary (see DailySummarySchema).

    A row's local day is its UTC time shifted by its `tz_offset_s` (sleep: its end time).
    Within one source, the day's rows roll up by the catalogue's roll-up. Across sources,
    the highest `priorities` entry wins (none given: every source is unlisted); unlisted
    sources rank last, then more rows win, then the alphabetically first source. `sources`
    lists every source that had data for that day. Expects validated values (the `valid`
    frame of `split_valid`); nulls and unknown indicators raise FrameContractError.
    """
    try:
        per_source = per_source_daily(values).collect()
    except pl.exceptions.InvalidOperationError as exc:
        # Only the failure path pays for finding which ids the catalogue lacks.
        ids = values.lazy().select(pl.col("indicator").unique()).collect().to_series()
        unknown = sorted(set(ids.drop_nulls().to_list()) - set(CATALOGUE))
        if not unknown:
            raise
        raise FrameContractError(f"unknown indicators {unknown}") from exc
    ranks = priority_table(priorities).lazy()
    daily = per_source.lazy().with_columns(provider=pl.col("source").str.split(".").list.first())
    exact = ranks.rename({"rank": "exact_rank"})
    by_provider = ranks.rename({"source": "provider", "rank": "provider_rank"})
    ranked = (
        daily.join(exact, on=["indicator", "source"], how="left")
        .join(by_provider, on=["indicator", "provider"], how="left")
        .with_columns(rank=pl.coalesce("exact_rank", "provider_rank", pl.lit(_UNRANKED)))
        .sort(["rank", "n_values", "source"], descending=[False, True, False])
    )
    # Joining each group's source names is a slow per-group string operation. With few
    # distinct sources, sum one bit per source instead and name each distinct bit set once.
    distinct = sorted(per_source.get_column("source").unique().to_list())
    use_bits = len(distinct) <= _MAX_SOURCE_BITS
    bits = {source: 1 << position for position, source in enumerate(distinct)}
    sources = (
        pl.col("source").replace_strict(bits, return_dtype=pl.Int64).sum()
        if use_bits
        else pl.col("source").sort().str.join(",")
    )
    merged = (
        ranked.group_by(_GROUP)
        .agg(
            value=pl.col("value").first(),
            source=pl.col("source").first(),
            n_values=pl.col("n_values").first(),
            sources=sources,
        )
        .collect()
    )
    if use_bits:
        names = {
            mask: ",".join(s for s in distinct if bits[s] & mask)
            for mask in merged.get_column("sources").unique().to_list()
        }
        merged = merged.with_columns(
            pl.col("sources").replace_strict(names, return_dtype=pl.String)
        )
    units = catalogue_frame().select("indicator", unit="standard_unit")
    return (
        merged.join(units, on="indicator", how="left")
        .select(list(DAILY_SUMMARY_COLUMNS))
        .sort(list(DAILY_SUMMARY_KEY))
    )
