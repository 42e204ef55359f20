"""The README, docker compose and CI agree with the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from mirobody_assets.settings import Settings

COMPOSE_ONLY = {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def _readme_commands(root: Path) -> list[str]:
    text = (root / "README.md").read_text()
    return re.findall(r"```bash\n(python3 -m venv .venv[^\n]*)\n```", text)


def test_ci_runs_exactly_the_readme_test_command(project_root: Path) -> None:
    commands = _readme_commands(project_root)
    assert len(commands) == 2, commands
    assert commands[0].endswith("mirobody up")
    ci = (project_root / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == commands[1]


def test_every_setting_is_documented_in_the_readme(project_root: Path) -> None:
    readme = (project_root / "README.md").read_text()
    missing = [n.upper() for n in Settings.model_fields if f"`{n.upper()}`" not in readme]
    assert missing == []


def test_compose_configures_only_variables_the_settings_read(project_root: Path) -> None:
    compose = yaml.safe_load((project_root / "docker-compose.yml").read_text())
    known = {n.upper() for n in Settings.model_fields} | COMPOSE_ONLY
    used: set[str] = set()
    for service in compose["services"].values():
        used |= set((service.get("environment") or {}).keys())
    assert used - known == set()
    assert {"code", "dagster-webserver", "dagster-daemon", "api", "postgres", "redis"} <= set(
        compose["services"]
    )


def test_dependencies_are_pinned_exactly(project_root: Path) -> None:
    project = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]
    deps = project["dependencies"] + project["optional-dependencies"]["dev"]
    assert [d for d in deps if "==" not in d] == []
