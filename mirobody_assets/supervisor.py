"""`mirobody up`: the whole system on one machine, and a clean stop.

Starts (or connects to) PostgreSQL and Redis, migrates, then runs the Dagster webserver, the
Dagster daemon and the API as child processes. Each child gets its own process group with
SIGINT/SIGTERM reset to their defaults: a shell that starts us in the background leaves SIGINT
ignored, and dagster then cannot be stopped (see shared/reference/stack-notes.md). On Ctrl-C or
SIGTERM every group is terminated (then killed after a grace period) and the embedded servers
stop, so nothing is left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from mirobody_assets.settings import Environment, Settings, ensure_dev_secrets
from mirobody_assets.storage import migrate
from mirobody_assets.storage.embedded import start_services

log = logging.getLogger("mirobody.up")
PROJECT_ROOT = Path(__file__).resolve().parent.parent
GRACE_SECONDS = 12.0


@dataclass
class Child:
    name: str
    proc: subprocess.Popen[bytes]


def _reset_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _spawn(name: str, argv: list[str], env: dict[str, str]) -> Child:
    log.info("starting %s", name)
    proc = subprocess.Popen(
        argv, env=env, cwd=PROJECT_ROOT, start_new_session=True, preexec_fn=_reset_signals
    )
    return Child(name, proc)


def _bin(name: str) -> str:
    """A console script of this virtual environment (falls back to PATH)."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def prepare_dagster_home(data_dir: Path) -> Path:
    home = (data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return home


def stop_children(children: list[Child], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM every child's process group, wait, then SIGKILL what is left."""
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", child.name, grace)
    for child in children:
        # Also reaps grandchildren (dagster's code server, run workers) still in the group.
        _signal_group(child, signal.SIGKILL)
        child.proc.wait()


def _signal_group(child: Child, sig: signal.Signals) -> None:
    try:
        os.killpg(child.proc.pid, sig)
    except ProcessLookupError:
        pass


def run_up(settings: Settings) -> int:
    """Run everything until Ctrl-C/SIGTERM or until a child dies; returns an exit code."""
    stopping: list[int] = []

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    data_dir = settings.data_dir.resolve()
    env = dict(os.environ)
    if settings.environment is Environment.DEVELOPMENT:
        env.update(ensure_dev_secrets(data_dir))
    services = start_services(
        data_dir, settings.database_url, settings.redis_url, settings.dagster_pg_url
    )
    children: list[Child] = []
    try:
        env.update(services.env())
        env.update({"DATA_DIR": str(data_dir), "DAGSTER_HOME": str(prepare_dagster_home(data_dir))})
        migrate.upgrade(services.database_url)
        log.info("database migrated to head")
        if stopping:
            return 0
        subprocess.run([_bin("dagster"), "instance", "migrate"], env=env, check=True,
                       cwd=PROJECT_ROOT, preexec_fn=_reset_signals, stdout=subprocess.DEVNULL)
        workspace = str(PROJECT_ROOT / "workspace.yaml")
        children.append(_spawn("dagster-webserver", [
            _bin("dagster-webserver"), "-w", workspace,
            "-h", settings.dagster_host, "-p", str(settings.dagster_port)], env))
        children.append(_spawn("dagster-daemon", [
            _bin("dagster-daemon"), "run", "-w", workspace], env))
        children.append(_spawn("api", [
            _bin("uvicorn"), "api.app:create_app_from_env", "--factory",
            "--host", settings.api_host, "--port", str(settings.api_port)], env))
        log.info("Dagster UI http://%s:%s  API http://%s:%s/docs  (Ctrl-C stops everything)",
                 settings.dagster_host, settings.dagster_port, settings.api_host, settings.api_port)
        while not stopping:
            dead = [c for c in children if c.proc.poll() is not None]
            if dead:
                log.error("%s exited with %s; stopping everything", dead[0].name,
                          dead[0].proc.returncode)
                return 1
            time.sleep(0.5)
        log.info("signal %s received; stopping", stopping[0])
        return 0
    finally:
        stop_children(children)
        services.stop()
        log.info("stopped")
