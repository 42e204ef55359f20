"""As root, the embedded PostgreSQL runs as a system user that `useradd` creates: where
`useradd` is missing the start fails with one line saying what to do, not a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mirobody_assets.storage.embedded import EmbeddedServerError, ensure_root_can_run_postgres

NOBODY = "mirobody-no-such-user"


def test_a_non_root_user_needs_no_system_user() -> None:
    ensure_root_can_run_postgres(euid=1000, path="", user=NOBODY)


def test_root_without_useradd_gets_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(EmbeddedServerError) as raised:
        ensure_root_can_run_postgres(euid=0, path=str(tmp_path), user=NOBODY)
    message = str(raised.value)
    assert "\n" not in message
    assert "useradd" in message and "DATABASE_URL" in message and NOBODY in message


def test_root_with_useradd_on_path_goes_ahead(tmp_path: Path) -> None:
    useradd = tmp_path / "useradd"
    useradd.write_text("#!/bin/sh\nexit 0\n")
    useradd.chmod(0o755)
    ensure_root_can_run_postgres(euid=0, path=str(tmp_path), user=NOBODY)


@pytest.mark.skipif(
    shutil.which("useradd", path="/usr/sbin:/sbin") is None,
    reason="no useradd in /usr/sbin or /sbin on this machine",
)
def test_a_useradd_left_off_path_is_found_in_sbin(tmp_path: Path) -> None:
    # In a child process: the function puts the sbin folder on that process's PATH.
    code = (
        "import os; os.environ['PATH'] = '/usr/bin:/bin'; "
        "from mirobody_assets.storage.embedded import ensure_root_can_run_postgres; "
        f"ensure_root_can_run_postgres(euid=0, user={NOBODY!r}); print(os.environ['PATH'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert "sbin" in done.stdout
