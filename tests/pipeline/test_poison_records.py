"""Poison records in the pipeline: a raw record that cannot be formatted is quarantined with its
provider, record type, vendor id, field and reason; every other record of its provider and user
is stored; a partition whose stored values would have come from it keeps them; the failure is
in the run's metadata and a retry request. Vendors and the sandbox speak real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any

import dagster as dg
import polars as pl
import pytest
from sqlalchemy import Engine, text

from mirobody_assets import ingest
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage import raw_store
from providers.raw import make_record, raw_frame
from providers.registry import ProviderRegistry
from providers.sandbox import SandboxServer
from tests.support.poison import POISONS, Poison, names_field

from .conftest import TODAY
from .test_materialize import _snapshot

DAY = TODAY - timedelta(days=2)
SLUGS = list(POISONS)
NEWER = "zz-newer"  # a version after any the vendors send


def _run(
    instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    users: list[str],
    first: date = DAY,
    last: date = DAY,
) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        ALL_ASSETS,
        instance=instance,
        resources={"mirobody": mirobody},
        tags=range_tags(first, last, users[0], users[-1]),
    )


def _stored(engine: Engine, user: str, record_type: str) -> dict[str, object]:
    """The latest stored raw record of the type, on DAY or the nearest day to it."""
    with engine.connect() as conn:
        raw = raw_store.load_latest_raw(conn, [user], [DAY])
    of_type = raw.filter(
        (pl.col("record_type") == record_type) & ~pl.col("vendor_id").str.starts_with("poison-")
    ).with_columns((pl.col("day") - DAY).abs().alias("_far"))
    return of_type.sort("_far", "vendor_id").row(0, named=True)


def _insert(engine: Engine, slug: str, user: str, poison: Poison, *, same_id: bool) -> str:
    """Store a poisoned copy of one of the user's records: a new record of its own on DAY,
    or (`same_id`) a newer version of that very record. Returns its vendor id."""
    source = _stored(engine, user, poison.record_type)
    vendor_id = str(source["vendor_id"]) if same_id else f"poison-{poison.case}"
    doc = poison.apply(str(source["payload"]), None if same_id else vendor_id)
    day = source["day"] if same_id else DAY
    record = make_record(
        slug,
        user,
        poison.record_type,
        vendor_id,
        NEWER,
        day,  # type: ignore[arg-type]
        doc,
    )
    with engine.begin() as conn:
        assert raw_store.insert_raw_records(conn, raw_frame([record])) == 1
    return vendor_id


def _quarantined_records(engine: Engine, user: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT source, record_type, record_id, field_path, reason, detail, "
                    "partition_day FROM quarantined_values WHERE partition_user = :u "
                    "AND record_type IS NOT NULL "
                    "ORDER BY record_id"
                ),
                {"u": user},
            ).all()
        ]


def _retries(engine: Engine, user: str) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT provider, kind, start_day, end_day, error FROM sync_requests "
                    "WHERE user_id = :u AND kind = 'retry'"
                ),
                {"u": user},
            ).all()
        ]


def _rounded(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Floats to 9 decimals: polars' vectorised division may round the last bit differently
    with the batch's length and layout (e.g. Garmin's wake time in minutes), which is not
    what this file tests."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows]


def _changes(before: list[tuple[Any, ...]], after: list[tuple[Any, ...]]) -> str:
    gone, new = set(before) - set(after), set(after) - set(before)
    return f"gone: {sorted(gone, key=str)[:5]}; new: {sorted(new, key=str)[:5]}"


def _iv_metadata(result: dg.ExecuteInProcessResult) -> dict[str, object]:
    event = next(
        e
        for e in result.get_asset_materialization_events()  # one per partition
        if e.asset_key == dg.AssetKey("indicator_values")
    )
    return {k: getattr(v, "value", v) for k, v in event.materialization.metadata.items()}


@pytest.mark.parametrize("slug", SLUGS)
def test_poison_records_are_quarantined_and_every_other_record_is_stored(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
    slug: str,
) -> None:
    clean, poisoned = make_user(), make_user()
    link(clean, slug, "ada")
    link(poisoned, slug, "ada")  # the same person through another vendor account
    dagster_instance.add_dynamic_partitions("users", [clean, poisoned])
    _run(dagster_instance, mirobody, [clean, poisoned])
    ids = {_insert(engine, slug, poisoned, p, same_id=False): p for p in POISONS[slug]}

    result = _run(dagster_instance, mirobody, [clean, poisoned])

    snap = _snapshot(engine, [clean, poisoned], mirobody)
    values = {
        u: _rounded([r[1:-1] for r in snap["indicator_values"] if r[0] == u])
        for u in (clean, poisoned)
    }  # all but the vendor's record ids
    assert values[clean] and values[poisoned] == values[clean]
    quarantined = _quarantined_records(engine, poisoned)
    assert sorted(r[2] for r in quarantined) == sorted(ids)  # exactly the poison records
    for source, record_type, record_id, field, reason, detail, day in quarantined:
        poison = ids[str(record_id)]
        assert (source, record_type, day) == (slug, poison.record_type, DAY)
        assert (field, reason) == (poison.field_path, poison.reason)
        assert names_field(str(detail), poison.field_path)
    assert not _quarantined_records(engine, clean)
    ((provider, _, start, end, error),) = _retries(engine, poisoned)
    assert (provider, start, end) == (slug, DAY, DAY)
    assert f"{len(ids)} records not formatted" in str(error)
    failed = _iv_metadata(result)["failed user-days"]
    assert [f["user"] for f in failed] == [poisoned]  # type: ignore[attr-defined]


@pytest.mark.parametrize("slug", SLUGS)
def test_a_rerun_whose_raw_input_now_fails_to_format_keeps_the_stored_values(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
    slug: str,
) -> None:
    user = make_user()
    link(user, slug, "ben")
    dagster_instance.add_dynamic_partitions("users", [user])
    days = (DAY - timedelta(days=1), DAY + timedelta(days=1))
    _run(dagster_instance, mirobody, [user], *days)
    before = _snapshot(engine, [user], mirobody)
    assert before["indicator_values"] and before["daily_summary"]
    # New versions of records already formatted and stored, that no longer format.
    poisons = {p.record_type: p for p in POISONS[slug]}.values()
    ids = {_insert(engine, slug, user, p, same_id=True) for p in poisons}

    _run(dagster_instance, mirobody, [user], *days)

    after = _snapshot(engine, [user], mirobody)
    for table in ("indicator_values", "daily_summary"):
        was, now = _rounded(before[table]), _rounded(after[table])
        assert now == was, _changes(was, now)
    assert {r[2] for r in _quarantined_records(engine, user)} == ids
    ((provider, _, start, end, error),) = _retries(engine, user)
    assert provider == slug and days[0] <= start <= end <= days[1] and "field" in str(error)


def test_a_recovery_whose_sleep_is_outside_the_run_is_dated_by_the_stored_sleep(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    _run(dagster_instance, mirobody, [user])
    recovery = _stored(engine, user, "recovery")
    later = DAY + timedelta(days=5)  # stored days after its sleep (a late re-delivery)
    redelivered = json.loads(str(recovery["payload"])) | {"updated_at": f"{later}T09:00:00Z"}
    with engine.begin() as conn:
        assert (
            raw_store.insert_raw_records(
                conn,
                raw_frame(
                    [
                        make_record(
                            "whoop",
                            user,
                            "recovery",
                            str(recovery["vendor_id"]),
                            NEWER,
                            later,
                            redelivered,
                        )
                    ]
                ),
            )
            == 1
        )
        raw = raw_store.load_latest_raw(conn, [user], [later])
    assert set(raw["record_type"]) == {"recovery"}  # its sleep is not in the run's batch

    alone = ingest.normalise(mirobody.registry, raw)
    assert alone.records.select("record_id", "reason").rows() == [
        (recovery["vendor_id"], "missing_anchor")
    ]
    with engine.connect() as conn:
        anchored = ingest.normalise(
            mirobody.registry, raw, partial(raw_store.load_anchor_records, conn)
        )
    assert anchored.records.height == 0
    stored = _snapshot(engine, [user], mirobody)["indicator_values"]
    # dated by its sleep's end, as the first run stored it
    expected = sorted(
        (r[1], r[3])
        for r in stored
        if r[-1] == recovery["vendor_id"] and r[1] in set(anchored.values["indicator"])
    )
    assert (
        sorted(zip(anchored.values["indicator"], anchored.values["time"], strict=True)) == expected
    )


def test_a_provider_that_cannot_format_at_all_keeps_its_stored_values_without_retries(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    sandbox: SandboxServer,
    make_user: Callable[[], str],
    link: Callable[[str, str, str], str],
) -> None:
    user = make_user()
    link(user, "whoop", "ada")
    dagster_instance.add_dynamic_partitions("users", [user])
    _run(dagster_instance, mirobody, [user])
    before = _snapshot(engine, [user], mirobody)
    assert before["indicator_values"]
    without_whoop = ProviderRegistry.from_entry_points(
        {k: v for k, v in sandbox.settings().items() if k != "whoop"}
    )
    parts = pl.DataFrame({"user_id": [user], "day": [DAY]})
    with engine.connect() as conn:
        raw = raw_store.load_latest_raw(conn, [user], [DAY])
    result = ingest.normalise(without_whoop, raw)
    failed = ingest.failed_partitions(result, parts)
    assert [(f.provider, f.days, f.retry) for f in failed] == [("whoop", (str(DAY),), False)]
    assert "disabled" in failed[0].cause or "not configured" in failed[0].cause
    mirobody.facts.replace_partitions(result.values, parts, result.kept_records())
    assert _snapshot(engine, [user], mirobody)["indicator_values"] == before["indicator_values"]
