"""Shared fixtures: the real raw data directory and a December 2022 warehouse built through Dagster."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest
from dagster import AssetSelection, DagsterInstance

from nba_precompute.pipeline import materialize_range
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

REPO_ROOT = Path(__file__).resolve().parents[1]
# Phase 3 from opening night (the Phase 4 history), Phase 4 over a December week.
HISTORY_START = "2022-10-18"
DEC_START = "2022-12-10"
DEC_END = "2022-12-16"
PHASE4_SELECTION = AssetSelection.groups("phase4_precompute", "phase4_predictions")


def raw_dir() -> Path:
    return Path(os.environ.get("NBA_RAW_DATA_DIR", REPO_ROOT.parent / "shared" / "data" / "nba"))


@pytest.fixture(scope="session")
def raw_data_dir() -> Path:
    """The real data directory, absolute (tests change directory; NBA_RAW_DATA_DIR may be relative)."""
    path = raw_dir().resolve()
    if not (path / "SOURCES.md").exists():
        pytest.fail(f"real NBA data not found at {path}: set NBA_RAW_DATA_DIR")
    return path


@dataclass
class BuiltWarehouse:
    warehouse: DuckDBWarehouse
    instance: DagsterInstance
    path: str
    results: list


@pytest.fixture(scope="session")
def december_warehouse(tmp_path_factory, raw_data_dir) -> BuiltWarehouse:
    """Phase 3 over [opening night, DEC_END] and Phase 4 over [DEC_START, DEC_END], as two Dagster runs."""
    tmp = tmp_path_factory.mktemp("december")
    db = str(tmp / "warehouse.duckdb")
    instance = DagsterInstance.ephemeral()
    phase3 = materialize_range(HISTORY_START, DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                               selection="group:phase3_analytics", instance=instance)
    phase4 = materialize_range(DEC_START, DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                               selection=PHASE4_SELECTION, instance=instance)
    return BuiltWarehouse(DuckDBWarehouse(db), instance, db, [phase3, phase4])
