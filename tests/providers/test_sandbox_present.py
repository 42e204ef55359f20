"""The sandbox never serves the future: on a day that is not over, vendors hold what has
happened so far (partial totals, no sleep or workout still to come, samples up to now)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from providers.sandbox.app import SandboxCloud
from providers.sandbox.physiology import PERSONS, day_truth
from providers.types import MemoryTokenStore, Window

pytestmark = pytest.mark.anyio
ADA = PERSONS["ada"]


def test_a_day_not_over_holds_only_what_has_happened() -> None:
    day = datetime(2025, 3, 11).date()
    whole = day_truth(ADA, day)
    midday = whole.local_midnight + 13 * 3600  # 13:00 local
    so_far = day_truth(ADA, day, now=midday)
    assert whole.activity is not None and so_far.activity is not None
    assert so_far.activity.steps == int(whole.activity.steps * 13 / 24)
    assert so_far.until == midday and so_far.pending
    assert so_far.body is None or so_far.body.time <= midday
    assert so_far.workout is None or (so_far.workout.start + so_far.workout.duration_s <= midday)
    before = day_truth(ADA, day, now=whole.local_midnight - 1)
    assert before.activity is None and before.sleep is None and before.workout is None
    assert day_truth(ADA, day, now=whole.local_midnight + 2 * 86400) == whole


@pytest.fixture(scope="module")
def present() -> SandboxServer:
    """A sandbox whose today is the real one (as `mirobody up` runs it)."""
    server = SandboxServer(SandboxCloud(today=datetime.now(UTC).date())).start()
    yield server
    server.stop()


async def test_no_vendor_serves_a_sample_after_now(present: SandboxServer, link) -> None:
    registry = ProviderRegistry.from_entry_points(present.settings())
    now = datetime.now(UTC)
    window = Window(now - timedelta(days=2), now + timedelta(days=2))
    later = []
    for slug in ("oura", "polar", "garmin", "withings", "whoop"):
        provider = registry.get(slug)
        connection = await link(provider, "kai", connection_id=f"now-{slug}")
        rows = provider.format(await provider.pull(connection, window, MemoryTokenStore()))
        assert rows.height > 0, slug
        late = rows.filter(pl.coalesce("end_time", "time") > pl.lit(now + timedelta(seconds=5)))
        later.append(late.with_columns(pl.lit(slug).alias("vendor")))
    future = pl.concat(later)
    # day-long summaries of today end at local midnight by definition; nothing else may
    day_long = (pl.col("end_time") - pl.col("time")) >= pl.duration(hours=20)
    assert future.filter(~day_long).height == 0, str(future.filter(~day_long).head(10))
    assert time.time() >= now.timestamp()
