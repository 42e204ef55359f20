"""Benchmark: aggregate 10 million indicator values into daily summaries.

Run by hand (never by the test suite):

    .venv/bin/python bench/aggregate_daily.py [--rows 10000000] [--baseline-rows 200000]

Prints the rows/s of the vectorised `indicators.aggregate.daily_summary`, the rows/s of the
same rules applied row by row in plain Python (`indicators.aggregate_reference`, run on a
subsample and scaled, as the output says), and the ratio. Both are checked to agree on the
subsample.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from datetime import datetime

import numpy as np
import polars as pl

from indicators.aggregate import daily_summary
from indicators.aggregate_reference import daily_summary_rows
from indicators.catalogue import get_indicator
from indicators.frames import INDICATOR_VALUE_COLUMNS

# A mix that exercises every roll-up: sums, means, min/max, last, duration-weighted means.
INDICATORS = (
    "steps", "heart_rate", "active_energy", "hrv_rmssd", "spo2", "stress_level",
    "sleep_duration_deep", "sleep_efficiency", "weight", "max_heart_rate",
    "min_heart_rate", "respiratory_rate",
)  # fmt: skip
SOURCES = ("garmin.fenix7", "oura", "whoop", "withings", "polar")
START = datetime(2025, 1, 1)


def synthetic_values(rows: int, users: int = 1_000, days: int = 30, seed: int = 7) -> pl.DataFrame:
    """Random but plausible indicator values in the frame contract, built column-wise."""
    rng = np.random.default_rng(seed)
    indicator_idx = rng.integers(0, len(INDICATORS), rows)
    entries = [get_indicator(i) for i in INDICATORS]
    low = np.array([e.min_value for e in entries], dtype=float)[indicator_idx]
    high = np.array([min(e.max_value, e.min_value + 500) for e in entries], dtype=float)
    value = low + rng.random(rows) * (high[indicator_idx] - low)
    start_us = int(START.timestamp() * 1e6)
    time_us = start_us + rng.integers(0, days * 86_400, rows) * 1_000_000
    duration_us = rng.integers(60, 8 * 3_600, rows) * 1_000_000
    has_end = rng.random(rows) < 0.3
    offsets = np.array([-18_000, 0, 3_600, 7_200, 19_800], dtype=np.int32)
    user_idx = rng.integers(0, users, rows)
    frame = pl.DataFrame(
        {
            "user_idx": user_idx,
            "indicator_idx": indicator_idx.astype(np.uint32),
            "time_us": time_us,
            "end_us": np.where(has_end, time_us + duration_us, -1),
            "tz_offset_s": offsets[user_idx % len(offsets)],
            "value": value,
            "source_idx": rng.integers(0, len(SOURCES), rows).astype(np.uint32),
        }
    )
    return frame.select(
        user_id=pl.format("user_{}", pl.col("user_idx")),
        indicator=pl.col("indicator_idx").replace_strict(dict(enumerate(INDICATORS))),
        time=pl.from_epoch("time_us", time_unit="us").dt.replace_time_zone("UTC"),
        end_time=pl.when(pl.col("end_us") >= 0)
        .then(pl.from_epoch("end_us", time_unit="us"))
        .dt.replace_time_zone("UTC"),
        tz_offset_s=pl.col("tz_offset_s"),
        value=pl.col("value"),
        unit=pl.col("indicator_idx").replace_strict({i: e.unit for i, e in enumerate(entries)}),
        source=pl.col("source_idx").replace_strict(dict(enumerate(SOURCES))),
        record_id=pl.int_range(pl.len()).cast(pl.String),
    ).cast(INDICATOR_VALUE_COLUMNS)  # type: ignore[arg-type]


def _timed(label: str, func):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - started
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def _agree(vectorised: pl.DataFrame, rowwise: list[dict[str, object]]) -> bool:
    if vectorised.height != len(rowwise):
        return False
    for mine, theirs in zip(vectorised.iter_rows(named=True), rowwise, strict=True):
        if any(mine[k] != theirs[k] for k in mine if k != "value"):
            return False
        if not math.isclose(mine["value"], theirs["value"], rel_tol=1e-9, abs_tol=1e-9):
            return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--baseline-rows", type=int, default=200_000)
    args = parser.parse_args()

    # Shared machines vary a lot: print what the numbers were measured on.
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}; polars {pl.__version__}")
    print(f"generating {args.rows:,} indicator values ...")
    values, _ = _timed("generate", lambda: synthetic_values(args.rows))

    print("vectorised daily_summary (polars):")
    summary, fast = _timed("aggregate", lambda: daily_summary(values))
    fast_rate = args.rows / fast
    print(f"  -> {summary.height:,} daily rows; {fast_rate:,.0f} rows/s")

    sample = values.head(args.baseline_rows)
    print(f"row-by-row plain Python on a {sample.height:,}-row subsample (scaled to rows/s):")
    rows, _ = _timed("to Python dicts (not counted)", lambda: sample.to_dicts())
    rowwise, slow = _timed("aggregate", lambda: daily_summary_rows(rows))
    slow_rate = sample.height / slow
    print(f"  -> {len(rowwise):,} daily rows; {slow_rate:,.0f} rows/s")
    print(f"  estimated time for {args.rows:,} rows: {args.rows / slow_rate:,.0f} s")
    same = _agree(daily_summary(sample), rowwise)
    print(f"  vectorised and row-by-row agree on the subsample: {same}")

    print(f"vectorised rows/s:  {fast_rate:,.0f}")
    print(f"row-by-row rows/s:  {slow_rate:,.0f} (subsample of {sample.height:,}, scaled)")
    print(f"ratio:              {fast_rate / slow_rate:,.1f}x")


if __name__ == "__main__":
    main()
