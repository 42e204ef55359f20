"""Storage: SQLAlchemy models and engine, Alembic migrations, Redis, embedded servers.

Dagster-free on purpose: the API process imports this package.
"""
