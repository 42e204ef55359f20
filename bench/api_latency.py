"""Benchmark: one user's year of one indicator at daily resolution, through the REST API.

Run by hand (never by the test suite):

    .venv/bin/python bench/api_latency.py [--users 1000] [--days 365] [--samples-per-day 24]
                                          [--concurrency 8] [--seconds 20] [--workers 2]

Loads users x days of data (hourly heart rate and daily steps per user, plus daily summaries)
into a fresh database (DATABASE_URL's server, or an embedded PostgreSQL), starts the API under
uvicorn with `--workers` processes, and runs a load generator in a separate process that asks
`GET /v1/series?indicator=heart_rate&resolution=day` for a random user's whole year. Prints
requests/s and p50/p99 latency as the client saw them (the target: p99 under 50 ms).
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
import psycopg
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

YEAR_START = "2025-01-01"
ISSUER, AUDIENCE = "mirobody", "mirobody-api"


# The read index as shipped (migration 0004): it covers every column the series queries touch,
# so one user's year is an index-only scan instead of ~one heap page per row.
COVERING_INDEX = ("CREATE INDEX ix_indicator_values_user_indicator_time ON indicator_values "
                  "(user_id, indicator, time) INCLUDE (source, value, day, end_time, unit)")


def load(url: str, users: int, days: int, per_day: int, covering: bool) -> list[uuid.UUID]:
    """Users and their data, generated inside PostgreSQL (indexes built after the load)."""
    ids = [uuid.uuid4() for _ in range(users)]
    step = f"{24 // per_day} hours" if per_day <= 24 else f"{1440 // per_day} minutes"
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        with conn.cursor().copy("COPY users (id, email) FROM STDIN") as copy:
            for i, uid in enumerate(ids):
                copy.write_row((uid, f"bench-{i}@example.org"))
        conn.execute("ALTER TABLE indicator_values DROP CONSTRAINT pk_indicator_values")
        conn.execute("DROP INDEX ix_indicator_values_user_indicator_time")
        conn.execute("DROP INDEX ix_indicator_values_user_day")
        started = time.perf_counter()
        conn.execute(f"""
            INSERT INTO indicator_values (user_id, indicator, source, time, day, value, unit)
            SELECT u.id, 'heart_rate', 'whoop', t, (t AT TIME ZONE 'UTC')::date,
                   55 + 30 * random(), '/min'
            FROM users u CROSS JOIN generate_series(
                TIMESTAMPTZ '{YEAR_START} 00:00+00',
                TIMESTAMPTZ '{YEAR_START} 00:00+00' + INTERVAL '{days} days' - INTERVAL '1 second',
                INTERVAL '{step}') AS t""")  # noqa: S608 - numbers from argparse
        conn.execute(f"""
            INSERT INTO indicator_values (user_id, indicator, source, time, end_time, day, value,
                                          unit)
            SELECT u.id, 'steps', 'whoop', d, d + INTERVAL '1 day', (d AT TIME ZONE 'UTC')::date,
                   floor(3000 + 9000 * random()), '{{steps}}'
            FROM users u CROSS JOIN generate_series(TIMESTAMPTZ '{YEAR_START} 00:00+00',
                TIMESTAMPTZ '{YEAR_START} 00:00+00' + INTERVAL '{days - 1} days',
                INTERVAL '1 day') AS d""")  # noqa: S608
        conn.execute("""
            INSERT INTO daily_summary (user_id, indicator, day, value, unit, source, n_values,
                                       sources)
            SELECT user_id, indicator, day, avg(value), max(unit), 'whoop', count(*), 'whoop'
            FROM indicator_values GROUP BY user_id, indicator, day""")
        conn.execute("ALTER TABLE indicator_values ADD CONSTRAINT pk_indicator_values "
                     "PRIMARY KEY (user_id, indicator, source, time)")
        conn.execute(COVERING_INDEX if covering else
                     "CREATE INDEX ix_indicator_values_user_indicator_time "
                     "ON indicator_values (user_id, indicator, time)")
        conn.execute("CREATE INDEX ix_indicator_values_user_day ON indicator_values "
                     "(user_id, day)")
        conn.execute("VACUUM ANALYZE")
        rows = conn.execute("SELECT count(*) FROM indicator_values").fetchone()
        print(f"loaded {rows[0] if rows else 0:,} indicator values for {users} users x {days} "
              f"days in {time.perf_counter() - started:.1f} s")
    return ids


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_api(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "api.app:create_app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
         "--no-access-log", "--log-level", "warning"], env=env)
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


async def _drive(base: str, tokens: list[str], days: int, concurrency: int,
                 seconds: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    stop_at = time.perf_counter() + seconds
    first = datetime.fromisoformat(YEAR_START).replace(tzinfo=UTC)
    params = {"indicator": "heart_rate", "resolution": "day", "start": first.isoformat(),
              "end": (first + timedelta(days=days)).isoformat(), "limit": "1000"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10) as client:
        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop_at:
                headers = {"Authorization": f"Bearer {random.choice(tokens)}"}
                started = time.perf_counter()
                response = await client.get("/v1/series", params=params, headers=headers)
                elapsed = time.perf_counter() - started
                # Counting points without parsing keeps the client's CPU off the server's cores.
                if response.status_code != 200 or response.content.count(b'"day":') != days:
                    errors += 1
                else:
                    latencies.append(elapsed)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors


def generator(base: str, tokens: list[str], days: int, concurrency: int, seconds: float,
              out: mp.Queue) -> None:  # type: ignore[type-arg]
    """The load generator's process: warm up, then measure."""
    asyncio.run(_drive(base, tokens, days, concurrency, 2.0))
    started = time.perf_counter()
    latencies, errors = asyncio.run(_drive(base, tokens, days, concurrency, seconds))
    out.put((latencies, errors, time.perf_counter() - started))


def measure(base: str, tokens: list[str], days: int, concurrency: int, seconds: float) -> None:
    """One load-generator process at this concurrency; prints its line."""
    context = mp.get_context("spawn")
    queue: mp.Queue = context.Queue()  # type: ignore[type-arg]
    proc = context.Process(target=generator,
                           args=(base, tokens, days, concurrency, seconds, queue))
    proc.start()
    latencies, errors, elapsed = queue.get(timeout=seconds + 120)
    proc.join()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"  {concurrency:>2} concurrent clients, {elapsed:.0f} s: "
          f"requests/s: {len(latencies) / elapsed:,.0f}   p50: {p50:.1f} ms   "
          f"p99: {p99:.1f} ms   errors: {errors}   "
          f"(p99 < 50 ms: {'met' if p99 < 50 else 'NOT met'})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--samples-per-day", type=int, default=24)
    parser.add_argument("--concurrency", default="1,4,8",
                        help="comma-separated numbers of concurrent clients, one run each")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--plain-index", action="store_true",
                        help="build the read index without INCLUDE (as before migration 0004)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="mirobody-bench-"))
    pg = None if os.environ.get("DATABASE_URL") else start_embedded_postgres(tmp / "pg")
    server = os.environ.get("DATABASE_URL") or pg.get_uri("postgres")
    rds = None if os.environ.get("REDIS_URL") else start_embedded_redis(tmp / "redis")
    redis_url = os.environ.get("REDIS_URL") or f"unix://{rds.socket_file}"
    url = make_url(server).set(database=f"mirobody_bench_{secrets.token_hex(4)}")
    database_url = url.render_as_string(hide_password=False)
    ensure_database(database_url)
    api = None
    try:
        migrate.upgrade(database_url)
        ids = load(database_url, args.users, args.days, args.samples_per_day,
                   not args.plain_index)
        key = secrets.token_urlsafe(48)
        env = os.environ | {
            "ENVIRONMENT": "production", "DATABASE_URL": database_url, "REDIS_URL": redis_url,
            "REDIS_PREFIX": f"bench-{secrets.token_hex(3)}:", "JWT_SIGNING_KEY": key,
            "TOKEN_ENCRYPTION_KEYS": "k1:" + base64.urlsafe_b64encode(os.urandom(32)).decode(),
            "LOG_LEVEL": "WARNING", "API_RATE_LIMIT_USER_PER_MINUTE": "1000000",
            "API_RATE_LIMIT_IP_PER_MINUTE": "1000000", "DATA_DIR": str(tmp / "data")}
        port = free_port()
        api = start_api(env, port, args.workers)
        issuer = TokenIssuer(key, ISSUER, AUDIENCE, 3600)
        tokens = [issuer.issue(uid) for uid in ids]
        print(f"GET /v1/series heart_rate, {args.days} days at daily resolution, random user "
              f"of {args.users}; {args.workers} uvicorn workers; read index: "
              f"{'plain (before 0004)' if args.plain_index else 'covering, as shipped'}")
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            measure(f"http://127.0.0.1:{port}", tokens, args.days, concurrency, args.seconds)
    finally:
        if api is not None:
            api.terminate()
            api.wait(timeout=30)
        drop_database(database_url)
        if rds is not None:
            stop_embedded_redis(rds)
        if pg is not None:
            pg._cleanup()


if __name__ == "__main__":
    main()
