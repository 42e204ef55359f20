"""One bad vendor record costs only itself: pulled over real HTTP from the sandbox, every
vendor's batch gets poison records (an unknown unit, an unparsable time, a missing anchor, a
missing required field); exactly those fail, naming the payload field, and every other record
formats as it would alone."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from providers.errors import RecordFormatError
from providers.raw import make_record, raw_frame
from providers.types import MemoryTokenStore, Window
from tests.support.poison import POISONS, Poison, names_field

pytestmark = pytest.mark.anyio
WINDOW = Window.for_days(date(2025, 2, 10), date(2025, 2, 12))
CASES = [
    pytest.param(slug, poison, id=f"{slug}-{poison.case}")
    for slug, poisons in POISONS.items()
    for poison in poisons
]


async def _pull(registry: Any, link: Any, slug: str) -> tuple[Any, pl.DataFrame]:
    provider = registry.get(slug)
    connection = await link(provider, connection_id=f"iso-{slug}")
    return provider, await provider.pull(connection, WINDOW, MemoryTokenStore())


def _poison(raw: pl.DataFrame, slug: str, poison: Poison) -> pl.DataFrame:
    """A copy of the batch's first record of the type, mutated, under a vendor id of its own."""
    source = raw.filter(pl.col("record_type") == poison.record_type).row(0, named=True)
    vendor_id = f"poison-{poison.case}-{poison.record_type}"
    return raw_frame(
        [
            make_record(
                slug,
                source["user_id"],
                poison.record_type,
                vendor_id,
                None,
                source["day"],
                poison.apply(source["payload"], vendor_id),
            )
        ]
    )


def _sorted(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.sort(rows.columns, nulls_last=True)


@pytest.mark.parametrize(("slug", "poison"), CASES)
async def test_a_poison_record_fails_alone_and_names_its_field(
    registry: Any, link: Any, slug: str, poison: Poison
) -> None:
    provider, raw = await _pull(registry, link, slug)
    bad = _poison(raw, slug, poison)
    result = provider.format_isolated(pl.concat([raw, bad]))
    assert result.failures["record_id"].to_list() == bad["vendor_id"].to_list()
    failure = result.failures.row(0, named=True)
    assert (failure["provider"], failure["record_type"]) == (slug, poison.record_type)
    assert (failure["field_path"], failure["reason"]) == (poison.field_path, poison.reason)
    assert names_field(failure["detail"], poison.field_path)
    assert_frame_equal(_sorted(result.rows), _sorted(provider.format(raw)))


@pytest.mark.parametrize("slug", list(POISONS))
async def test_every_poison_of_a_batch_is_found_and_the_rest_is_formatted(
    registry: Any, link: Any, slug: str
) -> None:
    provider, raw = await _pull(registry, link, slug)
    poisons = pl.concat([_poison(raw, slug, poison) for poison in POISONS[slug]])
    mixed = pl.concat([raw, poisons]).sample(fraction=1.0, shuffle=True, seed=7)
    result = provider.format_isolated(mixed)
    assert sorted(result.failures["record_id"]) == sorted(poisons["vendor_id"])
    assert result.failures["field_path"].null_count() == 0
    assert_frame_equal(_sorted(result.rows), _sorted(provider.format(raw)))


async def test_the_strict_format_names_the_field_of_an_unknown_unit(
    registry: Any, link: Any
) -> None:
    provider, raw = await _pull(registry, link, "withings")
    poison = _poison(raw, "withings", POISONS["withings"][0])
    with pytest.raises(RecordFormatError, match=r"measures\[\]\.unit") as raised:
        provider.format(pl.concat([raw, poison]))
    assert raised.value.field == "measures[].unit"
    assert raised.value.record_ids == tuple(poison["vendor_id"])


async def test_a_recovery_outside_the_batch_of_its_sleep_is_dated_by_the_sleep_as_context(
    registry: Any, link: Any
) -> None:
    provider, raw = await _pull(registry, link, "whoop")
    recovery = raw.filter(pl.col("record_type") == "recovery").row(0, named=True)
    sleep_id = recovery["vendor_id"]  # a recovery is stored under its sleep's id
    is_sleep = (pl.col("record_type") == "sleep") & (pl.col("vendor_id") == sleep_id)
    batch = raw.filter(~is_sleep)
    wanted = provider.anchor_requests(batch)
    assert wanted.select("record_type", "vendor_id").rows() == [("sleep", sleep_id)]
    alone = provider.format_isolated(batch)
    assert alone.failures.select("record_id", "reason").rows() == [(sleep_id, "missing_anchor")]
    anchored = provider.format_isolated(batch, context=raw.filter(is_sleep))
    assert anchored.failures.height == 0
    full = provider.format(raw)
    of_sleeps = [f.indicator for f in provider.mappings["sleep"].fields]
    sleep_rows = full.filter(
        (pl.col("record_id") == sleep_id) & pl.col("indicator").is_in(of_sleeps)
    )
    assert sleep_rows.height  # ... which the context sleep itself does not add
    assert_frame_equal(
        _sorted(anchored.rows), _sorted(full.join(sleep_rows, on=list(full.columns), how="anti"))
    )


@pytest.mark.parametrize(
    ("slug", "record_type", "anchor_types"),
    [
        ("polar", "continuous-heart-rate", {"sleep", "exercises"}),
        ("withings", "intraday", {"activity", "sleep", "workouts"}),
    ],
)
async def test_offsets_from_anchors_outside_the_batch_come_from_the_context(
    registry: Any, link: Any, slug: str, record_type: str, anchor_types: set[str]
) -> None:
    provider, raw = await _pull(registry, link, slug)
    documents = raw.filter(pl.col("record_type") == record_type)
    wanted = provider.anchor_requests(documents)
    assert set(wanted["record_type"]) == anchor_types
    first = documents["day"].min()
    assert isinstance(first, date)
    assert wanted["first_day"].min() == first - timedelta(days=7)
    alone = provider.format_isolated(documents).rows
    assert set(alone["tz_offset_s"]) == {0}  # nothing in the batch gives the offset: UTC
    context = raw.filter(pl.col("record_type").is_in(list(anchor_types)))
    anchored = provider.format_isolated(documents, context=context)
    assert_frame_equal(
        _sorted(anchored.rows),
        _sorted(
            provider.format(raw).filter(pl.col("record_id").is_in(documents["vendor_id"].implode()))
        ),
    )
    assert set(anchored.rows["tz_offset_s"]) == {3600}
