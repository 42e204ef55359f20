-- Dagster keeps its own alembic_version table, so it gets its own database.
CREATE DATABASE mirobody_dagster OWNER mirobody;
