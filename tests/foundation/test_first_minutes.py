"""A newcomer's first minutes: `mirobody up` on embedded defaults, run by
bench/time_to_first_data.py, brings both sandbox users' 30 days to `/v1/series`, prints a console
a person can read (the addresses, the sync's progress, "data ready"; no repeated warnings), keeps
the processes' output in DATA_DIR/logs, and leaves nothing behind after SIGTERM.

The bench prints the figures (seconds from the UI being up to the data); nothing here is timed
beyond the bench's own generous timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
_TIME = re.compile(r"^\d\d:\d\d:\d\d ")


@pytest.mark.timeout(900)
def test_mirobody_up_brings_the_sandbox_users_data_and_a_readable_console(
    project_root: Path,
) -> None:
    # Not under pytest's tmp_path: its 0700 folders keep out the embedded PostgreSQL's own
    # system user (as root), and other sessions' pytest runs prune old ones.
    tmp = Path(tempfile.mkdtemp(prefix="mirobody-first-minutes-"))
    try:
        _check_first_minutes(project_root, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _check_first_minutes(project_root: Path, tmp: Path) -> None:
    data = tmp / "data"
    done = subprocess.run(
        [
            sys.executable,
            "bench/time_to_first_data.py",
            "--keep-data",
            str(data),
            "--timeout",
            "600",
            "--skip-backfill",
        ],
        cwd=project_root,
        capture_output=True,
        text=True,
        timeout=840,
    )
    print(done.stdout)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "time to first data:" in done.stdout
    assert "left behind after SIGTERM: nothing" in done.stdout

    console = (tmp / "up.log").read_text().splitlines()
    text = "\n".join(console)
    for expected in (
        "Mirobody is up",
        "Dagster UI",
        "API docs",
        "/mcp",
        "sandbox users",
        "initial sync",
        "ready: ",
        "data ready",
        "duckdb.connect",
    ):
        assert expected in text, f"the console lacks {expected!r}:\n{text}"
    assert len(console) < 60, text
    assert "Traceback" not in text and "Warning" not in text, text
    repeated = [line for line, n in Counter(_TIME.sub("", c) for c in console).items() if n > 1]
    assert repeated == [], repeated

    logs = {p.name: p.read_text(errors="replace") for p in (data / "logs").glob("*.log")}
    assert {"api.log", "dagster-daemon.log", "dagster-webserver.log"} <= set(logs)
    assert not any("backfill_policy" in body for body in logs.values())
    # Run logs are at INFO: no DEBUG event lines in the daemon's file (Dagster's default).
    assert "DEBUG" not in logs["dagster-daemon.log"]
