"""Backfill N users x D days across every provider through Dagster, vectorised, and compare with
one run per user-day.

    .venv/bin/python bench/pipeline_backfill.py [--users 200] [--days 30] [--sample 6]

Starts its own embedded PostgreSQL (or uses DATABASE_URL) and the sandbox vendor cloud in a
separate process, links every user to every vendor through the real OAuth flow, then:
1. one run over all users x days (sandbox pull -> raw -> normalised -> daily -> upload), printing
   user-days/s and rows/s for each stage;
2. each stage's floor on the same rows, in the same process: polars compute plus Parquet read
   and write only (normalise: formatting the raw frames already in memory + writing the values
   one file per user-month; daily: reading those files + the roll-up; upload: writing the daily
   summaries and raw-record index one file per user-month), and the stage / floor ratio;
3. `--sample` user-days launched as one run each, timed, extrapolated to all user-days, and the
   ratio. (In-process runs here; a launched run on the daemon costs seconds more each.)
Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from indicators.aggregate import daily_summary as aggregate_daily
from mirobody_assets import ingest
from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import PARTITIONS, partitions_frame, range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.sandbox_link import link_sandbox_person
from mirobody_assets.settings import get_settings
from mirobody_assets.storage import migrate, raw_store, serving
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.embedded import start_services
from mirobody_assets.storage.engine import make_engine
from mirobody_assets.storage.facts import with_local_day
from mirobody_assets.storage.models import User
from providers.errors import OAuthFlowError

warnings.filterwarnings("ignore")
ROOT = Path(__file__).resolve().parent.parent
STAGES = {
    "pull -> raw": "raw_",
    "normalise": "indicator_values",
    "daily": "daily_summary",
    "upload": "warehouse",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "providers.sandbox.app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(url + "/", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("sandbox did not start")


async def _link_all(
    resource: MirobodyResource, repo: ConnectionRepository, users: list[str]
) -> int:
    gate = asyncio.Semaphore(4)
    providers = []
    for provider in resource.registry.enabled():
        try:
            provider.oauth_config()
        except OAuthFlowError:  # Apple Health: uploads, no OAuth
            continue
        providers.append(provider)

    async def one(i: int, user: str, provider: object) -> None:
        async with gate:
            await link_sandbox_person(provider, repo, user, f"{('ada', 'ben')[i % 2]}~{i}")  # type: ignore[arg-type]

    await asyncio.gather(*(one(i, u, p) for i, u in enumerate(users) for p in providers))
    return len(providers)


def _step_seconds(instance: dg.DagsterInstance, run_id: str) -> dict[str, float]:
    return {
        st.step_key: (st.end_time or 0) - (st.start_time or 0)
        for st in instance.get_run_step_stats(run_id)
    }


def _rows(result: dg.ExecuteInProcessResult) -> dict[str, int]:
    rows: dict[str, int] = {}
    for mat in result.get_asset_materialization_events():
        meta = mat.materialization.metadata
        key = mat.asset_key.to_user_string()
        for name in ("pulled_records", "rows_written", "dagster/row_count"):
            if name in meta and key not in rows:
                rows[key] = int(meta[name].value)  # type: ignore[arg-type]
    return rows


def _write_months(frame: pl.DataFrame, root: Path) -> int:
    """Write a frame as one Parquet file per user and month (the layout's write cost)."""
    month = pl.col("day").dt.strftime("%Y-%m").alias("month")
    groups = frame.with_columns(month).partition_by(["user_id", "month"], as_dict=True)
    for (user, mon), group in groups.items():
        path = root / str(user) / f"{mon}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        group.drop("month").write_parquet(path, statistics=True)
    return len(groups)


@dg.asset(partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
def bookkeeping(context) -> dg.MaterializeResult:  # type: ignore[no-untyped-def]
    """Does nothing for the run's partitions: its step time is Dagster's own per stage (one
    materialization event per partition)."""
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


def _bookkeeping_s(
    instance: dg.DagsterInstance, first: date, last: date, user_ids: list[str]
) -> float:
    run = dg.materialize(
        [bookkeeping], instance=instance, tags=range_tags(first, last, user_ids[0], user_ids[-1])
    )
    return sum(_step_seconds(instance, run.run_id).values())


def _floors(
    resource: MirobodyResource, engine: Engine, parts: pl.DataFrame, scratch: Path
) -> dict[str, float]:
    """Each stage's floor on the same rows: polars compute plus Parquet read and write."""
    with engine.connect() as conn:
        raw = raw_store.load_latest_raw(
            conn, parts["user_id"].unique().to_list(), parts["day"].unique().to_list()
        )
        summary = serving.load_daily_summary(conn, parts)
        index = raw_store.load_raw_index(conn, parts)
    t0 = time.perf_counter()
    values = with_local_day(ingest.normalise(resource.registry, raw).values)
    compute = time.perf_counter() - t0
    _write_months(values, scratch / "indicator_values")
    normalise = time.perf_counter() - t0
    print(
        f"  (normalise floor: formatting {compute:.2f} s of {values.height} rows, "
        f"Parquet write {normalise - compute:.2f} s)"
    )
    t0 = time.perf_counter()
    stored = pl.read_parquet(sorted((scratch / "indicator_values").glob("*/*.parquet")))
    aggregate_daily(stored.drop("day"))
    daily = time.perf_counter() - t0
    t0 = time.perf_counter()
    _write_months(summary, scratch / "daily_summary")
    _write_months(index, scratch / "raw_records_index")
    upload = time.perf_counter() - t0
    return {"normalise": normalise, "daily": daily, "upload": upload}


def _profile_rerun(
    instance: dg.DagsterInstance,
    resource: MirobodyResource,
    first: date,
    last: date,
    user_ids: list[str],
) -> None:
    """Re-run the three stages after the pull under cProfile (the fact files exist now)."""
    import cProfile
    import pstats

    stages = [a for a in ALL_ASSETS if not a.key.to_user_string().startswith("raw_")]
    profiler = cProfile.Profile()
    t0 = time.perf_counter()
    profiler.enable()
    again = dg.materialize(
        stages,
        instance=instance,
        resources={"mirobody": resource},
        tags=range_tags(first, last, user_ids[0], user_ids[-1]),
    )
    profiler.disable()
    assert again.success
    spans = _step_seconds(instance, again.run_id)
    print(
        f"\nre-run of normalise, daily, upload in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in spans.items())
    )
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--sample", type=int, default=6)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="re-run normalise, daily and upload under cProfile; print the top",
    )
    args = parser.parse_args()
    # SIGTERM (a timeout, a kill) still stops the embedded servers and the sandbox below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    tmp = Path(tempfile.mkdtemp(prefix="mirobody-bench-"))
    services = start_services(tmp, os.environ.get("DATABASE_URL"), None)
    sandbox, sandbox_url = _start_sandbox()
    try:
        migrate.upgrade(services.database_url)
        keys = "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
        resource = MirobodyResource(
            database_url=services.database_url,
            data_dir=str(tmp),
            sandbox_url=sandbox_url,
            token_encryption_keys=keys,
        )
        engine = make_engine(services.database_url)
        with Session(engine) as s, s.begin():
            users = [User(email=f"bench-{uuid.uuid4().hex}@example.org") for _ in range(args.users)]
            s.add_all(users)
            s.flush()
            user_ids = [str(u.id) for u in users]
        repo = ConnectionRepository(
            engine, TokenCipher(get_settings(token_encryption_keys=keys).encryption_keys())
        )
        t0 = time.perf_counter()
        n_providers = asyncio.run(_link_all(resource, repo, user_ids))
        print(
            f"linked {args.users} users x {n_providers} providers through OAuth in "
            f"{time.perf_counter() - t0:.1f} s"
        )

        home = tmp / "dagster"
        home.mkdir()
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        os.environ["DAGSTER_PG_URL"] = services.dagster_pg_url
        instance = dg.DagsterInstance.from_config(str(home))
        instance.add_dynamic_partitions("users", user_ids)
        last = datetime.now(UTC).date() - timedelta(days=1)
        first = last - timedelta(days=args.days - 1)
        user_days = args.users * args.days

        t0 = time.perf_counter()
        result = dg.materialize(
            ALL_ASSETS,
            instance=instance,
            resources={"mirobody": resource},
            tags=range_tags(first, last, user_ids[0], user_ids[-1]),
        )
        wall = time.perf_counter() - t0
        assert result.success
        spans, rows = _step_seconds(instance, result.run_id), _rows(result)
        stage_s: dict[str, float] = {}
        print(
            f"\nvectorised: one run, {args.users} users x {args.days} days = {user_days} "
            f"user-days in {wall:.1f} s ({user_days / wall:.1f} user-days/s)"
        )
        for stage, prefix in STAGES.items():
            secs = sum(v for k, v in spans.items() if k.startswith(prefix))
            n = sum(v for k, v in rows.items() if k.startswith(prefix))
            print(
                f"  {stage:<12} {secs:7.1f} s  {user_days / max(secs, 1e-9):9.1f} user-days/s"
                f"  {n:>10} rows  {n / max(secs, 1e-9):11.0f} rows/s"
            )
            stage_s[stage] = secs

        keys = [
            dg.MultiPartitionKey({"date": (first + timedelta(days=d)).isoformat(), "user": u})
            for u in user_ids
            for d in range(args.days)
        ]
        floors = _floors(resource, engine, partitions_frame([str(k) for k in keys]), tmp / "floor")
        overhead = _bookkeeping_s(instance, first, last, user_ids)
        print(
            "\nfloors on the same rows (polars compute + Parquet read/write), same process; "
            f"Dagster's own cost of a stage over these partitions (a no-op asset): "
            f"{overhead:.2f} s"
        )
        for stage, floor in floors.items():
            print(
                f"  {stage:<12} {stage_s[stage]:7.1f} s  floor {floor:6.2f} s  "
                f"ratio {stage_s[stage] / max(floor, 1e-9):5.1f}x  without Dagster's "
                f"{(stage_s[stage] - overhead) / max(floor, 1e-9):5.1f}x"
            )
        together = sum(stage_s[s] for s in floors)
        print(
            f"  normalise + daily + upload: {together:.1f} s (floor {sum(floors.values()):.2f} s)"
        )

        if args.profile:
            _profile_rerun(instance, resource, first, last, user_ids)

        sample = random.Random(7).sample(
            [(u, first + timedelta(days=d)) for u in user_ids for d in range(args.days)],
            args.sample,
        )
        t0 = time.perf_counter()
        for user, day in sample:
            one = dg.materialize(
                ALL_ASSETS,
                instance=instance,
                resources={"mirobody": resource},
                tags=range_tags(day, day, user, user),
            )
            assert one.success
        per_run = (time.perf_counter() - t0) / args.sample
        extrapolated = per_run * user_days
        print(
            f"\none run per user-day: {args.sample} sampled runs, {per_run:.2f} s each "
            f"(in-process) -> {extrapolated:.0f} s for {user_days} user-days"
        )
        print(f"ratio (per-user-day / vectorised): {extrapolated / wall:.1f}x")
        instance.dispose()
        engine.dispose()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=10)
        services.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
