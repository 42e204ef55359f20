"""A backfill of N users x D days as 1, 2 and 4 concurrent shard runs: its throughput per shard
count on this machine, printed with the CPU count.

    .venv/bin/python bench/sharded_backfill.py [--users 40] [--days 7] [--shards 1 2 4]

Starts its own embedded PostgreSQL (or uses DATABASE_URL) and the sandbox vendor cloud in a
separate process, links every user to every vendor through the real OAuth flow, then for each
shard count backfills the same partitions again from scratch (fresh users each round, so no
round reads another's raw records), every shard a run in its own process (as the run launcher
starts runs), all shards started together. The vendors' pools (one slot per vendor across all
runs) are in force as in production. Run by hand; never part of the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from pipeline_backfill import ROOT, _start_sandbox  # the same folder
from sqlalchemy.orm import Session

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.pipeline.schedules import user_shards
from mirobody_assets.sandbox_link import link_sandbox_person
from mirobody_assets.settings import get_settings
from mirobody_assets.storage import migrate
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.embedded import start_services
from mirobody_assets.storage.engine import make_engine
from mirobody_assets.storage.models import User
from providers.base import Provider
from providers.errors import OAuthFlowError


async def _link(
    resource: MirobodyResource, repo: ConnectionRepository, users: list[str], round_no: int
) -> None:
    """Every user to every OAuth vendor, each round with vendor accounts of its own."""
    gate = asyncio.Semaphore(4)
    providers = []
    for provider in resource.registry.enabled():
        try:
            provider.oauth_config()
        except OAuthFlowError:  # Apple Health: uploads, no OAuth
            continue
        providers.append(provider)

    async def one(i: int, user: str, provider: Provider) -> None:
        async with gate:
            account = f"{('ada', 'ben')[i % 2]}~r{round_no}-{i}"
            await link_sandbox_person(provider, repo, user, account)

    await asyncio.gather(*(one(i, u, p) for i, u in enumerate(users) for p in providers))


def _round(home: Path, fields: dict[str, str], users: list[str], shards: int, days: int) -> float:
    """Seconds for every shard run of `users` to end, all started at once."""
    last = datetime.now(UTC).date() - timedelta(days=1)
    first = last - timedelta(days=days - 1)
    per_run = -(-len(users) // shards)
    t0 = time.perf_counter()
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.run_shard",
                str(home),
                json.dumps(fields),
                json.dumps(range_tags(first, last, a, b)),
            ],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for a, b in user_shards(users, per_run)
    ]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise RuntimeError(f"a shard run failed: exit codes {codes}")
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--shards", type=int, nargs="+", default=[1, 2, 4])
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    tmp = Path(tempfile.mkdtemp(prefix="mirobody-shards-"))
    services = start_services(tmp, os.environ.get("DATABASE_URL"), None)
    sandbox, sandbox_url = _start_sandbox()
    try:
        migrate.upgrade(services.database_url)
        keys = "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode()
        fields = {
            "database_url": services.database_url,
            "data_dir": str(tmp),
            "sandbox_url": sandbox_url,
            "token_encryption_keys": keys,
        }
        resource = MirobodyResource(**fields)
        engine = make_engine(services.database_url)
        repo = ConnectionRepository(
            engine, TokenCipher(get_settings(token_encryption_keys=keys).encryption_keys())
        )
        home = tmp / "dagster"
        home.mkdir()
        shutil.copyfile(ROOT / "dagster.yaml", home / "dagster.yaml")
        os.environ["DAGSTER_PG_URL"] = services.dagster_pg_url
        instance = dg.DagsterInstance.from_config(str(home))
        user_days = args.users * args.days
        print(
            f"{os.cpu_count()} CPUs; {args.users} users x {args.days} days = {user_days} "
            f"user-days per round, every vendor"
        )
        results: dict[int, float] = {}
        for shards in args.shards:
            with Session(engine) as s, s.begin():
                rows = [
                    User(email=f"shard-{uuid.uuid4().hex}@example.org") for _ in range(args.users)
                ]
                s.add_all(rows)
                s.flush()
                users = [str(u.id) for u in rows]
            asyncio.run(_link(resource, repo, users, shards))
            instance.add_dynamic_partitions("users", users)
            ordered = [u for u in instance.get_dynamic_partitions("users") if u in set(users)]
            results[shards] = _round(home, fields, ordered, shards, args.days)
            secs = results[shards]
            base = results[args.shards[0]]
            print(
                f"  {shards} shard run(s) at once: {secs:7.1f} s  "
                f"{user_days / secs:7.1f} user-days/s  {base / secs:5.2f}x the first"
            )
        instance.dispose()
    finally:
        sandbox.terminate()
        sandbox.wait(10)
        services.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
