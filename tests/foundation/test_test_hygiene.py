"""The suite waits on conditions, not on the clock: no fixed sleep longer than 0.2 s and no
assertion on measured elapsed time in tests/ (tests/support/waiting.py's `wait_until` is
the way to wait). Code inside strings (child-process scripts) is not looked at."""

from __future__ import annotations

import ast
from pathlib import Path

MAX_SLEEP_S = 0.2
CLOCKS = {"monotonic", "perf_counter", "time", "monotonic_ns", "perf_counter_ns"}
SLEEPS = {"sleep"}  # time.sleep, asyncio.sleep, anyio.sleep, trio.sleep


def _name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _is_clock_call(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and _name(node.func) in CLOCKS and not node.args


def _measures_time(node: ast.AST, measured: set[str]) -> bool:
    """A subtraction involving a clock reading, or a name that holds one."""
    for sub in ast.walk(node):
        if (
            isinstance(sub, ast.BinOp)
            and isinstance(sub.op, ast.Sub)
            and any(_is_clock_call(side) for side in ast.walk(sub))
        ):
            return True
        if isinstance(sub, ast.Name) and sub.id in measured:
            return True
    return False


def _problems(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and _name(node.func) in SLEEPS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, int | float)
            and node.args[0].value > MAX_SLEEP_S
        ):
            found.append(f"{path}:{node.lineno}: sleep({node.args[0].value})")
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            measured = {
                t.id
                for a in ast.walk(node)
                if isinstance(a, ast.Assign) and _measures_time(a.value, set())
                for t in a.targets
                if isinstance(t, ast.Name)
            }
            found += [
                f"{path}:{a.lineno}: asserts on elapsed time"
                for a in ast.walk(node)
                if isinstance(a, ast.Assert) and _measures_time(a.test, measured)
            ]
    return found


def test_the_checker_catches_a_fixed_sleep_and_an_elapsed_time_assertion(tmp_path: Path) -> None:
    bad = tmp_path / "test_bad.py"
    bad.write_text(
        "import time\n\ndef test_x():\n    started = time.monotonic()\n"
        "    time.sleep(1.5)\n    took = time.monotonic() - started\n"
        "    assert took < 2\n    assert time.monotonic() - started < 3\n"
    )
    assert sorted(p.split(": ", 1)[1] for p in _problems(bad)) == [
        "asserts on elapsed time",
        "asserts on elapsed time",
        "sleep(1.5)",
    ]
    fine = tmp_path / "test_fine.py"
    fine.write_text(
        "import time\n\ndef test_y():\n    deadline = time.monotonic() + 5\n"
        "    time.sleep(0.05)\n    assert time.monotonic() < deadline\n"
        "    run('import time; time.sleep(60)')\n"
    )
    assert _problems(fine) == []


def test_no_test_sleeps_long_or_asserts_on_elapsed_time(project_root: Path) -> None:
    problems = [
        p for path in sorted((project_root / "tests").rglob("*.py")) for p in _problems(path)
    ]
    assert problems == []


def test_test_files_are_named_by_subject_not_by_accretion(project_root: Path) -> None:
    accreted = [
        p.name
        for p in (project_root / "tests").rglob("test_*.py")
        if p.stem.endswith(("_more", "_extra", "_misc", "_new", "_2"))
    ]
    assert accreted == []
