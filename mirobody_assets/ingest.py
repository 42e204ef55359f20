"""The pipeline's work, free of Dagster: pull, store raw, normalise, aggregate, upload.

Every function takes a whole set of partitions (a frame of user_id, day pairs) and works on
all of them at once: pulls run concurrently across users, formatting and aggregation are
vectorised polars over every user and day of the run.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
import polars as pl

from indicators.frames import INDICATOR_VALUE_COLUMNS, RAW_RECORD_COLUMNS
from indicators.quarantine import QUARANTINE_COLUMNS, RECORD_FAILURE_COLUMNS, split_valid
from indicators.zones import resolve_offsets
from mirobody_assets.connections import ConnectionRepository
from providers.base import Provider
from providers.errors import ProviderDisabledError, ProviderError, ReconnectRequiredError
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
    retry: bool = True  # False: a re-run cannot help (the provider is disabled)


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


async def pull_partitions(
    provider: Provider, repo: ConnectionRepository, parts: pl.DataFrame, concurrency: int = 8
) -> PullResult:
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
                frame = await provider.pull(
                    conn, window_for(days), repo.token_store(conn), http=http
                )
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
        outcomes = await asyncio.gather(
            *(one(c, http) for c in connections), return_exceptions=True
        )
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


def _failure(
    conn: Connection, days: pl.Series, exc: Exception, needs_reauth: bool = False
) -> PartitionFailure:
    log.warning("pull failed: provider=%s user=%s: %s", conn.provider, conn.user_id, exc)
    return PartitionFailure(
        conn.user_id,
        conn.provider,
        tuple(str(d) for d in days.sort().to_list()),
        f"{type(exc).__name__}: {exc}",
        needs_reauth,
    )


@dataclass
class NormaliseResult:
    """Valid values, the quarantined values, the raw records that could not be formatted
    (`records`, indicators.quarantine.RECORD_FAILURE_COLUMNS) and the providers that could
    not format at all (`failures`)."""

    values: pl.DataFrame
    quarantine: pl.DataFrame
    failures: list[PartitionFailure] = field(default_factory=list)
    records: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema=RECORD_FAILURE_COLUMNS)
    )

    def kept_records(self) -> pl.DataFrame:
        """(user_id, provider, record_id) whose stored values must outlive this run: records
        that did not format (record_id null: all of a provider's records of the user)."""
        whole = pl.DataFrame(
            {
                "user_id": [f.user_id for f in self.failures],
                "provider": [f.provider for f in self.failures],
            },
            schema={"user_id": pl.String, "provider": pl.String},
        )
        return pl.concat(
            [
                self.records.select("user_id", "provider", "record_id"),
                whole.with_columns(pl.lit(None, pl.String).alias("record_id")),
            ]
        ).unique(maintain_order=True)


# (provider slug, anchor requests) -> the stored raw records they name
AnchorLookup = Callable[[str, pl.DataFrame], pl.DataFrame]
# formatted rows (offsets not yet resolved) -> their users' zone histories, learned from them
ZoneLookup = Callable[[pl.DataFrame], pl.DataFrame]


def normalise(
    registry: ProviderRegistry,
    raw: pl.DataFrame,
    anchors: AnchorLookup | None = None,
    zones: ZoneLookup | None = None,
) -> NormaliseResult:
    """Format raw records of every provider and record type, then split valid / quarantine.

    A record that cannot be formatted is returned in `records` with its field and reason and
    costs no other record its values; a record dated by another (WHOOP recovery by its sleep)
    finds it through `anchors` when it is not in `raw`. A provider that cannot format at all
    (disabled) is a failure for its users' days; it never yields zero rows in silence. Rows
    whose vendor states no offset take their person's zone (`zones`, which may learn it from
    the offsets every vendor stated in this batch first); UTC without it.
    """
    values: list[pl.DataFrame] = []
    records: list[pl.DataFrame] = []
    failures: list[PartitionFailure] = []
    for (slug,), group in raw.group_by(["provider"]):
        try:
            provider = registry.get(str(slug))
        except ProviderError as exc:
            log.error("format failed: %s: %s", slug, exc)
            failures.extend(_format_failures(str(slug), group, exc))
            continue
        # One call per provider: some record types anchor on others (Whoop recovery on
        # its sleep), so they are formatted together, with the anchors from storage.
        context = anchors(str(slug), provider.anchor_requests(group)) if anchors else None
        result = provider.format_isolated(group, context, resolve=False)
        values.append(result.rows)
        records.append(result.failures)
    frame = (
        pl.concat(values, how="vertical")
        if values
        else pl.DataFrame(schema=INDICATOR_VALUE_COLUMNS)
    )
    failed = (
        pl.concat(records, how="vertical")
        if records
        else pl.DataFrame(schema=RECORD_FAILURE_COLUMNS)
    )
    if frame.height == 0:
        return NormaliseResult(frame, pl.DataFrame(schema=QUARANTINE_COLUMNS), failures, failed)
    frame = resolve_offsets(frame, zones(frame) if zones is not None else None)
    valid, quarantine = split_valid(frame)
    return NormaliseResult(valid, quarantine, failures, failed)


def failed_partitions(result: NormaliseResult, parts: pl.DataFrame) -> list[PartitionFailure]:
    """The run's partitions whose raw input did not (all) format, per user and provider: a
    record counts for its own day's partition (a neighbouring day's run only keeps its
    stored values); a provider that could not format at all, for every day of the run."""
    out: list[PartitionFailure] = []
    in_run = result.records.join(parts.select("user_id", "day"), on=["user_id", "day"], how="semi")
    for (user, slug), per in in_run.sort("day", "record_type", "record_id").group_by(
        ["user_id", "provider"], maintain_order=True
    ):
        first = per.row(0, named=True)
        out.append(
            PartitionFailure(
                str(user),
                str(slug),
                tuple(sorted({str(d) for d in per["day"].to_list()})),
                f"{per.height} records not formatted, e.g. {first['record_type']} "
                f"{first['record_id']} (field {first['field_path']}): {first['detail']}"[:2000],
            )
        )
    days_by_user = {
        str(u): {str(d) for d in g["day"].to_list()} for (u,), g in parts.group_by(["user_id"])
    }
    for failure in result.failures:
        days = tuple(d for d in failure.days if d in days_by_user.get(failure.user_id, ()))
        if days:
            out.append(
                PartitionFailure(
                    failure.user_id,
                    failure.provider,
                    days,
                    failure.cause,
                    failure.needs_reauth,
                    failure.retry,
                )
            )
    return out


def _format_failures(slug: str, group: pl.DataFrame, exc: ProviderError) -> list[PartitionFailure]:
    return [
        PartitionFailure(
            str(user),
            slug,
            tuple(sorted({str(d) for d in per_user["day"].to_list()})),
            f"{type(exc).__name__}: {exc}",
            retry=not isinstance(exc, ProviderDisabledError),
        )
        for (user,), per_user in group.group_by(["user_id"])
    ]
