"""The job every sensor and schedule launches: the whole asset graph for a set of partitions
(its user x day partitioning is the assets')."""

import dagster as dg

pipeline_job = dg.define_asset_job(
    "health_pipeline",
    selection=dg.AssetSelection.groups("raw", "normalised", "upload"),
    # One process per run, steps in it one after another (see mirobody_assets/definitions.py).
    executor_def=dg.in_process_executor,
    description="Pull, normalise, summarise and upload the selected user-days.",
)
