"""Build and install a plugin wheel by hand (offline, no build backend), for entry-point tests."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Mapping
from pathlib import Path


def _digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def build_plugin_wheel(
    folder: Path,
    name: str,
    module: str,
    source: str,
    entry_points: Mapping[str, Mapping[str, str]],
    version: str = "0.1.0",
) -> Path:
    """A wheel holding one module (`source`) and its entry points {group: {name: target}}."""
    dist = f"{name.replace('-', '_')}-{version}"
    eps = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items())
        for group, items in entry_points.items()
    )
    files = {
        f"{module}.py": textwrap.dedent(source),
        f"{dist}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        "Tag: py3-none-any\n",
        f"{dist}.dist-info/entry_points.txt": eps,
    }
    record = [f"{path},sha256={_digest(text)},{len(text.encode())}" for path, text in files.items()]
    files[f"{dist}.dist-info/RECORD"] = "\n".join([*record, f"{dist}.dist-info/RECORD,,"]) + "\n"
    wheel = folder / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return wheel


def pip_install_target(wheel: Path, target: Path) -> Path:
    """`pip install --target` the wheel (no index, no dependencies); returns the target."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        cwd=wheel.parent,
        timeout=120,
    )
    return target
