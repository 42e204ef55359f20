"""The workspace loads: `dagster definitions validate` against a Postgres-backed instance."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from mirobody_assets.storage.embedded import dagster_url_beside, drop_database, ensure_database


def test_dagster_definitions_validate_passes_for_the_workspace(
    tmp_path: Path, project_root: Path, database_url: str
) -> None:
    shutil.copyfile(project_root / "dagster.yaml", tmp_path / "dagster.yaml")
    dagster_url = dagster_url_beside(database_url)
    ensure_database(dagster_url)
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "DAGSTER_PG_URL": dagster_url}
    dagster = str(Path(sys.executable).parent / "dagster")
    try:
        proc = subprocess.run(
            [dagster, "definitions", "validate", "-w", "workspace.yaml"],
            cwd=project_root,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        drop_database(dagster_url)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All code locations passed validation" in proc.stdout + proc.stderr
