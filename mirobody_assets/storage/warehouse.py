"""The analysts' warehouse: per-user Parquet files plus a DuckDB file of views over them.

Layout under <data_dir>/parquet: `<table>/<user_id>/<YYYY-MM>.parquet`, one file per user and
month, rewritten atomically (write, then rename) when a partition of that month changes.
`indicator_values` is the fact table itself (written by the pipeline's normalise step, see
facts.py); `daily_summary` and `raw_records_index` are copies of Postgres tables; `users` is
one file (`users/_all/users.parquet`) of every account without secrets or e-mail, so that an
analyst can find a user id. The
DuckDB file (DUCKDB_PATH) holds only views over those files, so the pipeline never keeps it
open: an analyst's `duckdb.connect(path, read_only=True)` works while the pipeline runs, and
sees each month file either before or after a write, never half of it.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import duckdb
import polars as pl
from sqlalchemy import Connection

from indicators.frames import DAILY_SUMMARY_COLUMNS
from mirobody_assets.storage.bulk import read_frame
from mirobody_assets.storage.facts import FACT_COLUMNS, write_atomically
from mirobody_assets.storage.raw_store import RAW_INDEX_COLUMNS

TABLES: dict[str, dict[str, pl.DataType]] = {
    "indicator_values": FACT_COLUMNS,
    "daily_summary": dict(DAILY_SUMMARY_COLUMNS),
    "raw_records_index": RAW_INDEX_COLUMNS,
    "users": {
        "user_id": pl.String(),
        "display_name": pl.String(),
        "timezone": pl.String(),
        "created_at": pl.Datetime("us", "UTC"),
        "providers": pl.String(),
    },
}
USERS_FILE = ("users", "_all", "users.parquet")
# No e-mail, password hash or token: a display name (or a label made from the id), the time
# zone, when the account was made and its linked providers (comma-joined, sorted).
_USERS_SQL = """SELECT u.id::text, coalesce(nullif(u.display_name, ''),
                       'user ' || left(u.id::text, 8)), u.timezone, u.created_at,
                       (SELECT string_agg(DISTINCT c.provider, ',' ORDER BY c.provider)
                        FROM provider_connections c WHERE c.user_id = u.id)
                FROM users u ORDER BY u.created_at, u.id"""
SCHEMA_DIR = "_schema"  # an empty file per table, so a view works before any data lands


class Warehouse:
    """Writes partitions to Parquet and keeps the DuckDB views in place."""

    def __init__(self, duckdb_path: Path, parquet_root: Path) -> None:
        self.duckdb_path = duckdb_path.resolve()
        self.root = parquet_root.resolve()

    def ensure(self) -> None:
        """Create the schema files and the DuckDB views if they are missing (idempotent)."""
        for table, schema in TABLES.items():
            path = self.root / table / SCHEMA_DIR / "empty.parquet"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                write_atomically(pl.DataFrame(schema=schema), path)
        if self._views_present():
            return
        self.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        with _connect(self.duckdb_path, read_only=False) as con:
            for table in TABLES:
                glob = str(self.root / table / "*" / "*.parquet").replace("'", "''")
                con.execute(
                    f"CREATE OR REPLACE VIEW {table} AS "  # noqa: S608 - fixed names
                    f"SELECT * FROM read_parquet('{glob}', union_by_name = true)"
                )

    def _views_present(self) -> bool:
        if not self.duckdb_path.exists():
            return False
        with _connect(self.duckdb_path, read_only=True) as con:
            names = {
                r[0]
                for r in con.execute(
                    "SELECT view_name FROM duckdb_views() WHERE NOT internal"
                ).fetchall()
            }
        return set(TABLES) <= names

    def replace_partitions(self, table: str, frame: pl.DataFrame, parts: pl.DataFrame) -> int:
        """Replace the partitions' rows in `table`'s month files; returns files written.

        `parts` is a frame of (user_id, day) pairs; rows of `frame` outside them are ignored.
        """
        schema = TABLES[table]
        month = pl.col("day").dt.strftime("%Y-%m").alias("month")
        rows = frame.select(list(schema)).join(
            parts.select("user_id", "day"), on=["user_id", "day"], how="semi"
        )
        fresh = rows.with_columns(month).partition_by(["user_id", "month"], as_dict=True)
        written = 0
        for (user, mon), group in parts.with_columns(month).group_by(["user_id", "month"]):
            days = group["day"].to_list()
            path = self.root / table / str(user) / f"{mon}.parquet"
            kept = (
                pl.read_parquet(path).filter(~pl.col("day").is_in(days))
                if path.exists()
                else pl.DataFrame(schema=schema)
            )
            new = fresh.get((user, mon))
            merged = kept if new is None else pl.concat([kept, new.select(list(schema))])
            if merged.height == 0:
                if path.exists():
                    path.unlink()
                    written += 1
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(merged.sort(merged.columns[:3]), path)
            written += 1
        return written

    def refresh_users(self, conn: Connection) -> int:
        """Rewrite the `users` file from Postgres; returns the number of accounts."""
        users = read_frame(conn, _USERS_SQL, {}, TABLES["users"])
        write_atomically(users, self.root.joinpath(*USERS_FILE))
        return users.height

    def forget_user(self, user_id: str) -> None:
        """Drop one account from the `users` file (account deletion)."""
        path = self.root.joinpath(*USERS_FILE)
        if path.exists():
            users = pl.read_parquet(path)
            write_atomically(users.filter(pl.col("user_id") != user_id), path)

    def delete_user(self, user_id: str) -> int:
        """Remove every Parquet file of one user (account deletion); returns files removed."""
        removed = 0
        for table in TABLES:
            folder = self.root / table / user_id
            if folder.is_dir():
                removed += sum(1 for _ in folder.glob("*.parquet"))
                shutil.rmtree(folder)
        return removed


class _connect:  # noqa: N801 - a context manager with retries on the file lock
    def __init__(self, path: Path, read_only: bool, attempts: int = 20) -> None:
        self.path, self.read_only, self.attempts = path, read_only, attempts

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        for attempt in range(self.attempts):
            try:
                self.con = duckdb.connect(str(self.path), read_only=self.read_only)
                return self.con
            except duckdb.IOException:
                # Another process holds the write lock for a moment (creating the views).
                if attempt == self.attempts - 1:
                    raise
                time.sleep(0.1 * (attempt + 1))
        raise AssertionError("unreachable")

    def __exit__(self, *exc: object) -> None:
        self.con.close()
