"""`mirobody up` end to end: embedded servers, migrations, Dagster UI, API, sandbox; a crashed
child is restarted; the whole stack killed mid-run starts again unblocked; SIGTERM leaves nothing.

One stack serves every test here, in order (starting one takes a minute or two on 2 cores).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import httpx
import psutil
import psycopg
import pytest

STARTUP_TIMEOUT_S = 150
VENDOR_POOLS = [f"vendor_{v}" for v in ("garmin", "oura", "polar", "whoop", "withings")]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(done: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, psycopg.OperationalError):
            if result := done():
                return result
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout} s")


def _cmdline(proc: psutil.Process) -> str:
    try:
        return " ".join(proc.cmdline())
    except psutil.Error:  # exited meanwhile (a zombie until its parent reaps it)
        return ""


class Up:
    """A `mirobody up` process (started again on the same data folder after a crash)."""

    def __init__(self, root: Path, tmp: Path) -> None:
        self.root, self.data = root, tmp / "data"
        self.dagster_port, self.api_port = _free_port(), _free_port()
        self.env = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "REDIS_URL", "DAGSTER_PG_URL", "DAGSTER_HOME"}
        }
        self.env.update(
            DATA_DIR=str(self.data),
            DAGSTER_PORT=str(self.dagster_port),
            API_PORT=str(self.api_port),
            SANDBOX_PORT=str(_free_port()),
            ENVIRONMENT="development",
        )
        self.log_path = tmp / "up.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self._instance: dg.DagsterInstance | None = None

    def start(self) -> float:
        """Start and wait until the UI and /readyz answer; returns the seconds it took."""
        started = time.monotonic()
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "mirobody"), "up"],
                cwd=self.root,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        _wait(
            lambda: (
                self.proc is not None
                and self.proc.poll() is None
                and self.ready()
                and httpx.get(f"http://127.0.0.1:{self.dagster_port}/", timeout=2).is_success
            ),
            STARTUP_TIMEOUT_S,
            f"mirobody up (exit {self.proc.poll()})",
        )
        return time.monotonic() - started

    def ready(self) -> dict[str, Any] | None:
        r = httpx.get(f"http://127.0.0.1:{self.api_port}/readyz", timeout=2)
        return r.json() if r.status_code == 200 else None

    def family(self) -> list[psutil.Process]:
        assert self.proc is not None
        family: list[psutil.Process] = psutil.Process(self.proc.pid).children(recursive=True)
        return family

    def children(self) -> dict[int, float]:
        """The direct children (webserver, daemon, API, sandbox): pid -> start time."""
        assert self.proc is not None
        return {p.pid: p.create_time() for p in psutil.Process(self.proc.pid).children()}

    def api_pid(self) -> int | None:
        assert self.proc is not None
        found = [
            p.pid for p in psutil.Process(self.proc.pid).children() if "uvicorn" in _cmdline(p)
        ]
        return found[0] if len(found) == 1 else None

    def postgres(self) -> tuple[int, str]:
        """The embedded server's pid, and a libpq URL of its 'mirobody' database."""
        lines = (self.data / "postgres" / "postmaster.pid").read_text().splitlines()
        return int(lines[0]), f"postgresql://postgres@/mirobody?host={lines[4]}&port={lines[3]}"

    def instance(self) -> dg.DagsterInstance:
        """The stack's Dagster instance, read from this process."""
        if self._instance is None:
            _, url = self.postgres()
            saved = os.environ.get("DAGSTER_PG_URL")
            os.environ["DAGSTER_PG_URL"] = url.replace(
                "postgresql://", "postgresql+psycopg2://"
            ).replace("/mirobody?", "/mirobody_dagster?")
            try:
                self._instance = dg.DagsterInstance.from_config(str(self.data / "dagster"))
            finally:
                if saved is None:
                    os.environ.pop("DAGSTER_PG_URL")
                else:
                    os.environ["DAGSTER_PG_URL"] = saved
        return self._instance

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def close(self) -> None:
        if self._instance is not None:
            self._instance.dispose()
            self._instance = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory, project_root: Path) -> Iterator[Up]:
    stack = Up(project_root, tmp_path_factory.mktemp("up"))
    try:
        print(f"\nmirobody up answered after {stack.start():.0f} s")
        yield stack
    finally:
        stack.close()


def test_run_command_serves_dagster_and_api(up: Up) -> None:
    assert up.ready() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
    assert len(up.family()) >= 4  # webserver, daemon, API, sandbox (and dagster's code servers)


def test_a_killed_api_is_restarted_and_the_other_children_keep_running(up: Up) -> None:
    api = up.api_pid()
    assert api is not None
    others = {pid: t for pid, t in up.children().items() if pid != api}
    os.kill(api, signal.SIGKILL)
    started = time.monotonic()
    _wait(lambda: up.api_pid() not in (None, api) and up.ready(), 60, "the API back")
    print(f"\nAPI killed: /readyz answered again after {time.monotonic() - started:.1f} s")
    assert {pid: t for pid, t in up.children().items() if pid != up.api_pid()} == others
    assert "api was killed by SIGKILL" in up.log() and "restarting it in 1.0 s" in up.log()


def _holders(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """The vendor pools in which the run holds or waits for a slot."""
    infos = [instance.event_log_storage.get_concurrency_info(p) for p in VENDOR_POOLS]
    return [
        i.concurrency_key
        for i in infos
        if run_id in i.active_run_ids | {s.run_id for s in i.pending_steps}
    ]


def _run_in_flight(instance: dg.DagsterInstance) -> str | None:
    for pool in VENDOR_POOLS:
        for run_id in instance.event_log_storage.get_concurrency_info(pool).active_run_ids:
            run = instance.get_run_by_id(run_id)
            if run is not None and run.status is dg.DagsterRunStatus.STARTED:
                return run_id
    return None


def _held_by_ended_runs(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    """(pool, run) of every vendor slot or queued step that belongs to a run no longer going."""
    held = []
    for pool in VENDOR_POOLS:
        info = instance.event_log_storage.get_concurrency_info(pool)
        for run_id in info.active_run_ids | {s.run_id for s in info.pending_steps}:
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                held.append((pool, run_id))
    return held


@pytest.mark.timeout(480)  # two starts of the stack on a (possibly loaded) 2-core machine
def test_killing_the_whole_stack_mid_run_then_starting_again_fails_the_orphan_and_frees_pools(
    up: Up,
) -> None:
    instance = up.instance()
    # The sandbox users' initial history runs start soon after the first start.
    _wait(lambda: _run_in_flight(instance), 180, "a run holding a vendor pool")
    assert up.proc is not None
    tree = [psutil.Process(up.proc.pid), *up.family()]
    for proc in tree:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(tree, timeout=10)
    orphan = _run_in_flight(instance)  # nothing moves any more: this run is dead
    assert orphan is not None
    held = _holders(instance, orphan)
    assert held  # the dead run blocks these pools

    restarted = time.monotonic()
    took = up.start()

    def orphan_failed_and_pools_free() -> bool:
        run = instance.get_run_by_id(orphan)
        return (
            run is not None
            and run.status is dg.DagsterRunStatus.FAILURE
            and not _held_by_ended_runs(instance)
        )

    _wait(orphan_failed_and_pools_free, 120, "the orphaned run failed, its pools freed")
    recovered = time.monotonic() - restarted
    print(
        f"\nwhole stack killed: up again after {took:.0f} s; orphan failed and {held} free "
        f"{recovered:.0f} s after the restart ({recovered - took:.0f} s after up)"
    )
    # (tests/pipeline/test_crash_recovery.py runs a new sync to completion after such a crash)


def test_sigterm_leaves_no_process_and_no_secret_in_the_log(up: Up) -> None:
    assert up.proc is not None and up.proc.poll() is None
    pg_pid, _ = up.postgres()
    registry = json.loads((up.data / "redis" / "redis.db.settings").read_text())
    redis_pid = int(Path(registry["pidfile"]).read_text())
    watched = [*up.family(), psutil.Process(pg_pid), psutil.Process(redis_pid)]
    up.proc.send_signal(signal.SIGTERM)
    assert up.proc.wait(timeout=40) == 0
    _, alive = psutil.wait_procs(watched, timeout=10)
    alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"
    secrets = json.loads((up.data / "secrets.json").read_text())
    assert all(value not in up.log() for value in secrets.values()), "a secret reached the log"
