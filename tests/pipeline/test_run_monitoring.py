"""The run monitor as dagster.yaml configures it: a run whose worker died with its code server is
failed, slots of finished runs are freed, and live or in-process runs are left alone."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import dagster as dg
import pytest
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import create_run_for_test
from dagster._core.workspace.context import IWorkspaceProcessContext
from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration
from dagster._daemon.monitoring.run_monitoring import execute_run_monitoring_iteration

from mirobody_assets.pipeline.run_launcher import HealthCheckedRunLauncher
from tests.support.monitoring import scratch_databases, write_fast_monitoring_home
from tests.support.waiting import wait_until

log = logging.getLogger(__name__)
STARTED = dg.DagsterRunStatus.STARTED


@pytest.fixture(scope="module")
def instance(
    pg_server_url: str, project_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dg.DagsterInstance]:
    home = write_fast_monitoring_home(project_root, tmp_path_factory.mktemp("monitored"))
    previous = os.environ.get("DAGSTER_PG_URL")
    with scratch_databases(pg_server_url, "mirobody_monitor") as (_, dagster_url):
        os.environ["DAGSTER_PG_URL"] = dagster_url
        inst = dg.DagsterInstance.from_config(str(home))
        try:
            yield inst
        finally:
            inst.dispose()
            if previous is None:
                os.environ.pop("DAGSTER_PG_URL", None)
            else:
                os.environ["DAGSTER_PG_URL"] = previous


class _Daemon:
    """What the monitoring daemon passes its iterations (no code location is needed here)."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        self.instance = instance

    def create_request_context(self) -> None:
        return None


def _monitor(instance: dg.DagsterInstance) -> None:
    """One tick of Dagster's monitoring daemon: check runs, then free slots of ended runs."""
    daemon = cast("IWorkspaceProcessContext[Any]", _Daemon(instance))
    list(execute_run_monitoring_iteration(daemon, log))
    list(execute_concurrency_slots_iteration(daemon, log))


def _slots_freed(instance: dg.DagsterInstance, pool: str) -> bool:
    """One monitoring tick; then whether the pool's slots are all free."""
    _monitor(instance)
    return instance.event_log_storage.get_concurrency_info(pool).claimed_slots == []


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _run(
    instance: dg.DagsterInstance,
    pool: str,
    worker_pid: int | None,
    code_server: bool = True,
    status: dg.DagsterRunStatus = STARTED,
) -> dg.DagsterRun:
    """A run holding `pool`'s slot, launched by a code server that is gone (closed port)."""
    tags = (
        {GRPC_INFO_TAG: json.dumps({"host": "localhost", "port": _closed_port()})}
        if code_server
        else {}
    )
    run: dg.DagsterRun = create_run_for_test(
        instance, job_name="health_pipeline", status=status, tags=tags
    )
    if worker_pid is not None:
        instance.report_engine_event(
            f"Started process for run (pid: {worker_pid}).",
            run,
            EngineEventData.in_process(worker_pid),
        )
    instance.event_log_storage.initialize_concurrency_limit_to_default(pool)
    claim = instance.event_log_storage.claim_concurrency_slot(pool, run.run_id, "raw_garmin")
    assert claim.is_claimed
    return run


def _pool() -> str:
    return f"vendor_test_{uuid.uuid4().hex[:8]}"


def test_dagster_yaml_gives_the_monitor_a_launcher_that_checks_run_workers(
    instance: dg.DagsterInstance,
) -> None:
    assert instance.run_monitoring_enabled
    assert isinstance(instance.run_launcher, HealthCheckedRunLauncher)
    assert instance.run_launcher.supports_check_run_worker_health
    assert instance.run_monitoring_max_resume_run_attempts == 0


def test_a_run_whose_code_server_and_worker_are_gone_is_failed_and_its_slot_freed(
    instance: dg.DagsterInstance,
) -> None:
    orphan_pool, inprocess_pool, living_pool = _pool(), _pool(), _pool()
    orphan = _run(instance, orphan_pool, _dead_pid())
    in_process = _run(instance, inprocess_pool, None, code_server=False)
    # the code server is gone but its worker (here: this process) still runs: let it finish
    living = _run(instance, living_pool, os.getpid())
    health = instance.run_launcher.check_run_worker_health(orphan)
    assert health.status is WorkerStatus.FAILED
    assert "is gone" in (health.msg or "")

    _monitor(instance)
    failed = instance.get_run_by_id(orphan.run_id)
    assert failed is not None and failed.status is dg.DagsterRunStatus.FAILURE
    # Slots are freed free_slots_after_run_end_seconds (shortened to 1 s) after the run ended.
    wait_until(lambda: _slots_freed(instance, orphan_pool), "the orphan's slots to be freed")
    for run, pool in ((in_process, inprocess_pool), (living, living_pool)):
        kept = instance.get_run_by_id(run.run_id)
        assert kept is not None and kept.status is STARTED
        assert instance.event_log_storage.get_concurrency_info(pool).active_run_ids == {run.run_id}


def test_slots_of_a_run_marked_canceled_immediately_are_freed_for_the_step_waiting_behind(
    instance: dg.DagsterInstance,
) -> None:
    pool = _pool()
    canceled = _run(instance, pool, os.getpid())
    waiting = create_run_for_test(instance, job_name="health_pipeline", status=STARTED)
    storage = instance.event_log_storage
    assert not storage.claim_concurrency_slot(pool, waiting.run_id, "raw_garmin").is_claimed
    # "Mark as canceled immediately": the status changes, nothing else happens to the worker
    instance.report_run_canceled(canceled)
    wait_until(lambda: _slots_freed(instance, pool), "the canceled run's slots to be freed")
    # the waiting step was assigned the slot and claims it on its next try
    assert storage.claim_concurrency_slot(pool, waiting.run_id, "raw_garmin").is_claimed
