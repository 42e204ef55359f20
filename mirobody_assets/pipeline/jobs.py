"""The job every sensor and schedule launches: the whole asset graph for a set of partitions."""

import dagster as dg

from mirobody_assets.pipeline.partitions import PARTITIONS

pipeline_job = dg.define_asset_job(
    "health_pipeline",
    selection=dg.AssetSelection.groups("raw", "normalised", "upload"),
    partitions_def=PARTITIONS,
    description="Pull, normalise, summarise and upload the selected user-days.",
)
