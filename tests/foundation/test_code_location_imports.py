"""Loading the Dagster definitions loads no web server and no vendor emulator: the code
location needs only the sandbox's credentials (providers.sandbox.credentials)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PROBE = """
import json, sys
import mirobody_assets.definitions
print(json.dumps(sorted(sys.modules)))
"""


def test_loading_the_definitions_imports_neither_the_emulators_nor_a_web_server(
    project_root: Path,
) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=project_root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    loaded = set(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert "mirobody_assets.definitions" in loaded
    sandbox = {m for m in loaded if m.startswith("providers.sandbox")}
    assert sandbox <= {"providers.sandbox", "providers.sandbox.credentials"}
    web = {m for m in loaded if m.split(".")[0] in {"fastapi", "uvicorn", "starlette"}}
    assert web == set()
