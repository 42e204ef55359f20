"""The pipeline's work, free of Dagster: pull, store raw, normalise, aggregate, upload.

Every function takes a whole set of partitions (a frame of user_id, day pairs) and works on
all of them at once: pulls run concurrently across users, formatting and aggregation are
vectorised polars over every user and day of the run.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import polars as pl

from indicators.frames import INDICATOR_VALUE_COLUMNS, RAW_RECORD_COLUMNS
from indicators.quarantine import QUARANTINE_COLUMNS, split_valid
from mirobody_assets.connections import ConnectionRepository
from providers.base import Provider
from providers.errors import ProviderError, ReconnectRequiredError
from providers.registry import ProviderRegistry
from providers.types import Connection, Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PartitionFailure:
    """User-days that could not be processed, and why (never a secret, never a body)."""

    user_id: str
    provider: str
    days: tuple[str, ...]
    cause: str
    needs_reauth: bool = False


@dataclass
class PullResult:
    raw: pl.DataFrame
    failures: list[PartitionFailure] = field(default_factory=list)
    users_pulled: int = 0


def window_for(days: pl.Series) -> Window:
    """The UTC window that covers these local days in any time zone (+-1 day)."""
    first, last = days.min(), days.max()
    if not isinstance(first, date) or not isinstance(last, date):
        raise ValueError("partition days must be dates")
    return Window.for_days(first - timedelta(days=1), last + timedelta(days=1))


async def pull_partitions(provider: Provider, repo: ConnectionRepository, parts: pl.DataFrame,
                          concurrency: int = 8) -> PullResult:
    """Pull every connected user of the partitions from one provider, `concurrency` at once.

    A revoked grant marks the connection as needing re-authorisation; any vendor failure is
    reported for that user's days; the other users' records are returned either way.
    """
    days_by_user = {str(k[0]): g["day"] for k, g in parts.group_by(["user_id"])}
    connections = repo.active(provider.slug, list(days_by_user))
    gate = asyncio.Semaphore(concurrency)
    result = PullResult(pl.DataFrame(schema=RAW_RECORD_COLUMNS))
    frames: list[pl.DataFrame] = []

    async def one(conn: Connection, http: httpx.AsyncClient) -> None:
        days = days_by_user[conn.user_id]
        async with gate:
            try:
                frame = await provider.pull(conn, window_for(days), repo.token_store(conn),
                                            http=http)
            except ReconnectRequiredError as exc:
                await asyncio.to_thread(repo.mark, conn.id, error=str(exc), needs_reauth=True)
                result.failures.append(_failure(conn, days, exc, needs_reauth=True))
                return
            except (ProviderError, httpx.HTTPError) as exc:
                await asyncio.to_thread(repo.mark, conn.id, error=str(exc))
                result.failures.append(_failure(conn, days, exc))
                return
        await asyncio.to_thread(repo.mark, conn.id)
        frames.append(frame)

    async with httpx.AsyncClient() as http:
        outcomes = await asyncio.gather(*(one(c, http) for c in connections),
                                        return_exceptions=True)
    # An unexpected error in one user's pull must not lose the others' records: it is
    # reported as that user's failure (with its type), and the step fails after storing.
    for conn, outcome in zip(connections, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            result.failures.append(_failure(conn, days_by_user[conn.user_id], outcome))
    if frames:
        result.raw = pl.concat(frames, how="vertical")
    result.users_pulled = len(frames)
    return result


def _failure(conn: Connection, days: pl.Series, exc: Exception,
             needs_reauth: bool = False) -> PartitionFailure:
    log.warning("pull failed: provider=%s user=%s: %s", conn.provider, conn.user_id, exc)
    return PartitionFailure(conn.user_id, conn.provider,
                            tuple(str(d) for d in days.sort().to_list()),
                            f"{type(exc).__name__}: {exc}", needs_reauth)


@dataclass
class NormaliseResult:
    values: pl.DataFrame
    quarantine: pl.DataFrame
    failures: list[PartitionFailure] = field(default_factory=list)


def normalise(registry: ProviderRegistry, raw: pl.DataFrame) -> NormaliseResult:
    """Format raw records of every provider and record type, then split valid / quarantine.

    A record type whose payloads have an unknown shape fails loudly for its users' days (the
    rest goes on); it never yields zero rows in silence.
    """
    values: list[pl.DataFrame] = []
    failures: list[PartitionFailure] = []
    for (slug,), group in raw.group_by(["provider"]):
        try:
            provider = registry.get(str(slug))
            # One call per provider: some record types anchor on others (Whoop recovery on
            # its cycle), so they are formatted together.
            values.append(provider.format(group))
        except ProviderError as exc:
            log.error("format failed: %s: %s", slug, exc)
            failures.extend(_format_failures(str(slug), group, exc))
    frame = (pl.concat(values, how="vertical") if values
             else pl.DataFrame(schema=INDICATOR_VALUE_COLUMNS))
    if frame.height == 0:
        return NormaliseResult(frame, pl.DataFrame(schema=QUARANTINE_COLUMNS), failures)
    valid, quarantine = split_valid(frame)
    return NormaliseResult(valid, quarantine, failures)



def _format_failures(slug: str, group: pl.DataFrame, exc: ProviderError) -> list[PartitionFailure]:
    record_type = getattr(exc, "record_type", None)
    failed = group if record_type is None else group.filter(pl.col("record_type") == record_type)
    return [PartitionFailure(str(user), slug,
                             tuple(sorted({str(d) for d in per_user["day"].to_list()})),
                             f"{type(exc).__name__}: {exc}")
            for (user,), per_user in failed.group_by(["user_id"])]
