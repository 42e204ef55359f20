"""An uploaded Apple Health export through Dagster: the sensor adds the uploader's partition
and asks for a parse run, `raw_apple_health` stores the export's documents, the sensor then
asks for runs normalising the days the export touched, and the daily summary holds the
physiology's values."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import Engine, text

from mirobody_assets.pipeline.apple_health import apple_health_imports, raw_apple_health
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.apple_health_imports import record_upload, upload_dir
from providers.sandbox.apple_health import write_export_zip
from providers.sandbox.physiology import PERSONS, day_truth

from .conftest import TODAY

FIRST, LAST = TODAY - timedelta(days=3), TODAY - timedelta(days=1)


def _upload(engine: Engine, mirobody: MirobodyResource, user: str) -> Path:
    folder = upload_dir(mirobody.settings.data_dir, user)
    folder.mkdir(parents=True)
    path = write_export_zip(folder / "a.upload", PERSONS["ada"], FIRST, LAST, heart_every_s=3600)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    with engine.begin() as conn:
        record_upload(conn, user, path, path.stat().st_size, digest)
    return path


def _tick(instance: dg.DagsterInstance, mirobody: MirobodyResource) -> dg.SensorResult:
    with dg.build_sensor_context(instance=instance, resources={"mirobody": mirobody}) as context:
        result = apple_health_imports(context)
    assert isinstance(result, dg.SensorResult)
    return result


def test_an_upload_is_parsed_then_its_days_normalised(
    dagster_instance: dg.DagsterInstance,
    mirobody: MirobodyResource,
    engine: Engine,
    make_user: Callable[[], str],
) -> None:
    user = make_user()
    path = _upload(engine, mirobody, user)

    # (other tests' uploads may wait in the same database: only this user's are looked at)
    parse = _tick(dagster_instance, mirobody)
    (request,) = [r for r in parse.run_requests or [] if (r.partition_key or "").endswith(user)]
    assert request.job_name == "apple_health_import"
    (added,) = parse.dynamic_partitions_requests or []
    assert user in added.partition_keys
    dagster_instance.add_dynamic_partitions("users", [user])
    result = dg.materialize(
        [raw_apple_health],
        instance=dagster_instance,
        resources={"mirobody": mirobody},
        partition_key=request.partition_key,
    )
    meta = result.asset_materializations_for_node("raw_apple_health")[0].metadata
    assert meta["imports"].value == 1 and meta["new_records"].value > 0
    assert not path.exists()  # parsed: the upload is gone, its records are raw documents

    def mine(result: dg.SensorResult) -> list[dg.RunRequest]:
        return [
            r for r in result.run_requests or [] if user in (r.partition_key or "") + str(r.tags)
        ]

    normalise = mine(_tick(dagster_instance, mirobody))
    assert [r.job_name for r in normalise] == ["apple_health_normalise"]
    assert mine(_tick(dagster_instance, mirobody)) == []  # asked for once
    with engine.connect() as conn:
        status = conn.execute(
            text("SELECT status FROM apple_health_imports WHERE user_id = :u"), {"u": user}
        ).scalar_one()
    assert status == "imported"

    done = dg.materialize(
        ALL_ASSETS,
        instance=dagster_instance,
        resources={"mirobody": mirobody},
        tags=normalise[0].tags,
        selection=dg.AssetSelection.groups("normalised", "upload"),
    )
    assert done.success
    with engine.connect() as conn:
        steps = dict(
            conn.execute(
                text(
                    "SELECT day, value FROM daily_summary WHERE user_id = :u "
                    "AND indicator = 'steps' AND source = 'apple_health.watch'"
                ),
                {"u": user},
            ).all()
        )
    expected = {
        d: t.activity.steps
        for i in range(3)
        if (t := day_truth(PERSONS["ada"], d := FIRST + timedelta(days=i))).activity
    }
    assert steps == expected
