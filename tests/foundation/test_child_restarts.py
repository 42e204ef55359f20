"""`mirobody up` keeps its children running: a crashed one is restarted with a growing delay while
the others keep running; one that keeps crashing is given up on, with a clear message."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from mirobody_assets.children import RestartPolicy, spawn, stop_children, supervise
from tests.support.waiting import wait_until

QUICK = RestartPolicy(first_delay_s=0.1, max_delay_s=0.3, stable_after_s=30, max_crashes=4)


class _OnMessage(logging.Handler):
    """Calls `then` once, when a record containing `text` is logged."""

    def __init__(self, text: str, then: Callable[[], object]) -> None:
        super().__init__()
        self.text, self.then, self.fired = text, then, False

    def emit(self, record: logging.LogRecord) -> None:
        if not self.fired and self.text in record.getMessage():
            self.fired = True
            self.then()


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_the_restart_delay_doubles_up_to_its_cap() -> None:
    policy = RestartPolicy(first_delay_s=1, max_delay_s=60)
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_crashed_child_is_restarted_and_the_others_are_left_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    marker = tmp_path / "crashed-once"
    # Crashes on its first life (as if killed), then runs like a server.
    flaky = _python(
        f"import pathlib, sys, time\nm = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n    m.touch(); sys.exit(3)\ntime.sleep(60)"
    )
    steady = spawn("steady", _python("import time; time.sleep(60)"), dict(os.environ), tmp_path)
    children = [steady, spawn("flaky", flaky, dict(os.environ), tmp_path)]
    stopping: list[int] = []
    first_pid = children[1].proc.pid
    threading.Timer(2.0, stopping.append, [signal.SIGTERM]).start()
    try:
        with caplog.at_level(logging.INFO, logger="mirobody.up"):
            assert supervise(children, stopping, QUICK) == 0
        assert children[1].proc.pid != first_pid and children[1].proc.poll() is None
        assert steady.proc.poll() is None  # never touched
        assert "flaky exited with code 3" in caplog.text
        assert "restarting it in 0.1 s" in caplog.text
    finally:
        stop_children(children, grace=2)
    assert all(c.proc.poll() is not None for c in children)


def test_a_child_that_keeps_crashing_is_given_up_on_with_a_clear_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    steady = spawn("steady", _python("import time; time.sleep(60)"), dict(os.environ), tmp_path)
    children = [
        steady,
        spawn("broken", _python("import sys; sys.exit(2)"), dict(os.environ), tmp_path),
    ]
    try:
        with caplog.at_level(logging.INFO, logger="mirobody.up"):
            assert supervise(children, [], QUICK) == 1
    finally:
        stop_children(children, grace=2)
    # restarts after 0.1, 0.2 and 0.3 s (the cap), then the fourth crash in a row gives up
    delays = [
        r.getMessage().split("restarting it in ")[1]
        for r in caplog.records
        if "restarting it in" in r.getMessage()
    ]
    assert delays == [
        "0.1 s. The other processes keep running.",
        "0.2 s. The other processes keep running.",
        "0.3 s. The other processes keep running.",
    ]
    assert "broken exited with code 2" in caplog.text
    assert "4 crashes in a row" in caplog.text and "giving up" in caplog.text
    assert steady.proc.poll() is not None  # everything was stopped


def test_a_child_killed_by_a_signal_is_named_so_and_its_leftover_group_is_stopped_at_the_end(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A parent (like dagster-daemon) whose own child (like its code server) outlives it.
    parent = spawn(
        "daemon",
        _python(
            "import subprocess, sys, time\n"
            "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
            "time.sleep(60)"
        ),
        dict(os.environ),
        tmp_path,
    )
    wait_until(lambda: psutil.Process(parent.proc.pid).children(), "the daemon's own child")
    os.kill(parent.proc.pid, signal.SIGKILL)
    group = parent.proc.pid
    stopping: list[int] = []
    # Stop (as SIGTERM would) once the supervisor has told of the kill, not after a guessed time.
    stop_when_told = _OnMessage("was killed by", lambda: stopping.append(signal.SIGTERM))
    logging.getLogger("mirobody.up").addHandler(stop_when_told)
    try:
        with caplog.at_level(logging.INFO, logger="mirobody.up"):
            assert supervise([parent], stopping, QUICK) == 0
    finally:
        logging.getLogger("mirobody.up").removeHandler(stop_when_told)
    assert "daemon was killed by SIGKILL" in caplog.text
    assert parent.old_groups == [group]  # the orphan is still there, left to finish
    stop_children([parent], grace=2)

    def group_empty() -> bool:
        return not [
            p
            for p in psutil.process_iter(["status"])
            if _pgid(p.pid) == group and p.info["status"] != psutil.STATUS_ZOMBIE
        ]

    wait_until(group_empty, "the leftover group to be stopped", timeout_s=5)


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None
