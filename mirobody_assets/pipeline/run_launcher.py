"""The run launcher named in dagster.yaml: Dagster's default one, plus a run-worker health check.

Dagster's DefaultRunLauncher starts each run in a subprocess of the code server and cannot tell
the run monitor whether that worker still lives, so a run whose code server died with it (the
whole `mirobody up` killed, a machine restart) stayed STARTED forever and kept its pool slots.
This launcher answers the monitor's question: the code server that launched the run is asked
for the runs it is executing; a server that is gone, or one that no longer executes the run
(a new server on the same address), means the worker is dead and the monitor fails the run.
The monitor then frees its pool slots (`free_slots_after_run_end_seconds` in dagster.yaml).
"""

from __future__ import annotations

import json
import logging
import re

import psutil
from dagster import DefaultRunLauncher
from dagster._core.errors import DagsterUserCodeUnreachableError
from dagster._core.events import DagsterEventType
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._grpc.client import DagsterGrpcClient
from dagster._grpc.types import GetCurrentRunsResult
from dagster._serdes import deserialize_value

log = logging.getLogger(__name__)
# Written by the run worker itself when it starts (dagster._grpc.impl).
_STARTED = re.compile(r"^Started process for run \(pid: (\d+)\)")
_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


class HealthCheckedRunLauncher(DefaultRunLauncher):
    """DefaultRunLauncher whose run workers the run monitor can check."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        raw_info = run.tags.get(GRPC_INFO_TAG)
        if raw_info is None:
            # Not launched through a code server (an in-process `materialize`, a test): its
            # worker is the process that started it, and nothing here can see it.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "not launched by a code server")
        info = json.loads(raw_info)
        where = f"{info.get('host')}:{info.get('port') or info.get('socket')}"
        client = DagsterGrpcClient(
            port=info.get("port"),
            socket=info.get("socket"),
            host=info.get("host"),
            use_ssl=bool(info.get("use_ssl")),
        )
        try:
            current = deserialize_value(client.get_current_runs(), GetCurrentRunsResult)
        except DagsterUserCodeUnreachableError:
            pid, started_at = self._worker_pid(run.run_id)
            if pid is not None and _is_local(info) and _alive(pid, started_at):
                # The code server died but left its worker running: let it finish.
                return CheckRunHealthResult(
                    WorkerStatus.RUNNING, f"code server at {where} is gone; worker {pid} lives"
                )
            return CheckRunHealthResult(
                WorkerStatus.FAILED,
                f"the code server that launched the run ({where}) is gone, and its run worker "
                f"(pid {pid}) with it",
            )
        if run.run_id in current.current_runs:
            return CheckRunHealthResult(WorkerStatus.RUNNING)
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the code server at {where} no longer executes this run (it was restarted, or the "
            "run worker died)",
        )

    def _worker_pid(self, run_id: str) -> tuple[int | None, float]:
        """The pid the run's worker reported when it started (the latest one, if resumed), and
        when it reported it."""
        entries = self._instance.event_log_storage.get_logs_for_run(
            run_id, of_type=DagsterEventType.ENGINE_EVENT, ascending=False
        )
        for entry in entries:
            found = _STARTED.match(entry.message or "")
            if found:
                return int(found.group(1)), entry.timestamp
        return None, 0.0


def _is_local(info: dict[str, object]) -> bool:
    return info.get("socket") is not None or info.get("host") in _LOCAL_HOSTS


def _alive(pid: int, started_at: float) -> bool:
    """Whether the worker still runs: the pid lives and is no newer process (after a reboot,
    a pid names someone else)."""
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE and proc.create_time() <= started_at + 1
    except psutil.Error:
        return False
