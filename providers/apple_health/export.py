"""Streaming reader of an Apple Health export (export.zip or its export.xml).

The export is one XML document, often several GB:

    <HealthData locale="en_GB">
      <ExportDate value="2025-03-30 07:12:00 +0200"/>
      <Me HKCharacteristicTypeIdentifierDateOfBirth="..." .../>
      <Record type="HKQuantityTypeIdentifierStepCount" sourceName="Ada's Apple Watch"
              sourceVersion="11.2" device="&lt;&lt;HKDevice: 0x...&gt;, name:Apple Watch,
              manufacturer:Apple Inc., model:Watch, hardware:Watch7,1, software:11.2&gt;"
              unit="count" creationDate="..." startDate="2025-03-30 07:12:00 +0200"
              endDate="2025-03-30 07:13:00 +0200" value="42">
        <MetadataEntry key="HKMetadataKeyHeartRateMotionContext" value="1"/>
      </Record>
      <Workout workoutActivityType="HKWorkoutActivityTypeRunning" duration="30.5"
               durationUnit="min" ...><WorkoutStatistics type="..." sum="..." unit="..."/>
      </Workout>
      <Correlation .../> <ActivitySummary .../>
    </HealthData>

Elements are read one at a time (iterparse, each top-level element cleared once read) and
spilled to one file per local month on disk; each month is then grouped into raw documents of
one HealthKit type and one local day (sleep: the night's wake-up day). Memory holds one month
of one export, whatever the file's size. Documents are sorted, so the next export (which
contains this one) gives the same text for unchanged days: the raw store adds nothing for
them."""

from __future__ import annotations

import hashlib
import json
import pickle
import re
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any
from xml.etree import ElementTree as ET

from providers.apple_health.types import (
    IGNORED_TYPES,
    MAPPED_TYPES,
    QUANTITY_TYPES,
    SLEEP_STAGES,
    SLEEP_TYPE,
    WORKOUT_TYPE,
)

STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [+-]\d{4}$")
STAMP_FORMAT = "%Y-%m-%d %H:%M:%S %z"
# A sleep segment starting at 18:00 or later belongs to the night that ends the next day.
SLEEP_DAY_SHIFT = timedelta(hours=6)
_TOP_LEVEL = {
    "Record",
    "Workout",
    "Correlation",
    "ActivitySummary",
    "Me",
    "ExportDate",
    "ClinicalRecord",
    "Audiogram",
    "VisionPrescription",
}
_RECORD_KEYS = (
    "sourceName",
    "sourceVersion",
    "device",
    "unit",
    "creationDate",
    "startDate",
    "endDate",
    "value",
)
_WORKOUT_KEYS = (
    "workoutActivityType",
    "duration",
    "durationUnit",
    "totalDistance",
    "totalDistanceUnit",
    "totalEnergyBurned",
    "totalEnergyBurnedUnit",
    "sourceName",
    "sourceVersion",
    "device",
    "creationDate",
    "startDate",
    "endDate",
)


class ExportFormatError(ValueError):
    """The upload is not an Apple Health export (no export.xml, not XML at all)."""


@dataclass(frozen=True)
class ExportDocument:
    """One raw document: the records of one HealthKit type on one local day."""

    record_type: str
    vendor_id: str
    day: date
    version: str | None
    payload: dict[str, Any]


@dataclass
class ExportSummary:
    """What one pass over an export found (for the asset's metadata and the import row)."""

    export_date: str | None = None
    records: Counter[str] = field(default_factory=Counter)
    ignored: Counter[str] = field(default_factory=Counter)
    unlisted: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    documents: int = 0
    first_day: date | None = None
    last_day: date | None = None
    error: str | None = None  # the XML stopped being well-formed here

    def see_day(self, day: date) -> None:
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)


def open_export(path: Path, stack: ExitStack) -> IO[bytes]:
    """The export.xml stream of an uploaded file: a zip (Apple's export.zip, the XML at
    `apple_health_export/export.xml`) or the XML itself."""
    if zipfile.is_zipfile(path):
        archive = stack.enter_context(zipfile.ZipFile(path))
        names = [n for n in archive.namelist() if n.rsplit("/", 1)[-1] == "export.xml"]
        if not names:
            raise ExportFormatError("the zip holds no export.xml")
        return stack.enter_context(archive.open(min(names, key=len)))
    return stack.enter_context(path.open("rb"))


def _utc_version(stamp: str | None) -> str | None:
    """The export date as UTC ISO text: versions compare as text, later exports win."""
    if stamp is None or not STAMP.match(stamp):
        return None
    return datetime.strptime(stamp, STAMP_FORMAT).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _record(elem: ET.Element) -> dict[str, Any]:
    rec: dict[str, Any] = {k: elem.get(k) for k in _RECORD_KEYS if elem.get(k) is not None}
    metadata = {m.get("key"): m.get("value") for m in elem.iter("MetadataEntry")}
    if metadata:
        rec["metadata"] = metadata
    return rec


def _workout(elem: ET.Element) -> dict[str, Any]:
    rec: dict[str, Any] = {k: elem.get(k) for k in _WORKOUT_KEYS if elem.get(k) is not None}
    stats = [
        {k: s.get(k) for k in ("type", "sum", "unit") if s.get(k) is not None}
        for s in elem.findall("WorkoutStatistics")
        if s.get("sum") is not None
    ]
    if stats:
        rec["statistics"] = stats
    metadata = {m.get("key"): m.get("value") for m in elem.findall("MetadataEntry")}
    if metadata:
        rec["metadata"] = metadata
    return rec


def _problem(record_type: str, rec: dict[str, Any]) -> str | None:
    """Why a record cannot be imported as it is (None: it can)."""
    for key in ("startDate", "endDate"):
        if not STAMP.match(rec.get(key) or ""):
            return f"{key} {rec.get(key)!r} is not 'YYYY-MM-DD hh:mm:ss +hhmm'"
    if record_type in QUANTITY_TYPES:
        try:
            float(rec.get("value") or "")
        except ValueError:
            return f"value {rec.get('value')!r} is not a number"
    if record_type == SLEEP_TYPE and rec.get("value") not in SLEEP_STAGES:
        return f"value {rec.get('value')!r} is not a sleep analysis category"
    return None


def _day(record_type: str, start: str) -> str:
    """The local day (`YYYY-MM-DD`) a record is grouped by: its start's (written in local
    time), or for a sleep segment the wake-up day of its night."""
    if record_type == SLEEP_TYPE:
        local = datetime.strptime(start[:19], "%Y-%m-%d %H:%M:%S")
        return (local + SLEEP_DAY_SHIFT).date().isoformat()
    return start[:10]


_ORDER = (
    "startDate",
    "endDate",
    "sourceName",
    "value",
    "creationDate",
    "unit",
    "device",
    "sourceVersion",
    "workoutActivityType",
    "duration",
)


def _order(rec: dict[str, Any]) -> tuple[str, ...]:
    """A document's records in one order whatever the file's: equal days, equal text."""
    return tuple(rec.get(k) or "" for k in _ORDER)


def _elements(stream: IO[bytes], summary: ExportSummary) -> Iterator[tuple[str, dict[str, Any]]]:
    """(HealthKit type, record) for every mapped element, in file order; counts the rest."""
    depth = 0
    root: ET.Element | None = None
    try:
        for event, elem in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
            if event == "start":
                if root is None:
                    root = elem
                depth += 1
                continue
            depth -= 1
            if depth != 1:
                continue  # nested (MetadataEntry, a Correlation's Records) or the root
            tag = elem.tag
            if tag == "ExportDate":
                summary.export_date = elem.get("value")
            elif tag == "Record":
                record_type = elem.get("type") or ""
                if record_type in MAPPED_TYPES:
                    yield record_type, _record(elem)
                elif record_type in IGNORED_TYPES:
                    summary.ignored[record_type] += 1
                else:
                    summary.unlisted[record_type] += 1
            elif tag == "Workout":
                yield WORKOUT_TYPE, _workout(elem)
            elif tag == "Correlation":
                summary.ignored[elem.get("type") or tag] += 1
            elif tag in _TOP_LEVEL:
                summary.ignored[tag] += 1
            else:
                summary.unlisted[tag] += 1
            if root is not None:
                root.clear()  # what was read is dropped: memory stays flat
    except ET.ParseError as exc:
        if root is None:
            raise ExportFormatError(f"not an XML export: {exc}") from None
        summary.error = f"the XML stops being well-formed: {exc}"


def read_export(
    stream: IO[bytes], spill_dir: Path | None = None
) -> tuple[ExportSummary, Iterator[ExportDocument]]:
    """Parse the export; returns its summary and the raw documents (produced once the whole
    file was read: the summary is complete when the first document comes)."""
    summary = ExportSummary()
    tmp = tempfile.TemporaryDirectory(dir=spill_dir, prefix="apple-health-")
    months: dict[str, IO[bytes]] = {}
    try:
        for record_type, rec in _elements(stream, summary):
            problem = _problem(record_type, rec)
            day = None if problem else _day(record_type, rec["startDate"])
            key = day[:7] if day else "malformed"
            out = months.get(key)
            if out is None:
                out = months[key] = (Path(tmp.name) / f"{key}.spill").open("wb")
            # pickle: a fast round trip of plain dicts of text (a private temp file)
            pickle.dump((record_type, day, problem, rec), out, protocol=5)
    finally:
        for out in months.values():
            out.close()
    return summary, _documents(tmp, sorted(months), summary)


def _spilled(spilled: IO[bytes]) -> Iterator[tuple[str, str | None, str | None, Any]]:
    # One load per dump: each dump has its own memo (a shared Unpickler would resolve a later
    # record's memo references to an earlier record's strings).
    while True:
        try:
            yield pickle.load(spilled)  # noqa: S301 (our own temp file, written above)
        except EOFError:
            return


def _documents(
    tmp: tempfile.TemporaryDirectory[str], keys: list[str], summary: ExportSummary
) -> Iterator[ExportDocument]:
    version = _utc_version(summary.export_date)
    fallback = (
        date.fromisoformat(summary.export_date[:10])
        if (summary.export_date and STAMP.match(summary.export_date))
        else date(1970, 1, 1)
    )
    with tmp:
        for key in keys:
            groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
            with (Path(tmp.name) / f"{key}.spill").open("rb") as spilled:
                for record_type, day, problem, rec in _spilled(spilled):
                    summary.records[record_type] += 1
                    if problem is not None or day is None:
                        yield _malformed(record_type, rec, str(problem), fallback, version, summary)
                        continue
                    groups[(record_type, day)].append(rec)
            for (record_type, day), recs in sorted(groups.items()):
                recs.sort(key=_order)
                local = date.fromisoformat(day)
                summary.see_day(local)
                summary.documents += 1
                yield ExportDocument(
                    record_type,
                    f"{record_type}:{day}",
                    local,
                    version,
                    {"type": record_type, "day": day, "records": recs},
                )


def _malformed(
    record_type: str,
    rec: dict[str, Any],
    problem: str,
    fallback: date,
    version: str | None,
    summary: ExportSummary,
) -> ExportDocument:
    """A record that cannot be read goes alone into its own document, so that formatting
    quarantines it with its reason and its day's other records are imported."""
    start = rec.get("startDate") or ""
    try:
        day = date.fromisoformat(start[:10])
    except ValueError:
        day = fallback
    digest = hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()[:16]
    summary.malformed += 1
    summary.documents += 1
    return ExportDocument(
        record_type,
        f"{record_type}:{day}:malformed:{digest}",
        day,
        version,
        {"type": record_type, "day": day.isoformat(), "records": [rec], "problem": problem},
    )
