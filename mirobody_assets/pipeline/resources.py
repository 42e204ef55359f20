"""The pipeline's one resource: settings-backed storage, providers and warehouse."""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from sqlalchemy import Engine

from mirobody_assets.connections import ConnectionRepository
from mirobody_assets.provider_config import build_registry
from mirobody_assets.settings import Settings, get_settings
from mirobody_assets.storage.crypto import TokenCipher
from mirobody_assets.storage.engine import engine_from_settings
from mirobody_assets.storage.facts import FactStore, fact_store
from mirobody_assets.storage.warehouse import Warehouse
from providers.registry import ProviderRegistry


class MirobodyResource(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Access to Mirobody's storage and providers, configured by the environment.

    Every field left unset comes from the environment (the same variables as everywhere
    else); tests set them explicitly.
    """

    database_url: str | None = None
    data_dir: str | None = None
    duckdb_path: str | None = None
    sandbox_url: str | None = None
    token_encryption_keys: str | None = None
    remote_ingest_url: str | None = None
    vendor_timeout_s: float | None = None
    users_per_run: int | None = None

    @cached_property
    def settings(self) -> Settings:
        overrides = {
            k: v for k, v in self.__dict__.items() if k in type(self).model_fields and v is not None
        }
        return get_settings(**overrides)

    @cached_property
    def engine(self) -> Engine:
        if not self.settings.database_url:
            raise dg.Failure("DATABASE_URL is not configured for the pipeline")
        return engine_from_settings(self.settings)

    @cached_property
    def registry(self) -> ProviderRegistry:
        return build_registry(self.settings)

    @cached_property
    def connections(self) -> ConnectionRepository:
        return ConnectionRepository(self.engine, TokenCipher(self.settings.encryption_keys()))

    @cached_property
    def facts(self) -> FactStore:
        """The long fact table's Parquet files (indicator_values)."""
        return fact_store(self.settings.data_dir, self.settings.facts_url)

    @cached_property
    def warehouse(self) -> Warehouse:
        wh = Warehouse(self.settings.warehouse_path, self.settings.data_dir / "parquet")
        wh.ensure()
        return wh

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()
