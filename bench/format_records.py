"""Benchmark: vectorised formatting of vendor records vs a per-record Python formatter.

Builds >= 1M raw records of a five-vendor mix from the sandbox's documents, formats them with
the providers' polars formatters (one core by default) and with a plain per-record Python
dict-walking formatter (the reference implementation's approach), and prints normalised rows/s
and the ratio. Run by hand: `.venv/bin/python bench/format_records.py [--records N]`."""

from __future__ import annotations

import argparse
import gc
import os
import sys

if __name__ == "__main__" and "--threads" not in sys.argv:
    os.environ.setdefault("POLARS_MAX_THREADS", "1")  # one core, set before polars loads

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl

from indicators.catalogue import CATALOGUE
from indicators.quarantine import split_valid
from indicators.units import indicator_conversion
from providers.formatting import format_rows
from providers.raw import make_record, raw_frame
from providers.registry import ProviderRegistry
from providers.sandbox import SANDBOX_CREDENTIALS, garmin, oura, polar, whoop, withings
from providers.sandbox.physiology import PERSONS, day_truth
from providers.withings.mapping import MEASTYPES

MIX: dict[str, tuple[str, ...]] = {
    "whoop": ("sleep", "cycle", "workout"),
    "oura": ("sleep", "daily_activity", "daily_readiness", "heartrate"),
    "garmin": ("dailies", "sleeps", "bodyComps", "stressDetails", "activities"),
    "withings": ("measure", "activity", "sleep"),
    "polar": ("sleep", "exercises", "activities", "nightly-recharge"),
}


def documents(slug: str, record_type: str, days: list[date]) -> list[tuple[str, dict[str, Any]]]:
    """Distinct (person, document) pairs of one record type (replicated to reach the count)."""
    out: list[tuple[str, dict[str, Any]]] = []
    for person in PERSONS.values():
        docs: list[dict[str, Any]] = []
        truths = [day_truth(person, d) for d in [*days, days[-1] + timedelta(days=1)]]
        for i, (d, t) in enumerate(zip(days, truths[:-1], strict=True)):
            if slug == "whoop":
                docs += whoop.render(record_type, person, t, truths[i + 1])
            elif slug == "oura" and record_type == "heartrate":
                start = t.local_midnight  # one document per day of 5-min rows, as stored
                docs.append(
                    {
                        "day": d.isoformat(),
                        "data": [
                            {
                                "bpm": 60 + k % 30,
                                "source": "awake",
                                "timestamp": datetime.fromtimestamp(
                                    start + k * 300, UTC
                                ).isoformat(),
                                "timestamp_unix": (start + k * 300) * 1000,
                            }  # as the 2026 spec sends
                            for k in range(288)
                        ],
                    }
                )
            elif slug == "oura":
                docs += oura.render(record_type, person, t)
            elif slug == "garmin":
                docs += [d for _, d in garmin.render(record_type, person, t)]
            elif slug == "withings":
                docs += [
                    d | {"timezone": person.iana_tz}
                    for d in withings.render(record_type, person, t)
                ]
            else:
                docs += polar.render(record_type, person, t)
        out += [(person.key, doc) for doc in docs]
    return out


def build_raw(total: int) -> dict[str, pl.DataFrame]:
    days = [date(2025, 1, 1) + timedelta(days=i) for i in range(60)]
    pools = {(s, rt): documents(s, rt, days) for s, types in MIX.items() for rt in types}
    per_type = total // len(pools) + 1
    frames: dict[str, list[pl.DataFrame]] = {}
    for (slug, record_type), docs in pools.items():
        base = raw_frame(
            make_record(slug, who, record_type, str(i), None, date(2025, 1, 1), d)
            for i, (who, d) in enumerate(docs)
        )
        reps = per_type // base.height + 1
        frame = (
            pl.concat([base] * reps)
            .head(per_type)
            .with_columns(
                (pl.col("vendor_id") + "-" + pl.int_range(pl.len()).cast(pl.String)).alias(
                    "vendor_id"
                ),
                (
                    pl.col("user_id")
                    + "-"
                    + (pl.int_range(pl.len()) // base.height).cast(pl.String)
                ).alias("user_id"),
            )
        )
        frames.setdefault(slug, []).append(frame)
    return {slug: pl.concat(parts) for slug, parts in frames.items()}


# --- the per-record reference: json.loads, walk each mapped path, convert, append a dict ----
def _get(doc: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _iso(text: str | None) -> tuple[datetime | None, int]:
    if not text:
        return None, 0
    parsed = datetime.fromisoformat(text)
    offset = parsed.utcoffset()
    return parsed.astimezone(UTC), int(offset.total_seconds()) if offset else 0


def _times(slug: str, rt: str, doc: dict[str, Any]) -> tuple[Any, Any, int]:
    epoch = lambda s: datetime.fromtimestamp(s, UTC)  # noqa: E731
    if slug == "whoop":
        start, _ = _iso(doc["start"])
        end, _ = _iso(doc.get("end"))
        sign = -1 if doc["timezone_offset"].startswith("-") else 1
        hh, mm = doc["timezone_offset"][1:].split(":")
        return start, end, sign * (int(hh) * 3600 + int(mm) * 60)
    if slug == "oura":
        key = {
            "sleep": "bedtime_start",
            "daily_activity": "timestamp",
            "heartrate": "timestamp",
        }.get(rt)
        if key is None:
            return datetime.fromisoformat(doc["day"]).replace(tzinfo=UTC), None, 0
        start, off = _iso(doc[key])
        end = _iso(doc.get("bedtime_end"))[0] if rt == "sleep" else None
        return start, end, off
    if slug == "garmin":
        if rt == "bodyComps":
            return (
                epoch(doc["measurementTimeInSeconds"]),
                None,
                doc["measurementTimeOffsetInSeconds"],
            )
        s = doc["startTimeInSeconds"]
        return epoch(s), epoch(s + doc["durationInSeconds"]), doc["startTimeOffsetInSeconds"]
    if slug == "withings":
        off = 3600 if doc["timezone"] == "Etc/GMT-1" else -18000
        if rt == "measure":
            return epoch(doc["date"]), None, off
        if rt == "sleep":
            return epoch(doc["startdate"]), epoch(doc["enddate"]), off
        day = datetime.fromisoformat(doc["date"]).replace(tzinfo=UTC) - timedelta(seconds=off)
        return day, day + timedelta(days=1), off
    if rt == "sleep":
        start, off = _iso(doc["sleep_start_time"])
        return start, _iso(doc["sleep_end_time"])[0], off
    if rt == "exercises":
        off = doc["start_time_utc_offset"] * 60
        return (
            datetime.fromisoformat(doc["start_time"]).replace(tzinfo=UTC) - timedelta(seconds=off),
            None,
            off,
        )
    key = doc.get("date") or doc["start_time"][:10]
    return datetime.fromisoformat(key).replace(tzinfo=UTC), None, 0


def _clock(start: datetime, offset_s: int, key: str) -> datetime:
    """An "HH:mm" local key after the local `start`, rolled past midnight."""
    local = start + timedelta(seconds=offset_s)
    hours, minutes = key.split(":")
    at = local.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0)
    if at < local - timedelta(minutes=1):
        at += timedelta(days=1)
    return at - timedelta(seconds=offset_s)


def per_record(slug: str, raw: pl.DataFrame, provider: Any) -> list[dict[str, Any]]:
    tables = {
        rt: [(f.path, f.indicator, *indicator_conversion(f.indicator, f.unit)) for f in m.fields]
        for rt, m in provider.mappings.items()
    }
    out: list[dict[str, Any]] = []
    for user, rt, rid, payload in raw.select(
        "user_id", "record_type", "vendor_id", "payload"
    ).iter_rows():
        doc = json.loads(payload)
        if doc.get("score_state", "SCORED") != "SCORED":
            continue
        if rt == "heartrate":  # a day of samples
            scale, offset = indicator_conversion("heart_rate", "/min")
            for sample in doc["data"]:
                when, off = (
                    (datetime.fromtimestamp(sample["timestamp_unix"] / 1000, UTC), 0)
                    if "timestamp_unix" in sample
                    else _iso(sample["timestamp"])
                )
                out.append(
                    {
                        "user_id": user,
                        "indicator": "heart_rate",
                        "time": when,
                        "end_time": None,
                        "tz_offset_s": off,
                        "value": sample["bpm"] * scale + offset,
                        "source": slug,
                        "record_id": rid,
                    }
                )
            continue
        start, end, off = _times(slug, rt, doc)
        for path, indicator, scale, offset in tables[rt]:
            value = _get(doc, path)
            if value is None:
                continue
            out.append(
                {
                    "user_id": user,
                    "indicator": indicator,
                    "time": start,
                    "end_time": end,
                    "tz_offset_s": off,
                    "value": value * scale + offset,
                    "source": slug,
                    "record_id": rid,
                }
            )
        for series in provider.mappings[rt].series:
            scale, offset = indicator_conversion(series.indicator, series.unit)
            for key, value in (_get(doc, series.path) or {}).items():
                if series.min_valid is not None and value < series.min_valid:
                    continue
                out.append(
                    {
                        "user_id": user,
                        "indicator": series.indicator,
                        "time": start + timedelta(seconds=int(key))
                        if ":" not in key
                        else _clock(start, off, key),
                        "end_time": None,
                        "tz_offset_s": off,
                        "value": value * scale + offset,
                        "source": slug,
                        "record_id": rid,
                    }
                )
        for measure in doc.get("measures", ()) if rt == "measure" else ():
            indicator, unit = MEASTYPES[measure["type"]]
            scale, offset = indicator_conversion(indicator, unit)
            out.append(
                {
                    "user_id": user,
                    "indicator": indicator,
                    "time": start,
                    "end_time": None,
                    "tz_offset_s": off,
                    "value": measure["value"] * 10.0 ** measure["unit"] * scale + offset,
                    "source": slug,
                    "record_id": rid,
                }
            )
    return out


def per_record_check(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """The same contract checks as split_valid, row by row: bounds, offsets, duplicate keys."""
    bounds = {i.id: (i.min_value, i.max_value) for i in CATALOGUE.values()}
    seen: set[tuple[Any, ...]] = set()
    valid, rejected = [], 0
    for row in rows:
        low, high = bounds[row["indicator"]]
        key = (row["user_id"], row["indicator"], row["source"], row["time"])
        end = row["end_time"]
        if (
            not low <= row["value"] <= high
            or abs(row["tz_offset_s"]) > 18 * 3600
            or (end is not None and end < row["time"])
            or key in seen
        ):
            rejected += 1
            continue
        seen.add(key)
        valid.append(row)
    return valid, rejected


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--threads", action="store_true", help="let polars use every core")
    args = parser.parse_args()
    registry = ProviderRegistry.from_entry_points(SANDBOX_CREDENTIALS)
    raws, build_s = timed(lambda: build_raw(args.records))
    total_records = sum(f.height for f in raws.values())
    print(
        f"polars threads: {pl.thread_pool_size()}; built {total_records:,} raw records "
        f"in {build_s:.1f}s"
    )
    fast_rows = fast_s = split_s = slow_rows = slow_s = check_s = 0.0
    for slug, raw in raws.items():
        provider = registry.get(slug)
        rows, seconds = timed(lambda p=provider, r=raw: format_rows(p.slug, r, p.mappings))
        (_valid, quarantine), checked = timed(lambda r=rows: split_valid(r))
        assert quarantine.height == 0, quarantine["reason"].value_counts()
        reference, ref_s = timed(lambda s=slug, r=raw, p=provider: per_record(s, r, p))
        (_ok, rejected), ref_check = timed(lambda r=reference: per_record_check(r))
        assert rejected == 0
        count, n_rows = len(reference), rows.height
        del reference, rows, _valid, quarantine, _ok  # keep the heap small for the next vendor
        gc.collect()
        fast_rows, fast_s, split_s = fast_rows + n_rows, fast_s + seconds, split_s + checked
        slow_rows, slow_s, check_s = slow_rows + count, slow_s + ref_s, check_s + ref_check
        print(
            f"{slug:9s} {raw.height:>9,} records -> {n_rows:>10,} rows: vectorised "
            f"{seconds:5.2f}s + {checked:5.2f}s checks ({n_rows / seconds:>10,.0f} rows/s) | "
            f"per-record {count:>10,} rows {ref_s:5.2f}s + {ref_check:5.2f}s checks "
            f"({count / ref_s:>9,.0f} rows/s, {raw.height / ref_s:>7,.0f} records/s)"
        )
    fast = fast_rows / fast_s
    slow = slow_rows / slow_s
    fast_all = fast_rows / (fast_s + split_s)
    slow_all = slow_rows / (slow_s + check_s)
    print(
        f"vectorised format:           {fast_rows:>12,.0f} rows in {fast_s:6.2f}s = "
        f"{fast:>11,.0f} rows/s ({total_records / fast_s:,.0f} records/s)"
    )
    print(
        f"per-record format:           {slow_rows:>12,.0f} rows in {slow_s:6.2f}s = "
        f"{slow:>11,.0f} rows/s ({total_records / slow_s:,.0f} records/s)"
    )
    print(
        f"vectorised format + checks:  {fast_rows:>12,.0f} rows in {fast_s + split_s:6.2f}s = "
        f"{fast_all:>11,.0f} rows/s (indicators.split_valid)"
    )
    print(
        f"per-record format + checks:  {slow_rows:>12,.0f} rows in {slow_s + check_s:6.2f}s = "
        f"{slow_all:>11,.0f} rows/s"
    )
    print(f"ratio: format {fast / slow:.1f}x; format + checks {fast_all / slow_all:.1f}x")


if __name__ == "__main__":
    main()
