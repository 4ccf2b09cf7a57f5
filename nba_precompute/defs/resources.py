"""Dagster resources: the warehouse and the raw data directory."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

from nba_precompute import config
from nba_precompute.raw import readers
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse


class WarehouseResource(ConfigurableResource):
    """The warehouse the assets read from and write to (embedded DuckDB file ``duckdb_path``)."""

    duckdb_path: str

    def get(self) -> DuckDBWarehouse:
        return DuckDBWarehouse(self.duckdb_path)


class RawDataResource(ConfigurableResource):
    """Directory of the raw NBA.com files (see its SOURCES.md), and the parsed files of the current run.

    Several Phase 3 assets read the same files (the schedule four times, the team logs three times,
    the shot chart twice). Dagster initialises a resource once per run (``setup_for_execution`` on a
    fresh copy), so the readers below parse each file at most once per run and hand every asset the
    same frame; a new run parses the files again. Errors are the readers' ``RawDataError``.
    """

    directory: str
    _parsed: dict = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._parsed = {}

    @property
    def path(self) -> Path:
        return Path(self.directory)

    def _read(self, key: tuple, read) -> pl.DataFrame:
        if key not in self._parsed:
            self._parsed[key] = read()
        return self._parsed[key]

    def schedule(self) -> pl.DataFrame:
        """``readers.read_schedule``, parsed once per run."""
        return self._read(("schedule",), lambda: readers.read_schedule(self.path))

    def player_boxscores(self) -> pl.DataFrame:
        """``readers.read_player_boxscores``, parsed once per run."""
        return self._read(("player_boxscores",), lambda: readers.read_player_boxscores(self.path))

    def team_game_logs(self) -> pl.DataFrame:
        """``readers.read_team_game_logs``, parsed once per run."""
        return self._read(("team_game_logs",), lambda: readers.read_team_game_logs(self.path))

    def shots(self, season_end_year: int) -> pl.DataFrame:
        """``readers.read_shots`` of one season, parsed once per run."""
        return self._read(("shots", season_end_year), lambda: readers.read_shots(self.path, season_end_year))


def default_resources() -> dict[str, ConfigurableResource]:
    """Resources from the environment (``NBA_PRECOMPUTE_DUCKDB_PATH``, ``NBA_RAW_DATA_DIR``)."""
    return {
        "warehouse": WarehouseResource(duckdb_path=config.duckdb_path()),
        "raw_data": RawDataResource(directory=str(config.raw_data_dir())),
    }
