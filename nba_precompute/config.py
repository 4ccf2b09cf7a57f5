"""Environment-driven settings, read in one place.

| variable | default | meaning |
|---|---|---|
| ``NBA_RAW_DATA_DIR`` | ``../shared/data/nba`` (relative to the working directory) | the raw NBA.com files, see its SOURCES.md |
| ``NBA_PRECOMPUTE_DUCKDB_PATH`` | ``data/warehouse.duckdb`` (relative to the working directory) | the embedded warehouse file |
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_RAW_DATA_DIR = "../shared/data/nba"
DEFAULT_DUCKDB_PATH = "data/warehouse.duckdb"


def raw_data_dir() -> Path:
    """Directory of the raw NBA files (env ``NBA_RAW_DATA_DIR``)."""
    return Path(os.environ.get("NBA_RAW_DATA_DIR", DEFAULT_RAW_DATA_DIR))


def duckdb_path() -> str:
    """Path of the DuckDB warehouse file (env ``NBA_PRECOMPUTE_DUCKDB_PATH``)."""
    return os.environ.get("NBA_PRECOMPUTE_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)
