"""Dagster instances for crash tests: the project's dagster.yaml with run monitoring sped up, on
scratch databases of the test server."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml
from sqlalchemy.engine import make_url

from mirobody_assets.storage import migrate
from mirobody_assets.storage.embedded import dagster_url_beside, drop_database, ensure_database

# Only times the project sets are shortened; a setting dagster.yaml leaves out stays out, so a
# test of what the project configures fails when the project stops configuring it.
FAST_MONITORING = {
    "poll_interval_seconds": 1,
    "free_slots_after_run_end_seconds": 1,
    "cancel_timeout_seconds": 3,
}


def write_fast_monitoring_home(project_root: Path, home: Path) -> Path:
    """A DAGSTER_HOME holding dagster.yaml with a 1 s monitor poll."""
    config = yaml.safe_load((project_root / "dagster.yaml").read_text())
    monitoring = config.setdefault("run_monitoring", {})
    for key, fast in FAST_MONITORING.items():
        if key == "poll_interval_seconds" or key in monitoring:
            monitoring[key] = fast
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


@contextmanager
def scratch_databases(pg_server_url: str, stem: str) -> Iterator[tuple[str, str]]:
    """A migrated application database and an empty Dagster one beside it, dropped after."""
    name = f"{stem}_{secrets.token_hex(4)}"
    app_url = make_url(pg_server_url).set(database=name).render_as_string(hide_password=False)
    dagster_url = dagster_url_beside(app_url)
    ensure_database(app_url)
    ensure_database(dagster_url)
    try:
        migrate.upgrade(app_url)
        yield app_url, dagster_url
    finally:
        drop_database(dagster_url)
        drop_database(app_url)
