"""Materialise one user shard in a process of its own (as Dagster's run launcher would): the
sharded-runs test starts several at once. Usage:

    python -m tests.support.run_shard <dagster_home> <resource fields as JSON> <tags as JSON>

Exits 0 when the run succeeded, 1 when it failed."""

from __future__ import annotations

import json
import sys

import dagster as dg

from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.resources import MirobodyResource


def main(home: str, fields: str, tags: str) -> int:
    instance = dg.DagsterInstance.from_config(home)
    try:
        result = dg.materialize(
            ALL_ASSETS,
            instance=instance,
            resources={"mirobody": MirobodyResource(**json.loads(fields))},
            tags=json.loads(tags),
            raise_on_error=False,
        )
    finally:
        instance.dispose()
    return 0 if result.success else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
