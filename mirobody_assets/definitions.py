"""The Dagster code location: every asset, check, sensor, schedule and resource of Mirobody.

Runs execute their steps in one process (`in_process_executor`). A run of the pipeline is ~20
steps (a pull per vendor, normalise, summarise, upload, and the checks) of 1-6 s each; the
multiprocess executor started a Python process per step, which cost ~5 minutes per run on a
2-core machine and made up nearly all of it. In one process the steps still show one by one in
the UI with their lineage and checks, retries still apply, and the per-vendor concurrency pools
still hold: the executor claims a step's pool slot before running it and runs another ready step
(or waits) while the slot is taken. Spreading one run's steps over machines (Kubernetes, Celery)
is a deployment's choice of executor here.
"""

import dagster as dg

from mirobody_assets.pipeline.apple_health import APPLE_HEALTH_JOBS, APPLE_HEALTH_SENSORS
from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.checks import ALL_CHECKS
from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.pipeline.schedules import ALL_SCHEDULES
from mirobody_assets.pipeline.sensors import ALL_SENSORS

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[pipeline_job, *APPLE_HEALTH_JOBS],
    sensors=[*ALL_SENSORS, *APPLE_HEALTH_SENSORS],
    schedules=ALL_SCHEDULES,
    resources={"mirobody": MirobodyResource()},
    # Also the executor of the UI's materialisations and backfills (the implicit asset job).
    executor=dg.in_process_executor,
)
