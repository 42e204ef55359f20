"""Per-user locks that keep an account deletion and a run's writes apart.

Every pipeline write (raw records, indicator values, quarantine, daily summaries, the
warehouse's Parquet files) happens in a transaction that first takes a *shared* advisory lock
on each of its users and then keeps only the users that still exist. Deleting an account takes
the *exclusive* lock on that user for its whole transaction, Parquet files included. So a write
either finishes before the deletion starts (and the deletion removes it), or starts after it
(and finds the user gone): nothing of a deleted user is left behind, and a run that was
writing them carries on for everyone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

import polars as pl
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session


def live_users(conn: Connection, users: Iterable[str]) -> set[str]:
    """Lock these users' data for writing (shared, until the transaction ends) and return
    those whose account still exists."""
    ids = sorted({str(u) for u in users})
    if not ids:
        return set()
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock_shared(hashtext('user-data|' || u)) "
            "FROM unnest(CAST(:ids AS text[])) AS u"
        ),
        {"ids": ids},
    )
    found = conn.execute(
        text("SELECT id::text FROM users WHERE id = ANY(CAST(:ids AS uuid[]))"), {"ids": ids}
    ).scalars()
    return set(found)


def live_rows(conn: Connection, frame: pl.DataFrame, user_col: str = "user_id") -> pl.DataFrame:
    """`frame` without the rows of users deleted meanwhile (locking the rest, see
    `live_users`)."""
    if frame.height == 0:
        return frame
    live = live_users(conn, frame.get_column(user_col).cast(pl.String).unique().to_list())
    return frame.filter(pl.col(user_col).cast(pl.String).is_in(sorted(live)))


def lock_for_deletion(session: Session, user_id: uuid.UUID) -> None:
    """Wait for every write in flight for this user, and keep new ones out until the
    session's transaction ends."""
    session.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('user-data|' || :u))"), {"u": str(user_id)}
    )


def lock_months(conn: Connection, months: pl.DataFrame) -> None:
    """Take the writer lock of each (user_id, month) fact file until the transaction ends:
    one writer per user-month file at a time (a second run touching the same file waits,
    then merges into what the first one wrote). Taken in sorted order: no deadlock."""
    if months.height == 0:
        return
    keys = sorted({f"{u}|{m}" for u, m in months.select("user_id", "month").iter_rows()})
    conn.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtext('facts|' || k)) "
            "FROM unnest(CAST(:keys AS text[])) AS k"
        ),
        {"keys": keys},
    )
