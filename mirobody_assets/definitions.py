"""The Dagster code location: every asset, check, sensor, schedule and resource of Mirobody."""

import dagster as dg

from mirobody_assets.pipeline.assets import ALL_ASSETS
from mirobody_assets.pipeline.checks import ALL_CHECKS
from mirobody_assets.pipeline.jobs import pipeline_job
from mirobody_assets.pipeline.resources import MirobodyResource
from mirobody_assets.pipeline.schedules import ALL_SCHEDULES
from mirobody_assets.pipeline.sensors import ALL_SENSORS

defs = dg.Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    jobs=[pipeline_job],
    sensors=ALL_SENSORS,
    schedules=ALL_SCHEDULES,
    resources={"mirobody": MirobodyResource()},
)
