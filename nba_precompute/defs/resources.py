"""Dagster resources: the warehouse and the raw data directory."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from nba_precompute import config
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse the assets read from and write to (embedded DuckDB file ``duckdb_path``)."""

    duckdb_path: str

    def get(self) -> DuckDBWarehouse:
        return DuckDBWarehouse(self.duckdb_path)


class RawDataResource(ConfigurableResource):
    """Directory of the raw NBA.com files (see its SOURCES.md)."""

    directory: str

    @property
    def path(self) -> Path:
        return Path(self.directory)


def default_resources() -> dict[str, ConfigurableResource]:
    """Resources from the environment (``NBA_PRECOMPUTE_DUCKDB_PATH``, ``NBA_RAW_DATA_DIR``)."""
    return {
        "warehouse": WarehouseResource(duckdb_path=config.duckdb_path()),
        "raw_data": RawDataResource(directory=str(config.raw_data_dir())),
    }
