"""How one vendor record type maps to indicator rows: `Field`s, `RecordMapping` and the
struct its payloads are decoded against."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from indicators.catalogue import get_indicator
from indicators.frames import INDICATOR_VALUE_COLUMNS
from indicators.units import indicator_conversion
from providers.anchors import Anchors
from providers.series import Series

OUTPUT_SCHEMA = INDICATOR_VALUE_COLUMNS
# The columns a mapping's rows are built with; `offset_source` is added per record afterwards.
COLUMNS = [c for c in OUTPUT_SCHEMA if c != "offset_source"]

OFFSET_KINDS = ("vendor", "day", "utc", "wall")

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
    scores, ring not worn). `anchors` names the records of other types a record is dated or
    offset by; `time_field` the payload path a missing time is blamed on when `time` reads a
    column that `prepare` computed.
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
    anchors: Anchors | None = None
    time_field: str | None = None
    offset: str = "vendor"

    def __post_init__(self) -> None:
        if self.offset not in OFFSET_KINDS:
            raise ValueError(f"{self.record_type}: offset must be one of {OFFSET_KINDS}")
        for f in self.fields:
            get_indicator(f.indicator)  # unknown ids fail at import, not at run time
            indicator_conversion(f.indicator, f.unit)
        overlap = {f.path for f in self.fields} & set(self.ignored)
        if overlap:
            raise ValueError(f"{self.record_type}: paths both mapped and ignored: {overlap}")

    def decode_leaves(self) -> dict[str, pl.DataType]:
        """Every payload path decoded, with its polars type."""
        leaves: dict[str, pl.DataType] = dict(self.paths)
        for f in self.fields:
            if f.path not in self.derived:
                leaves.setdefault(f.path, self.field_dtype)
        return leaves

    def decode_dtype(self) -> pl.Struct:
        return struct_of(self.decode_leaves())

    def known_paths(self) -> set[str]:
        """Payload paths this mapping reads or deliberately ignores (derived names excluded)."""
        read = set(self.paths) | {f.path for f in self.fields} | {s.path for s in self.series}
        return (read - set(self.derived)) | set(self.ignored)

    def time_paths(self) -> list[str]:
        """The payload paths the record's time is read from (for naming a missing time)."""
        if self.time_field is not None:
            return [self.time_field]
        leaves = self.decode_leaves()
        return [name for name in self.time.meta.root_names() if name in leaves]

    def fields_label(self) -> str:
        """The mapped fields, named for a record that carries none of them."""
        paths = [f.path for f in self.fields if f.path not in self.derived]
        prefixes = {p.split(".", 1)[0] for p in paths}
        if len(prefixes) == 1 and all("." in p for p in paths):
            return prefixes.pop()  # e.g. WHOOP's `score`
        return ", ".join(paths)[:200]


def struct_of(leaves: Mapping[str, pl.DataType]) -> pl.Struct:
    """The nested struct of dotted leaf paths (`score.strain` -> {score: {strain}})."""
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
