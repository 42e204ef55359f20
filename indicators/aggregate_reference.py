"""A row-by-row, plain-Python statement of what `daily_summary` computes.

Not for production: it exists as the oracle that tests compare the vectorised version
against, and as the baseline in bench/aggregate_daily.py. It follows the same rules
(local day, catalogue roll-ups, source priority and tie-breaks) one row at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from indicators.aggregate import SourcePriorities
from indicators.catalogue import CATALOGUE
from indicators.model import DayAnchor, Rollup

_UNRANKED = 1_000_000


def _rank(indicator_id: str, source: str, priorities: SourcePriorities) -> int:
    entry = CATALOGUE[indicator_id]
    order = list(
        priorities.get(entry.id, priorities.get(entry.category.value, priorities.get("*", ())))
    )
    if source in order:
        return order.index(source)
    provider = source.split(".")[0]
    return order.index(provider) if provider in order else _UNRANKED


def _roll_up(rollup: Rollup, rows: list[Mapping[str, Any]]) -> float:
    values = [float(r["value"]) for r in rows]
    if rollup is Rollup.SUM:
        return sum(values)
    if rollup is Rollup.MEAN:
        return sum(values) / len(values)
    if rollup is Rollup.MIN:
        return min(values)
    if rollup is Rollup.MAX:
        return max(values)
    if rollup is Rollup.LAST:
        return float(max(rows, key=lambda r: r["time"])["value"])
    weights = []
    for r in rows:
        seconds = (r["end_time"] - r["time"]).total_seconds() if r["end_time"] else 0.0
        weights.append(seconds if seconds > 0 else 1.0)
    return sum(v * w for v, w in zip(values, weights, strict=True)) / sum(weights)


def local_day(row: Mapping[str, Any]) -> date:
    """The local day of one indicator-value row (sleep: its end), as daily_summary uses."""
    entry = CATALOGUE[row["indicator"]]
    anchor: datetime = row["time"]
    if entry.day_anchor is DayAnchor.END and row["end_time"] is not None:
        anchor = row["end_time"]
    return (anchor.replace(tzinfo=None) + timedelta(seconds=row["tz_offset_s"])).date()


def daily_summary_rows(
    rows: Iterable[Mapping[str, Any]], priorities: SourcePriorities | None = None
) -> list[dict[str, Any]]:
    """Row-by-row daily summary of indicator-value dicts; same output rows as daily_summary."""
    table = priorities or {}
    by_source: dict[tuple[str, date, str, str], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        key = (row["user_id"], local_day(row), row["indicator"], row["source"])
        by_source[key].append(row)
    candidates: dict[tuple[str, date, str], list[tuple[int, int, str, float]]] = defaultdict(list)
    for (user, day, indicator, source), group in by_source.items():
        value = _roll_up(CATALOGUE[indicator].rollup, group)
        rank = _rank(indicator, source, table)
        candidates[(user, day, indicator)].append((rank, -len(group), source, value))
    summary = []
    for (user, day, indicator), options in sorted(candidates.items()):
        rank, negative_n, source, value = min(options)
        summary.append(
            {
                "user_id": user,
                "day": day,
                "indicator": indicator,
                "value": value,
                "unit": CATALOGUE[indicator].unit,
                "source": source,
                "n_values": -negative_n,
                "sources": ",".join(sorted(option[2] for option in options)),
            }
        )
    return summary
