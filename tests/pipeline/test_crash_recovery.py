"""Crashes mid-run on a Postgres-backed instance with the Dagster daemon running: the orphaned
run is failed and frees its vendor pools within the monitoring timeout, and a new sync completes
with the same tables as a clean run.

The daemon runs the real code location (steps executed inside the run worker, so that a run takes
seconds: tests/support/in_process_location.py) against scratch databases, with dagster.yaml's
monitor poll shortened to 1 s (tests/support/monitoring.py). Syncs go the product's way: a
sync_requests row, turned into a run by the sync_requests sensor.
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import dagster as dg
import psutil
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from mirobody_assets.children import Child, reset_signals, stop_children
from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.partitions import range_tags
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.pipeline.run_launcher import _STARTED
from mirobody_assets.pipeline.sensors import SYNC_REQUEST_TAG
from mirobody_assets.sandbox_link import link_sandbox_person
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.engine import make_engine
from mirobody_assets.storage.models import User
from providers.sandbox import SandboxServer
from tests.support.monitoring import scratch_databases, write_fast_monitoring_home
from tests.support.waiting import wait_until

from .conftest import KEYS, TODAY
from .test_materialize import _snapshot

pytestmark = pytest.mark.slow
FIRST, LAST = TODAY - timedelta(days=3), TODAY - timedelta(days=2)
POOLS = ("vendor_garmin", "vendor_polar")
Row = tuple[object, ...]
RECOVERY_BOUND_S = 30  # the monitor polls every 1 s here (15 s in dagster.yaml)


class Stack:
    """The Dagster daemon (with its code server and run workers) over scratch databases."""

    def __init__(
        self,
        env: dict[str, str],
        root: Path,
        log: Path,
        instance: dg.DagsterInstance,
        engine: Engine,
        mirobody: MirobodyResource,
    ) -> None:
        self.env, self.root, self.log, self.instance = env, root, log, instance
        self.engine, self.mirobody = engine, mirobody
        self.daemon: Child | None = None

    def start_daemon(self) -> None:
        """`dagster-daemon run` in its own process group, as `mirobody up` starts it."""
        workspace = self.log.with_name("workspace.yaml")
        workspace.write_text(
            "load_from:\n  - python_module:\n"
            "      module_name: tests.support.in_process_location\n"
            f"      working_directory: {self.root}\n      location_name: mirobody\n"
        )
        argv = [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(workspace)]
        with self.log.open("ab") as out:
            proc = subprocess.Popen(
                argv,
                env=self.env,
                cwd=self.root,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=reset_signals,
            )
        self.daemon = Child("dagster-daemon", argv, self.env, self.root, proc)

    def wait(self, done: Callable[[], bool], timeout: float, what: str) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if done():
                return time.monotonic() - started
            time.sleep(0.2)
        tail = self.log.read_text(errors="replace")[-3000:]
        raise AssertionError(f"{what}: not within {timeout} s\n--- daemon log ---\n{tail}")

    def sync(self, user: str) -> str:
        """A sync request for FIRST..LAST, as the API records it; returns its run's id."""
        with self.engine.begin() as conn:
            rid = conn.execute(
                text(
                    "INSERT INTO sync_requests (user_id, kind, start_day, end_day, requested_by) "
                    "VALUES (:u, 'backfill', :s, :e, 'api') RETURNING id"
                ),
                {"u": user, "s": FIRST, "e": LAST},
            ).scalar_one()
        runs: list[dg.DagsterRun] = []

        def launched() -> bool:
            runs[:] = self.instance.get_runs(
                filters=dg.RunsFilter(tags={SYNC_REQUEST_TAG: str(rid)})
            )
            return bool(runs)

        self.wait(launched, 90, f"a run for sync request {rid}")
        return runs[0].run_id

    def status(self, run_id: str) -> dg.DagsterRunStatus:
        run = self.instance.get_run_by_id(run_id)
        assert run is not None
        return run.status

    def holders(self, pool: str) -> set[str]:
        """Runs holding or waiting for a slot of the pool."""
        info = self.instance.event_log_storage.get_concurrency_info(pool)
        return info.active_run_ids | {s.run_id for s in info.pending_steps}

    def hold_a_pool(self, run_id: str) -> None:
        self.wait(
            lambda: any(
                run_id in self.instance.event_log_storage.get_concurrency_info(p).active_run_ids
                for p in POOLS
            ),
            120,
            "a vendor step running",
        )

    def worker_pid(self, run_id: str) -> int:
        for entry in self.instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
            found = _STARTED.match(entry.message)
            if found:
                return int(found.group(1))
        raise AssertionError("the run worker never reported its pid")


@pytest.fixture(scope="module")
def stack(
    pg_server_url: str,
    project_root: Path,
    sandbox: SandboxServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("crash")
    home = write_fast_monitoring_home(project_root, tmp / "dagster")
    previous = os.environ.get("DAGSTER_PG_URL")
    with scratch_databases(pg_server_url, "mirobody_crash") as (app_url, dagster_url):
        os.environ["DAGSTER_PG_URL"] = dagster_url
        instance = dg.DagsterInstance.from_config(str(home))
        engine = make_engine(app_url)
        env = {
            **os.environ,
            "DAGSTER_HOME": str(home),
            "DATABASE_URL": app_url,
            "SANDBOX_URL": sandbox.base_url,
            "TOKEN_ENCRYPTION_KEYS": KEYS,
            "DATA_DIR": str(tmp / "data"),
            "VENDOR_TIMEOUT_S": "120",
        }
        mirobody = MirobodyResource(
            database_url=app_url,
            data_dir=str(tmp / "data"),
            sandbox_url=sandbox.base_url,
            token_encryption_keys=KEYS,
        )
        st = Stack(env, project_root, tmp / "daemon.log", instance, engine, mirobody)
        st.start_daemon()
        try:
            yield st
        finally:
            if st.daemon is not None:
                stop_children([st.daemon], grace=5)
            instance.dispose()
            engine.dispose()
            if previous is None:
                os.environ.pop("DAGSTER_PG_URL", None)
            else:
                os.environ["DAGSTER_PG_URL"] = previous


def _linked_user(stack: Stack, person: str) -> str:
    """A user linked to the sandbox person at Garmin and Polar (a partition before the link,
    so the new-connections sensor starts no initial history)."""
    with Session(stack.engine) as session, session.begin():
        user = User(email=f"{os.urandom(6).hex()}@example.org")
        session.add(user)
        session.flush()
        user_id = str(user.id)
    stack.instance.add_dynamic_partitions("users", [user_id])
    cipher = TokenCipher({"k1": base64.urlsafe_b64decode(KEYS[3:])})
    repo = ConnectionRepository(stack.engine, cipher)
    for provider in ("garmin", "polar"):
        prov = stack.mirobody.registry.get(provider)
        asyncio.run(link_sandbox_person(prov, repo, user_id, f"{person}~{user_id}"))
    return user_id


def _stalled_sync(stack: Stack, sandbox: SandboxServer, user: str) -> str:
    """A sync whose Garmin or Polar step is mid-pull (the vendors stall) when it returns."""
    # Many short stalls, not one long one: Garmin's sandbox stalls inside its event loop, and
    # the rest of the sandbox must answer again soon after the crash.
    for vendor in ("garmin", "polar"):
        sandbox.cloud[vendor].slow_next[:] = [5.0] * 24
    try:
        run_id = stack.sync(user)
        stack.hold_a_pool(run_id)
        return run_id
    finally:
        for vendor in ("garmin", "polar"):
            sandbox.cloud[vendor].slow_next.clear()


def _kill_tree(pid: int) -> None:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    for proc in procs:
        proc.send_signal(signal.SIGKILL)
    psutil.wait_procs(procs, timeout=10)


def _recovered(stack: Stack, run_id: str) -> bool:
    return stack.status(run_id) is dg.DagsterRunStatus.FAILURE and not any(
        run_id in stack.holders(p) for p in POOLS
    )


def _succeeded(stack: Stack, run_id: str) -> bool:
    status = stack.status(run_id)
    assert status not in {dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}, status
    return status is dg.DagsterRunStatus.SUCCESS


@pytest.fixture(scope="module")
def calm(stack: Stack) -> str:
    """A user of the same person as the crashed ones, synced by one clean in-process run."""
    user = _linked_user(stack, "ben")
    clean = dg.materialize(
        ALL_ASSETS,
        instance=stack.instance,
        resources={"mirobody": stack.mirobody},
        tags=range_tags(FIRST, LAST, user, user),
    )
    assert clean.success
    return user


def _new_sync_matches_the_clean_run(stack: Stack, crashed: str, calm: str) -> None:
    again = stack.sync(crashed)
    took = stack.wait(lambda: _succeeded(stack, again), 240, "the new sync succeeded")
    print(f"new sync ran in {took:.1f} s after launch")
    snap = _snapshot(stack.engine, [calm, crashed], stack.mirobody)
    # Same person, same days: the same values; only user ids and the vendor's record ids (built
    # from its account ids) differ.
    columns: dict[str, Callable[[Row], Row]] = {
        "raw_records": lambda r: (r[1], r[2], r[5]),
        "indicator_values": lambda r: r[1:-1],
        "daily_summary": lambda r: r[1:],
        "quarantined_values": lambda r: r[1:],
    }
    for table, key in columns.items():
        rows = {
            u: sorted((key(r) for r in snap[table] if str(r[0]) == u), key=repr)
            for u in (calm, crashed)
        }
        assert rows[crashed] == rows[calm], table
    assert snap["indicator_values"], "nothing was pulled"


def _group_gone(group: int) -> bool:
    def member(p: psutil.Process) -> bool:
        try:
            return os.getpgid(p.pid) == group and p.status() != psutil.STATUS_ZOMBIE
        except (ProcessLookupError, psutil.Error):
            return False

    return not any(member(p) for p in psutil.process_iter())


def test_killing_the_daemon_code_server_and_worker_fails_the_run_and_a_new_sync_matches(
    stack: Stack,
    sandbox: SandboxServer,
    calm: str,
) -> None:
    crashed = _linked_user(stack, "ben")
    run_id = _stalled_sync(stack, sandbox, crashed)
    assert stack.daemon is not None
    group = stack.daemon.proc.pid
    os.killpg(group, signal.SIGKILL)  # daemon, code server, worker
    stack.daemon.proc.wait()
    wait_until(lambda: _group_gone(group), "the daemon's whole process group to be gone")
    assert stack.status(run_id) is dg.DagsterRunStatus.STARTED  # nobody left to say otherwise
    assert any(run_id in stack.holders(p) for p in POOLS)

    stack.start_daemon()
    took = stack.wait(
        lambda: _recovered(stack, run_id),
        60 + RECOVERY_BOUND_S,
        "the orphaned run failed and its pools freed",
    )
    print(f"\nwhole daemon tree killed: run failed and pools free {took:.1f} s after restart")
    failure = stack.instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
    assert "no longer executes this run" in failure[-1].message or "is gone" in failure[-1].message
    _new_sync_matches_the_clean_run(stack, crashed, calm)


def test_a_killed_run_worker_fails_its_run_frees_the_pools_and_a_new_sync_matches(
    stack: Stack,
    sandbox: SandboxServer,
    calm: str,
) -> None:
    crashed = _linked_user(stack, "ben")
    run_id = _stalled_sync(stack, sandbox, crashed)
    killed = time.monotonic()
    _kill_tree(stack.worker_pid(run_id))
    stack.wait(
        lambda: _recovered(stack, run_id),
        RECOVERY_BOUND_S,
        "the killed run failed and its pools freed",
    )
    print(f"\nrun worker killed: run failed and pools free after {time.monotonic() - killed:.1f} s")
    _new_sync_matches_the_clean_run(stack, crashed, calm)
