"""The Dagster side of Mirobody: partitions, resources, assets, checks, sensors and schedules."""

import os
import warnings

from dagster import BetaWarning

# A run over many users x days ends each step with one materialization event per partition;
# Dagster writes them in batches (one INSERT per batch on Postgres) only when this is set.
# Measured here: 1200 partitions of one asset 56-79 s one by one, 20-28 s in batches of 500.
# Every process that executes steps imports this package; an operator's value wins (0: off).
os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "500")
# Single-run backfills are a deliberate choice (see assets.py); Dagster warns about them once
# per asset in every process that loads the code (hundreds of identical lines per start).
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=BetaWarning)
