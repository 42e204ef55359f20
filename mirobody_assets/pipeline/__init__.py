"""The Dagster side of Mirobody: partitions, resources, assets, checks, sensors and schedules."""
