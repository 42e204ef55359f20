"""The real code location, with each run's steps executed inside its run worker.

The crash tests' daemon loads this: Dagster's default executor starts a process per step, each
importing the whole code location again (10-40 s per step on a loaded 2-core machine, minutes per
run). Here a run takes seconds, and its run worker is the one process to kill mid-run. Pools
behave the same: a step claims its vendor's slot before it starts, whatever the executor.
"""

import dagster as dg

from mirobody_assets import definitions

defs = dg.Definitions.merge(definitions.defs, dg.Definitions(executor=dg.in_process_executor))
