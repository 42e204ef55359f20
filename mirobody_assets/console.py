"""The terminal of `mirobody up`: a banner once everything answers, then the sandbox users'
initial sync, then one "data ready" line with a first command to try.

It runs in a thread beside the supervisor's loop and only reads: the Dagster UI and the API
over HTTP, and the database. The children's own output is in `DATA_DIR/logs/`.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.exc import OperationalError

from mirobody_assets.first_sync import FirstSyncWatch

log = logging.getLogger("mirobody.up")
POLL_S = 2.0
NO_RUN_HINT_AFTER_S = 120.0


@dataclass(frozen=True)
class Addresses:
    dagster: str
    api: str
    data_dir: Path
    logs: Path
    warehouse: Path
    credentials: Path | None = None


def url_answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def shown(path: Path) -> str:
    """A path as the user can type it: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def banner(where: Addresses, took_s: float) -> list[str]:
    lines = [
        f"Mirobody is up ({took_s:.0f} s). Ctrl-C stops everything.",
        f"  Dagster UI     {where.dagster}   (lineage, runs, checks, backfills)",
        f"  API docs       {where.api}/docs",
        f"  MCP            {where.api}/mcp   (Bearer token or a secret URL: docs/mcp.md)",
    ]
    if where.credentials is not None:
        lines.append(
            f"  sandbox users  ada@sandbox.mirobody.dev, ben@sandbox.mirobody.dev "
            f"(password in {shown(where.credentials)})"
        )
    lines.append(
        f"  logs           {shown(where.logs)}/   (more detail: LOG_LEVEL=DEBUG, or "
        "`mirobody up --verbose` to print them here)"
    )
    return lines


def first_query(warehouse: Path) -> str:
    """A shell command that shows the warehouse's daily summary (no quotes to escape)."""
    venv = Path.cwd() / ".venv" / "bin" / "python"
    exe = ".venv/bin/python" if venv.exists() else Path(sys.executable).name
    sql = (
        "SELECT indicator, count(*) AS user_days, round(avg(value), 1) AS mean "
        "FROM daily_summary GROUP BY ALL ORDER BY user_days DESC LIMIT 12"
    )
    return (
        f"{exe} -c \"import duckdb; duckdb.connect('{shown(warehouse)}', read_only=True)"
        f".sql('{sql}').show()\""
    )


class Console(threading.Thread):
    """Prints the banner when the UI and the API answer, then follows the first sync."""

    def __init__(
        self, where: Addresses, watch: FirstSyncWatch | None, began: float | None = None
    ) -> None:
        super().__init__(name="mirobody-console", daemon=True)
        self._where, self._watch = where, watch
        self._stopping = threading.Event()
        self._began = time.monotonic() if began is None else began
        self.ui_up_at: float | None = None

    def stop(self) -> None:
        self._stopping.set()

    def run(self) -> None:
        while not (
            url_answers(f"{self._where.dagster}/server_info")
            and url_answers(f"{self._where.api}/readyz")
        ):
            if self._stopping.wait(0.5):
                return
        self.ui_up_at = time.monotonic()
        for line in banner(self._where, self.ui_up_at - self._began):
            log.info(line)
        if self._watch is not None:
            self._follow(self._watch, self.ui_up_at)

    def _follow(self, watch: FirstSyncWatch, ui_up_at: float) -> None:
        log.info("initial sync: pulling the sandbox users' history from every sandbox vendor")
        hinted = False
        while not watch.done and not self._stopping.wait(POLL_S):
            try:
                lines = watch.poll()
            except (httpx.HTTPError, OperationalError, KeyError) as exc:
                # The webserver or API restarting, or still loading: ask again shortly.
                log.debug("initial sync progress unavailable: %s", exc)
                continue
            for line in lines:
                log.info(line)
            if (
                not hinted
                and not watch.started
                and time.monotonic() - ui_up_at > NO_RUN_HINT_AFTER_S
            ):
                hinted = True
                log.warning(
                    "no initial-history run yet: is the new_connections sensor running? "
                    "(Dagster UI > Automation)"
                )
        if watch.all_ready:
            log.info(
                "data ready %.0f s after the UI came up. A first query (DuckDB, "
                "read-only, safe while runs write):",
                time.monotonic() - ui_up_at,
            )
            log.info("  %s", first_query(self._where.warehouse))
            log.info(
                "  or log in at %s/docs (POST /v1/auth/login) as a sandbox user and try "
                "GET /v1/daily-summaries",
                self._where.api,
            )
