"""`mirobody up` end to end: embedded servers, migrations, Dagster UI, API, sandbox; SIGTERM
leaves nothing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

STARTUP_TIMEOUT_S = 150


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_until_up(proc: subprocess.Popen[bytes], dagster_port: int,
                   api_port: int) -> dict[str, object]:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    ui = ready = None
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            ui_url = f"http://127.0.0.1:{dagster_port}/"
            if ui is None and httpx.get(ui_url, timeout=2).status_code == 200:
                ui = True
            if ready is None:
                r = httpx.get(f"http://127.0.0.1:{api_port}/readyz", timeout=2)
                if r.status_code == 200:
                    ready = r.json()
        except httpx.HTTPError:
            pass
        if ui and ready:
            return ready
        time.sleep(1)
    raise AssertionError(f"not up in time (ui={ui}, ready={ready}, exit={proc.poll()})")


@pytest.mark.slow
def test_run_command_serves_dagster_and_api_and_sigterm_leaves_no_process(
    tmp_path: Path, project_root: Path
) -> None:
    dagster_port, api_port, sandbox_port = _free_port(), _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "REDIS_URL", "DAGSTER_PG_URL", "DAGSTER_HOME"}}
    env.update(DATA_DIR=str(tmp_path / "data"), DAGSTER_PORT=str(dagster_port),
               API_PORT=str(api_port), SANDBOX_PORT=str(sandbox_port),
               ENVIRONMENT="development")
    mirobody = str(Path(sys.executable).parent / "mirobody")
    log = (tmp_path / "up.log").open("wb")
    proc = subprocess.Popen([mirobody, "up"], cwd=project_root, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        ready = _wait_until_up(proc, dagster_port, api_port)
        assert ready == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}
        family = psutil.Process(proc.pid).children(recursive=True)
        pg_pid = int((tmp_path / "data" / "postgres" / "postmaster.pid").read_text().split()[0])
        registry = json.loads((tmp_path / "data" / "redis" / "redis.db.settings").read_text())
        redis_pid = int(Path(registry["pidfile"]).read_text())
        watched = [*family, psutil.Process(pg_pid), psutil.Process(redis_pid)]
        assert len(family) >= 4  # webserver, daemon, API, sandbox (and dagster's code servers)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        _, alive = psutil.wait_procs(watched, timeout=10)
        alive = [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]
        assert alive == [], f"left behind: {[(p.pid, p.cmdline()) for p in alive]}"
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    secrets = json.loads((tmp_path / "data" / "secrets.json").read_text())
    output = (tmp_path / "up.log").read_text(errors="replace")
    assert all(value not in output for value in secrets.values()), "a secret reached the log"
