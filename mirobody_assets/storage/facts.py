"""The long fact table `indicator_values`, kept as Parquet: one file per user and month.

Layout: `<root>/<user_id>/<YYYY-MM>.parquet` (by default `<data_dir>/parquet/indicator_values`,
the folder the warehouse's DuckDB view reads; FACTS_URL may name any fsspec URL instead, e.g.
`s3://bucket/indicator_values`, read and written through universal_pathlib). Each file holds
the user's values of the local days of that month, sorted by (indicator, source, time), with
their local `day`.

This is the system of record: `normalise` writes it, `daily_summary`, the warehouse, the API
and the MCP tools read it. A write replaces exactly its partitions' days inside the month
files it touches and replaces each file atomically (a temporary file, then a rename; on object
stores a single PUT), so a reader or a crash sees either the old or the new file, never a torn
one. Callers take the
per-user-month writer lock (`user_locks.lock_months`) first: one writer per file at a time.
"""

from __future__ import annotations

import io
import shutil
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import cast

import polars as pl
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from upath import UPath

from indicators.aggregate import local_day
from indicators.frames import INDICATOR_VALUE_COLUMNS, INDICATOR_VALUE_KEY

FACT_COLUMNS: dict[str, pl.DataType] = {**INDICATOR_VALUE_COLUMNS, "day": pl.Date()}
FILE_ORDER = ["indicator", "source", "time"]
_MONTH = pl.col("day").dt.strftime("%Y-%m").alias("month")


def with_local_day(values: pl.DataFrame) -> pl.DataFrame:
    """The values plus their user's local `day` (the partition they belong to)."""
    return values.with_columns(day=local_day())


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def months_between(first: date, last: date) -> list[str]:
    """Every 'YYYY-MM' from first's month to last's, inclusive."""
    out, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def partition_months(parts: pl.DataFrame) -> pl.DataFrame:
    """The (user_id, month) pairs a frame of (user_id, day) partitions touches, sorted."""
    return parts.select("user_id", _MONTH).unique().sort("user_id", "month")


class FactStore:
    """Reads and writes the indicator-value files under one root folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = _location(root)

    def path(self, user_id: str, month: str) -> Path:
        return self.root / str(user_id) / f"{month}.parquet"

    # -- reads ---------------------------------------------------------------------------
    def _existing(self, pairs: Iterable[tuple[str, str]]) -> list[Path]:
        return [p for p in (self.path(u, m) for u, m in pairs) if p.exists()]

    def read_partitions(self, parts: pl.DataFrame, with_day: bool = False) -> pl.DataFrame:
        """The partitions' stored values in the frame contract, sorted by the natural key."""
        files = self._existing(partition_months(parts).iter_rows())
        if not files:
            return pl.DataFrame(schema=FACT_COLUMNS if with_day else INDICATOR_VALUE_COLUMNS)
        keys = parts.select(pl.col("user_id").cast(pl.String), "day")
        frame = (
            _scan(files)
            .join(keys.lazy(), on=["user_id", "day"], how="semi")
            .sort(list(INDICATOR_VALUE_KEY))
            .collect()
        )
        return frame if with_day else frame.drop("day")

    def scan_user(self, user_id: str, first_day: date, last_day: date) -> pl.LazyFrame:
        """One user's values of local days first_day..last_day (with `day`), lazily: only the
        month files of those days are opened; filters on it reach the Parquet reader."""
        first, last = _month(first_day), _month(last_day)
        files = [f for f in self.user_files(user_id) if first <= f.stem <= last]
        if not files:
            return pl.LazyFrame(schema=FACT_COLUMNS)
        return _scan(files).filter(pl.col("day").is_between(first_day, last_day))

    def scan_user_times(self, user_id: str, start: datetime, end: datetime) -> pl.LazyFrame:
        """One user's values whose UTC `time` lies in [start, end): the files of the local
        days around it (a local day is at most 14 h from UTC; sleep counts on its end)."""
        margin = timedelta(days=2)
        first = start.date() - margin if start.date() > date.min + margin else date.min
        last = end.date() + margin if end.date() < date.max - margin else date.max
        return self.scan_user(user_id, first, last).filter(
            (pl.col("time") >= start) & (pl.col("time") < end)
        )

    def scan_days(self, first_day: date, last_day: date) -> pl.LazyFrame:
        """Every user's values of local days first_day..last_day (with `day`), lazily."""
        files = [
            f
            for m in months_between(first_day, last_day)
            for f in sorted(self.root.glob(f"*/{m}.parquet"))
        ]
        if not files:
            return pl.LazyFrame(schema=FACT_COLUMNS)
        return _scan(files).filter(pl.col("day").is_between(first_day, last_day))

    def scan_all(self, user_id: str) -> pl.LazyFrame:
        """Every stored value of one user (with `day`), lazily."""
        files = self.user_files(user_id)
        return _scan(files) if files else pl.LazyFrame(schema=FACT_COLUMNS)

    def user_files(self, user_id: str) -> list[Path]:
        folder = self.root / str(user_id)
        return sorted(folder.glob("*.parquet")) if folder.is_dir() else []

    # -- writes --------------------------------------------------------------------------
    def replace_partitions(
        self, values: pl.DataFrame, parts: pl.DataFrame, kept: pl.DataFrame | None = None
    ) -> tuple[int, int]:
        """Replace the partitions' values; returns (rows written, files written).

        Rows of `values` outside the partitions are not written. `kept` (user_id, provider,
        record_id; a null record_id stands for all of the provider's records of the user)
        names records that could not be formatted this time: their stored values stay as they
        are (over a new value of the same key), so that nothing is deleted without its
        replacement. The caller holds the writer lock of every month file touched."""
        parts = parts.select(pl.col("user_id").cast(pl.String), "day")
        # Rows that carry their day already (moved from elsewhere) keep it.
        dated = (
            values.select(list(FACT_COLUMNS))
            if "day" in values.columns
            else with_local_day(values.select(list(INDICATOR_VALUE_COLUMNS)))
        )
        fresh = (
            dated.join(parts, on=["user_id", "day"], how="semi")
            .with_columns(_MONTH)
            .partition_by(["user_id", "month"], as_dict=True)
        )
        rows = files = 0
        for (user, month), group in parts.with_columns(_MONTH).group_by(
            ["user_id", "month"], maintain_order=True
        ):
            path = self.path(user, month)
            days = group.get_column("day").implode()
            stored = _scan([path]).collect() if path.exists() else pl.DataFrame(schema=FACT_COLUMNS)
            outside = stored.filter(~pl.col("day").is_in(days))
            new = (
                fresh[(user, month)].drop("month")
                if (user, month) in fresh
                else pl.DataFrame(schema=FACT_COLUMNS)
            )
            if kept is not None and kept.height:
                survivors = _values_of_records(
                    stored.filter(pl.col("day").is_in(days)), kept.filter(pl.col("user_id") == user)
                )
                new = pl.concat(
                    [
                        new.join(
                            survivors.select(INDICATOR_VALUE_KEY),
                            on=list(INDICATOR_VALUE_KEY),
                            how="anti",
                        ),
                        survivors,
                    ],
                    how="vertical",
                )
            rows += new.height
            merged = pl.concat([outside, new], how="vertical").sort(FILE_ORDER)
            if merged.height == 0:
                if path.exists():
                    path.unlink()
                    files += 1
                continue
            if merged.equals(stored.sort(FILE_ORDER)):
                continue  # a re-run with nothing new leaves the file (and its readers) alone
            write_atomically(merged, path)
            files += 1
        return rows, files

    def delete_user(self, user_id: str) -> int:
        """Remove every file of one user; returns the files removed."""
        folder = self.root / str(user_id)
        if not folder.is_dir():
            return 0
        removed = sum(1 for _ in folder.glob("*.parquet"))
        if _is_local(folder):
            shutil.rmtree(folder)
        else:
            folder.fs.rm(folder.path, recursive=True)  # type: ignore[attr-defined]
        return removed


def _location(root: Path | str) -> Path:
    """A local folder as a resolved Path; any other fsspec URL as a UPath (the same API)."""
    text = str(root)
    if isinstance(root, Path) or "://" not in text or text.startswith("file://"):
        return Path(text.removeprefix("file://")).resolve()
    return cast(Path, UPath(text))


def _is_local(path: Path) -> bool:
    return getattr(path, "protocol", "") in ("", "file", "local")


def _scan(files: list[Path]) -> pl.LazyFrame:
    """The files in today's contract: a column added to the contract since a file was written
    reads as null, one dropped from it is left out."""
    if all(_is_local(f) for f in files):
        return pl.scan_parquet(
            files, schema=FACT_COLUMNS, missing_columns="insert", extra_columns="ignore"
        )
    frames = []
    for file in files:  # an object store: each file read whole through fsspec
        with file.open("rb") as handle:
            frame = pl.read_parquet(handle)
        frames.append(
            frame.select(
                pl.col(c).cast(t) if c in frame.columns else pl.lit(None, t).alias(c)
                for c, t in FACT_COLUMNS.items()
            )
        )
    return pl.concat(frames, how="vertical").lazy()


def _values_of_records(stored: pl.DataFrame, kept: pl.DataFrame) -> pl.DataFrame:
    """The stored values that came from the `kept` records (a row of several records, e.g. a
    Garmin epoch bucket, names them comma-joined)."""
    if kept.height == 0 or stored.height == 0:
        return stored.clear()
    provider = pl.col("source").str.split(".").list.first()
    whole = kept.filter(pl.col("record_id").is_null()).get_column("provider").implode()
    named = kept.filter(pl.col("record_id").is_not_null())
    by_record = (
        stored.with_row_index("_row")
        .with_columns(_rec=pl.col("record_id").str.split(","), _provider=provider)
        .explode("_rec")
        .join(
            named.select(pl.col("provider").alias("_provider"), pl.col("record_id").alias("_rec")),
            on=["_provider", "_rec"],
            how="semi",
        )
        .get_column("_row")
        .unique()
        .implode()
    )
    return (
        stored.with_row_index("_row")
        .filter(provider.is_in(whole) | pl.col("_row").is_in(by_record))
        .drop("_row")
    )


def write_atomically(frame: pl.DataFrame, path: Path) -> None:
    """Write a Parquet file so that readers see the old file or the new one, never part of
    one: a hidden temporary file beside it, then a rename (atomic on one file system); on an
    object store one PUT of the whole object, which is atomic there."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not _is_local(path):
        buffer = io.BytesIO()
        frame.write_parquet(buffer, statistics=True)
        with path.open("wb") as handle:
            handle.write(buffer.getvalue())
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        frame.write_parquet(tmp, statistics=True)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def fact_store(data_dir: Path, url: str | None = None) -> FactStore:
    """The fact files of a deployment: FACTS_URL when set, else
    `<data_dir>/parquet/indicator_values`, the folder the warehouse's DuckDB view reads."""
    return FactStore(url or Path(data_dir) / "parquet" / "indicator_values")


_OPTION = "mirobody_facts"


def bind_facts(engine: Engine, store: FactStore) -> Engine:
    """Let readers that hold a session or an engine of this database find its fact files
    (an engine execution option: every session and connection of the engine carries it)."""
    engine.update_execution_options(**{_OPTION: store})
    return engine


def facts_of(bind: Engine | Connection | Session) -> FactStore:
    """The fact files bound to this engine (see `bind_facts`)."""
    if isinstance(bind, Session):
        bind = bind.get_bind()
    store = bind.get_execution_options().get(_OPTION)
    if not isinstance(store, FactStore):
        raise RuntimeError("no fact store bound to this engine: call facts.bind_facts")
    return store
