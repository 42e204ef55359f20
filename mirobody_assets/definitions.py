"""The Dagster code location: every asset, check, sensor, schedule and resource of Mirobody."""

from __future__ import annotations

import dagster as dg

defs = dg.Definitions(assets=[], resources={})
