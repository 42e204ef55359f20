"""Poison records: real vendor documents with one field broken the ways vendors break them
(a unit the mapping does not know, a time that does not parse, a missing anchor, a missing
required field), and the payload field and reason each must be quarantined with."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Mutation = Callable[[dict[str, Any]], None]


def put(path: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, leaf = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[leaf] = value

    return mutate


def drop(*keys: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        for key in keys:
            doc.pop(key)

    return mutate


@dataclass(frozen=True)
class Poison:
    case: str
    record_type: str
    mutate: Mutation
    field_path: str  # the payload path the failure must name
    reason: str

    def apply(self, payload: str, vendor_id: str | None = None) -> dict[str, Any]:
        """The mutated document; under `vendor_id` (its own ids replaced) when given."""
        doc: dict[str, Any] = copy.deepcopy(json.loads(payload))
        self.mutate(doc)
        if vendor_id is not None:
            for key in ("id", "summaryId", "grpid"):
                if key in doc:
                    doc[key] = vendor_id
        return doc


POISONS: dict[str, list[Poison]] = {
    "whoop": [
        Poison(
            "unit",
            "cycle",
            put("score.kilojoule", "11455.8 kJ"),
            "score.kilojoule",
            "does_not_decode",
        ),
        Poison("time", "sleep", put("start", "last night"), "start", "unparsable_time"),
        Poison(
            "anchor", "recovery", put("sleep_id", "no-such-sleep"), "sleep_id", "missing_anchor"
        ),
        Poison("field", "cycle", drop("score"), "score", "no_mapped_fields"),
    ],
    "garmin": [
        Poison(
            "unit",
            "dailies",
            put("distanceInMeters", "14.4 km"),
            "distanceInMeters",
            "does_not_decode",
        ),
        Poison(
            "time",
            "sleeps",
            put("startTimeInSeconds", "2025-02-10T00:08:50"),
            "startTimeInSeconds",
            "unparsable_time",
        ),
        Poison(
            "anchor", "epochs", drop("startTimeInSeconds"), "startTimeInSeconds", "missing_time"
        ),
        Poison("field", "userMetrics", drop("vo2Max"), "vo2Max", "no_mapped_fields"),
    ],
    "oura": [
        Poison("unit", "daily_activity", put("steps", "18946 steps"), "steps", "does_not_decode"),
        Poison(
            "time",
            "heartrate",
            put("data.3.timestamp", "garbage"),
            "data[].timestamp",
            "unparsable_time",
        ),
        Poison("anchor", "sleep", drop("bedtime_start"), "bedtime_start", "missing_time"),
        Poison("field", "vO2_max", drop("vo2_max"), "vo2_max", "no_mapped_fields"),
    ],
    "withings": [
        Poison(
            "unit", "measure", put("measures.0.unit", "kg"), "measures[].unit", "does_not_decode"
        ),
        Poison("code", "measure", put("measures.0.type", 9999), "measures[].type", "unknown_code"),
        Poison("time", "activity", put("date", "2025-02-30"), "date", "unparsable_time"),
        Poison("anchor", "workouts", drop("startdate"), "startdate", "missing_time"),
        Poison("field", "sleep", drop("data"), "data", "no_mapped_fields"),
    ],
    "polar": [
        Poison("unit", "exercises", put("calories", "732 kcal"), "calories", "does_not_decode"),
        Poison(
            "time",
            "exercises",
            put("start_time", "2025-99-10T18:09:46"),
            "start_time",
            "unparsable_time",
        ),
        Poison(
            "anchor",
            "exercises",
            drop("start_time_utc_offset"),
            "start_time_utc_offset",
            "missing_time",
        ),
        Poison("field", "nightly-recharge", drop("date"), "date", "missing_time"),
    ],
}


def names_field(detail: str, field_path: str) -> bool:
    """Whether a failure's detail names the field (its last part, list marks aside)."""
    return field_path.split(".")[-1].removesuffix("[]") in detail
