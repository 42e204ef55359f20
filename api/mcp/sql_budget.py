"""How many query_sql statements one API process runs at once, and the memory each may use.

Every sandbox is its own DuckDB database with its own memory limit, so without a shared
budget four large queries used four limits at once. A budget holds
`sql_max_concurrent_queries` slots; a query takes one before it loads the person's tables
and keeps it until its connection is closed, and its DuckDB gets `sql_memory_budget_mb /
sql_max_concurrent_queries` MiB. A caller that finds every slot taken waits a few seconds,
then gets a 'busy' error the model can act on.

Budgets live in a module registry keyed by the two settings, so every app state of a process
with the same settings shares one (a process-wide limit, without adding to AppState).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from api.mcp.sql import SqlError
from mirobody_assets.settings import Settings

# How long a query waits for a free slot before it is refused (read at each call).
BUSY_WAIT_S = 3.0


class SqlBusyError(SqlError):
    """Every slot of the budget stayed taken for BUSY_WAIT_S seconds."""


@dataclass(frozen=True)
class SqlBudget:
    """At most `max_concurrent` statements at once, sharing `memory_mb` MiB of DuckDB memory."""

    max_concurrent: int
    memory_mb: int
    _slots: threading.BoundedSemaphore = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_slots", threading.BoundedSemaphore(self.max_concurrent))

    @property
    def memory_mb_per_query(self) -> int:
        """Each statement's share: the budget split evenly over the slots."""
        return self.memory_mb // self.max_concurrent

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the duration (blocking: call it from a worker thread)."""
        if not self._slots.acquire(timeout=BUSY_WAIT_S):
            running = (
                "1 query is" if self.max_concurrent == 1 else f"{self.max_concurrent} queries are"
            )
            raise SqlBusyError(
                f"the SQL tool is busy: {running} running; try again in a few seconds"
            )
        try:
            yield
        finally:
            self._slots.release()


_BUDGETS: dict[tuple[int, int], SqlBudget] = {}
_LOCK = threading.Lock()


def budget_for(settings: Settings) -> SqlBudget:
    """This process's budget for the SQL tool under `settings` (one per distinct setting)."""
    key = (settings.sql_max_concurrent_queries, settings.sql_memory_budget_mb)
    with _LOCK:
        budget = _BUDGETS.get(key)
        if budget is None:
            budget = _BUDGETS[key] = SqlBudget(*key)
        return budget
