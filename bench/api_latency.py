"""Benchmark: the REST series route under load, against a bare route in the same run.

Run by hand (never by the test suite):

    .venv/bin/python bench/api_latency.py [--users 1000] [--days 365] [--samples-per-day 24]
                                          [--concurrency 1,4,8] [--seconds 20] [--workers 2]

Writes users x days of data (heart rate `--samples-per-day` times a day and daily steps per
user) as the fact table's Parquet files (one per user and month) and their daily summaries
into a fresh database (DATABASE_URL's server, or an embedded PostgreSQL), starts the API under
uvicorn with `--workers` processes, and runs a load generator in a separate process for:
- `year-daily`: `GET /v1/series?indicator=heart_rate&resolution=day`, a random user's year;
- `day-raw`: `GET /v1/series?indicator=heart_rate&resolution=raw`, one random day of theirs;
- `bare`: a bare FastAPI route (its own uvicorn, same workers) returning a year-daily answer
  as ready bytes from memory: the ceiling that the series route's throughput is compared with.
Prints requests/s and p50/p99 latency as the client saw them (target: p99 under 50 ms at 8
clients, and at least half the bare route's throughput).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import multiprocessing as mp
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import polars as pl
import psycopg
from fastapi import FastAPI, Response
from sqlalchemy.engine import make_url

from api.security import TokenIssuer
from mirobody_assets.storage import migrate
from mirobody_assets.storage.embedded import (
    drop_database,
    ensure_database,
    libpq_url,
    start_embedded_postgres,
    start_embedded_redis,
    stop_embedded_redis,
)
from mirobody_assets.storage.facts import FACT_COLUMNS, fact_store

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = "2025-01-01"
ISSUER, AUDIENCE = "mirobody", "mirobody-api"


def load(url: str, data_dir: Path, users: int, days: int, per_day: int) -> list[uuid.UUID]:
    """Users in Postgres, their values as fact files (Parquet per user and month) and their
    daily summaries in Postgres."""
    ids = [uuid.uuid4() for _ in range(users)]
    started = time.perf_counter()
    first = datetime.fromisoformat(YEAR_START).replace(tzinfo=UTC)
    store = fact_store(data_dir)
    rng = np.random.default_rng(7)
    times = pl.datetime_range(
        first,
        first + timedelta(days=days),
        timedelta(days=1) / per_day,
        closed="left",
        time_unit="us",
        time_zone="UTC",
        eager=True,
    )
    day_starts = pl.datetime_range(
        first,
        first + timedelta(days=days - 1),
        timedelta(days=1),
        time_unit="us",
        time_zone="UTC",
        eager=True,
    )
    n_values = 0
    summaries = []
    for uid in ids:
        hr = pl.DataFrame({"time": times, "value": 55 + 30 * rng.random(times.len())}).with_columns(
            indicator=pl.lit("heart_rate"), unit=pl.lit("/min"), end_time=None
        )
        steps = pl.DataFrame(
            {"time": day_starts, "value": np.floor(3000 + 9000 * rng.random(day_starts.len()))}
        ).with_columns(
            indicator=pl.lit("steps"),
            unit=pl.lit("{steps}"),
            end_time=pl.col("time") + timedelta(days=1),
        )
        values = pl.concat([hr, steps], how="diagonal_relaxed").with_columns(
            user_id=pl.lit(str(uid)),
            source=pl.lit("whoop"),
            tz_offset_s=pl.lit(0, pl.Int32),
            record_id=pl.lit(None, pl.String),
            day=pl.col("time").dt.date(),
        )
        values = values.with_columns(
            pl.lit(None, t).alias(c) for c, t in FACT_COLUMNS.items() if c not in values.columns
        ).select([pl.col(c).cast(t) for c, t in FACT_COLUMNS.items()])
        store.replace_partitions(values, values.select("user_id", "day").unique())
        n_values += values.height
        summaries.append(
            values.group_by("user_id", "indicator", "day").agg(
                pl.col("value").mean(), pl.col("unit").max(), pl.len().alias("n_values")
            )
        )
    summary = pl.concat(summaries).with_columns(source=pl.lit("whoop"), sources=pl.lit("whoop"))
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        with conn.cursor().copy("COPY users (id, email) FROM STDIN") as copy:
            for i, uid in enumerate(ids):
                copy.write_row((uid, f"bench-{i}@example.org"))
        columns = ["user_id", "indicator", "day", "value", "unit", "source", "n_values", "sources"]
        with conn.cursor().copy(
            f"COPY daily_summary ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)"
        ) as copy:
            copy.write(summary.select(columns).write_csv(include_header=False))
        conn.execute("VACUUM ANALYZE")
    print(
        f"loaded {n_values:,} indicator values (fact files) and {summary.height:,} daily "
        f"summaries for {users} users x {days} days in {time.perf_counter() - started:.1f} s"
    )
    return ids


def bare_app() -> FastAPI:
    """A bare route returning ready JSON bytes from memory (BENCH_BARE_BODY names the file)."""
    body = Path(os.environ["BENCH_BARE_BODY"]).read_bytes()
    app = FastAPI()

    @app.get("/v1/series")
    def series() -> Response:
        return Response(body, media_type="application/json")

    @app.get("/readyz")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(
    env: dict[str, str], port: int, workers: int, factory: str = "api.app:create_app_from_env"
) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--app-dir",
            str(ROOT),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the API did not become ready")


def _params(scenario: str, days: int) -> tuple[dict[str, str], bytes, int]:
    """A request's query (a random day for day-raw), and what its answer must hold."""
    first = datetime.fromisoformat(YEAR_START).replace(tzinfo=UTC)
    if scenario == "day-raw":
        day = first + timedelta(days=random.randrange(days))
        return (
            {
                "indicator": "heart_rate",
                "resolution": "raw",
                "start": day.isoformat(),
                "end": (day + timedelta(days=1)).isoformat(),
                "limit": "10000",
            },
            b'"start":',
            -1,
        )
    return (
        {
            "indicator": "heart_rate",
            "resolution": "day",
            "start": first.isoformat(),
            "end": (first + timedelta(days=days)).isoformat(),
            "limit": "1000",
        },
        b'"day":',
        days,
    )


async def _drive(
    base: str, tokens: list[str], days: int, concurrency: int, seconds: float, scenario: str
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                headers = {"Authorization": f"Bearer {random.choice(tokens)}"}
                params, marker, expected = _params(scenario, days)
                started = time.perf_counter()
                response = await client.get("/v1/series", params=params, headers=headers)
                elapsed = time.perf_counter() - started
                # Counting points without parsing keeps the client's CPU off the server's cores.
                found = response.content.count(marker)
                if response.status_code != 200 or (
                    found != expected if expected >= 0 else found == 0
                ):
                    errors += 1
                else:
                    latencies.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def generator(
    base: str,
    tokens: list[str],
    days: int,
    concurrency: int,
    seconds: float,
    scenario: str,
    out: mp.Queue,
) -> None:  # type: ignore[type-arg]
    """The load generator's process: warm up, then measure."""
    asyncio.run(_drive(base, tokens, days, concurrency, 2.0, scenario))
    started = time.perf_counter()
    latencies, errors = asyncio.run(_drive(base, tokens, days, concurrency, seconds, scenario))
    out.put((latencies, errors, time.perf_counter() - started))


def measure(
    base: str, tokens: list[str], days: int, concurrency: int, seconds: float, scenario: str
) -> float:
    """One load-generator process at this concurrency; prints its line, returns requests/s."""
    context = mp.get_context("spawn")
    queue: mp.Queue = context.Queue()  # type: ignore[type-arg]
    proc = context.Process(
        target=generator, args=(base, tokens, days, concurrency, seconds, scenario, queue)
    )
    proc.start()
    latencies, errors, elapsed = queue.get(timeout=seconds + 120)
    proc.join()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    rate = len(latencies) / elapsed
    print(
        f"  {scenario:<10} {concurrency:>2} concurrent clients, {elapsed:.0f} s: "
        f"requests/s: {rate:,.0f}   p50: {p50:.1f} ms   p99: {p99:.1f} ms   "
        f"errors: {errors}   (p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'})",
        flush=True,
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--samples-per-day", type=int, default=24)
    parser.add_argument(
        "--concurrency",
        default="1,4,8",
        help="comma-separated numbers of concurrent clients, one run each",
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mirobody-bench-"))
    pg = None if os.environ.get("DATABASE_URL") else start_embedded_postgres(tmp / "pg")
    server = os.environ.get("DATABASE_URL") or pg.get_uri("postgres")
    rds = None if os.environ.get("REDIS_URL") else start_embedded_redis(tmp / "redis")
    redis_url = os.environ.get("REDIS_URL") or f"unix://{rds.socket_file}"
    url = make_url(server).set(database=f"mirobody_bench_{secrets.token_hex(4)}")
    database_url = url.render_as_string(hide_password=False)
    ensure_database(database_url)
    api = bare = None
    try:
        migrate.upgrade(database_url)
        ids = load(database_url, tmp / "data", args.users, args.days, args.samples_per_day)
        key = secrets.token_urlsafe(48)
        env = os.environ | {
            "ENVIRONMENT": "production",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "REDIS_PREFIX": f"bench-{secrets.token_hex(3)}:",
            "JWT_SIGNING_KEY": key,
            "TOKEN_ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "LOG_LEVEL": "WARNING",
            "API_RATE_LIMIT_USER_PER_MINUTE": "1000000",
            "API_RATE_LIMIT_IP_PER_MINUTE": "1000000",
            "DATA_DIR": str(tmp / "data"),
        }
        port = free_port()
        api = start_api(env, port, args.workers)
        issuer = TokenIssuer(key, ISSUER, AUDIENCE, 3600)
        tokens = [issuer.issue(uid) for uid in ids]
        params, _, _ = _params("year-daily", args.days)
        sample = httpx.get(
            f"http://127.0.0.1:{port}/v1/series",
            params=params,
            timeout=30,
            headers={"Authorization": f"Bearer {tokens[0]}"},
        )
        sample.raise_for_status()
        (tmp / "bare.json").write_bytes(sample.content)
        bare_port = free_port()
        bare = start_api(
            env | {"BENCH_BARE_BODY": str(tmp / "bare.json")},
            bare_port,
            args.workers,
            "bench.api_latency:bare_app",
        )
        print(
            f"GET /v1/series heart_rate, random user of {args.users}: year-daily = "
            f"{args.days} days at daily resolution, day-raw = one day's raw rows; bare = "
            f"a bare route returning the year-daily JSON ({len(sample.content):,} bytes) "
            f"from memory; {args.workers} uvicorn workers each"
        )
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            rates = {
                scenario: measure(
                    f"http://127.0.0.1:{p}", tokens, args.days, concurrency, args.seconds, scenario
                )
                for scenario, p in (("bare", bare_port), ("year-daily", port), ("day-raw", port))
            }
            year, day = (rates[s] / rates["bare"] for s in ("year-daily", "day-raw"))
            print(
                f"  {concurrency:>2} clients: year-daily at {year:.2f} x bare, day-raw at "
                f"{day:.2f} x bare (target >= 0.5)",
                flush=True,
            )
    finally:
        for proc in (api, bare):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
        drop_database(database_url)
        if rds is not None:
            stop_embedded_redis(rds)
        if pg is not None:
            pg._cleanup()


if __name__ == "__main__":
    main()
