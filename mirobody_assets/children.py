"""The child processes of `mirobody up`: started in their own process groups, restarted with
backoff when they crash, and stopped together.

Each child gets its own process group with SIGINT/SIGTERM reset to their defaults: a shell that
starts us in the background leaves SIGINT ignored, and dagster then cannot be stopped (see
shared/reference/stack-notes.md). A crashed child is started again after a delay that doubles
with every crash in a row (up to a cap); one that ran for a while before crashing starts over at
the first delay. A child that keeps crashing right after it starts is given up on, and with it
everything (exit code 1), so a process manager or the operator sees the failure.

A child's output goes to its own file (`DATA_DIR/logs/<name>.log`, appended across restarts)
when it is given one, so the terminal stays readable; a crash prints the file's last lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("mirobody.up")
GRACE_SECONDS = 12.0
POLL_SECONDS = 0.5


@dataclass(frozen=True)
class RestartPolicy:
    """How crashed children are started again."""

    first_delay_s: float = 1.0
    max_delay_s: float = 60.0
    # A child that ran this long before crashing was working: its next crash starts over.
    stable_after_s: float = 60.0
    # The crash in a row (each before stable_after_s) at which we give up: with the delays
    # above, about four minutes of retrying.
    max_crashes: int = 10

    def delay(self, crashes: int) -> float:
        """Seconds before the restart that follows the `crashes`-th crash in a row."""
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** max(0, crashes - 1)))


@dataclass
class Child:
    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    proc: subprocess.Popen[bytes]
    log_path: Path | None = None
    started_at: float = field(default_factory=time.monotonic)
    crashes: int = 0
    restart_at: float | None = None
    # Process groups of earlier lives that still have members (a crashed dagster-daemon's code
    # server finishing its runs): left to finish, stopped with everything.
    old_groups: list[int] = field(default_factory=list)


def reset_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _popen(
    argv: list[str], env: dict[str, str], cwd: Path, log_path: Path | None = None
) -> subprocess.Popen[bytes]:
    if log_path is None:
        return subprocess.Popen(
            argv, env=env, cwd=cwd, start_new_session=True, preexec_fn=reset_signals
        )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=reset_signals,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def spawn(
    name: str, argv: list[str], env: dict[str, str], cwd: Path, log_path: Path | None = None
) -> Child:
    """Start a child in its own process group; its output goes to `log_path` when given."""
    log.debug("starting %s", name)
    return Child(name, argv, dict(env), cwd, _popen(argv, env, cwd, log_path), log_path)


def tail(path: Path | None, lines: int = 15) -> list[str]:
    """The last lines of a child's log file (what it said before it died)."""
    if path is None:
        return []
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - 16_384))
            text = fh.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def supervise(children: list[Child], stopping: list[int], policy: RestartPolicy) -> int:
    """Keep the children running until a signal arrives (0) or one crash-loops (1)."""
    while not stopping:
        for child in children:
            if child.restart_at is None and child.proc.poll() is not None:
                if not _schedule_restart(child, policy):
                    return 1
            elif child.restart_at is not None and time.monotonic() >= child.restart_at:
                log.info("restarting %s (after crash %d in a row)", child.name, child.crashes)
                child.proc = _popen(child.argv, child.env, child.cwd, child.log_path)
                child.started_at, child.restart_at = time.monotonic(), None
            child.old_groups = [g for g in child.old_groups if _group_alive(g)]
        time.sleep(POLL_SECONDS)
    return 0


def _schedule_restart(child: Child, policy: RestartPolicy) -> bool:
    """Record a crash; False when the child crash-loops and we give up."""
    ran = time.monotonic() - child.started_at
    child.crashes = 1 if ran >= policy.stable_after_s else child.crashes + 1
    if _group_alive(child.proc.pid):
        child.old_groups.append(child.proc.pid)
    how = _exit_description(child.proc.returncode)
    if child.log_path is not None:
        log.error(
            "%s stopped; the end of %s:\n    %s",
            child.name,
            child.log_path,
            "\n    ".join(tail(child.log_path)),
        )
    if child.crashes >= policy.max_crashes:
        log.error(
            "%s %s %.1f s after it started: %d crashes in a row, each within %.0f s of "
            "starting; giving up and stopping everything. Its output (above, or in its log "
            "file) says why.",
            child.name,
            how,
            ran,
            child.crashes,
            policy.stable_after_s,
        )
        return False
    delay = policy.delay(child.crashes)
    log.error(
        "%s %s after %.1f s (crash %d in a row; giving up after %d); restarting it in "
        "%.1f s. The other processes keep running.",
        child.name,
        how,
        ran,
        child.crashes,
        policy.max_crashes,
        delay,
    )
    child.restart_at = time.monotonic() + delay
    return True


def _exit_description(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stop_children(children: list[Child], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM every child's process groups, wait, then SIGKILL what is left."""
    # A child waiting to restart has no live group of its own (what was left of it is in
    # old_groups); its pid may already name someone else's process.
    groups = [
        g
        for child in children
        for g in [*child.old_groups, *([child.proc.pid] if child.restart_at is None else [])]
    ]
    for group in groups:
        _signal_group(group, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0f s; killing it", child.name, grace)
    for group in groups:
        # Also reaps grandchildren (dagster's code server, run workers) still in the group.
        _signal_group(group, signal.SIGKILL)
    for child in children:
        child.proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)
