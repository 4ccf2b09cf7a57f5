"""Environment-driven settings, read in one place.

| variable | default | meaning |
|---|---|---|
| ``NBA_RAW_DATA_DIR`` | ``../shared/data/nba`` (relative to the working directory) | the raw NBA.com files, see its SOURCES.md |
| ``NBA_PRECOMPUTE_WAREHOUSE`` | ``duckdb`` | ``duckdb`` (embedded file) or ``bigquery`` |
| ``NBA_PRECOMPUTE_DUCKDB_PATH`` | ``data/warehouse.duckdb`` (relative to the working directory) | the embedded warehouse file |
| ``NBA_PRECOMPUTE_BQ_PROJECT`` | (none; required for BigQuery) | project that runs the jobs and holds the datasets |
| ``NBA_PRECOMPUTE_BQ_LOCATION`` | ``US`` | location of the datasets; jobs run there |
| ``NBA_PRECOMPUTE_BQ_DATASET_PREFIX`` | empty | prefix of every dataset name (``dev_`` → ``dev_nba_precompute``) |
| ``NBA_PRECOMPUTE_BQ_DATASETS`` | empty | explicit mapping ``schema=dataset`` or ``schema=project.dataset``, comma-separated |
| ``NBA_PRECOMPUTE_BQ_EXTERNAL_SCHEMAS`` | empty | schemas maintained outside this project (read-only), e.g. ``nba_analytics`` |
| ``NBA_PRECOMPUTE_BQ_STAGING_DATASET`` | the ``nba_processing`` dataset | where load jobs stage rows before the swap |
| ``NBA_PRECOMPUTE_BQ_GCP_CREDENTIALS`` | (none: Application Default Credentials) | base64 service-account key, as ``dagster_gcp.BigQueryResource.gcp_credentials`` |
| ``NBA_PRECOMPUTE_BQ_API_ENDPOINT`` | (none) | emulator URL only (anonymous credentials), e.g. ``http://127.0.0.1:9050`` |
| ``NBA_PRECOMPUTE_TODAY`` | (none: the clock, US Eastern) | the product's today, ISO date: replays the raw data as of that morning (Dagster's calendar ends a week after it; the sensor words its ticks by it) |
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

DEFAULT_RAW_DATA_DIR = "../shared/data/nba"
CREDENTIALS_VAR = "NBA_PRECOMPUTE_BQ_GCP_CREDENTIALS"
DEFAULT_DUCKDB_PATH = "data/warehouse.duckdb"
WAREHOUSE_KINDS = ("duckdb", "bigquery")


def raw_data_dir() -> Path:
    """Directory of the raw NBA files (env ``NBA_RAW_DATA_DIR``)."""
    return Path(os.environ.get("NBA_RAW_DATA_DIR", DEFAULT_RAW_DATA_DIR))


def today_setting() -> dt.date | None:
    """``NBA_PRECOMPUTE_TODAY`` as a date, or ``None`` when it is not set (the clock decides).

    Raises:
        ValueError: the variable is set but not a date.
    """
    value = os.environ.get("NBA_PRECOMPUTE_TODAY", "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"NBA_PRECOMPUTE_TODAY={value!r}: expected a date YYYY-MM-DD") from None


def today() -> dt.date:
    """The product's today: ``NBA_PRECOMPUTE_TODAY`` or the current date in US Eastern time (the timezone
    the NBA dates games in)."""
    return today_setting() or dt.datetime.now(ZoneInfo("America/New_York")).date()


def duckdb_path() -> str:
    """Path of the DuckDB warehouse file (env ``NBA_PRECOMPUTE_DUCKDB_PATH``)."""
    return os.environ.get("NBA_PRECOMPUTE_DUCKDB_PATH", DEFAULT_DUCKDB_PATH)


def warehouse_kind() -> str:
    """``duckdb`` (default) or ``bigquery`` (env ``NBA_PRECOMPUTE_WAREHOUSE``).

    Raises:
        ValueError: any other value.
    """
    kind = os.environ.get("NBA_PRECOMPUTE_WAREHOUSE", "duckdb").strip().lower() or "duckdb"
    if kind not in WAREHOUSE_KINDS:
        raise ValueError(f"NBA_PRECOMPUTE_WAREHOUSE={kind!r}: expected one of {list(WAREHOUSE_KINDS)}")
    return kind


def _list(var: str) -> list[str]:
    return [x.strip() for x in os.environ.get(var, "").split(",") if x.strip()]


def bigquery_settings() -> dict[str, object]:
    """The ``bq_*`` fields of ``WarehouseResource`` from the ``NBA_PRECOMPUTE_BQ_*`` variables; the
    service-account key as ``EnvVar("NBA_PRECOMPUTE_BQ_GCP_CREDENTIALS")`` (never its value).

    Raises:
        ValueError: an entry of ``NBA_PRECOMPUTE_BQ_DATASETS`` is not ``schema=dataset``.
    """
    datasets: dict[str, str] = {}
    for item in _list("NBA_PRECOMPUTE_BQ_DATASETS"):
        schema, sep, dataset = item.partition("=")
        if not sep or not schema.strip() or not dataset.strip():
            raise ValueError(f"NBA_PRECOMPUTE_BQ_DATASETS entry {item!r}: expected schema=dataset "
                             "or schema=project.dataset")
        datasets[schema.strip()] = dataset.strip()
    from dagster import EnvVar  # here, not at import: the launcher reads the settings above without Dagster

    env = os.environ.get
    return {
        "bq_project": env("NBA_PRECOMPUTE_BQ_PROJECT") or None,
        "bq_location": env("NBA_PRECOMPUTE_BQ_LOCATION") or "US",
        "bq_dataset_prefix": env("NBA_PRECOMPUTE_BQ_DATASET_PREFIX", ""),
        "bq_datasets": datasets,
        "bq_external_schemas": _list("NBA_PRECOMPUTE_BQ_EXTERNAL_SCHEMAS"),
        "bq_staging_dataset": env("NBA_PRECOMPUTE_BQ_STAGING_DATASET") or None,
        # a secret: passed as Dagster's EnvVar, so the run's stored config holds the variable's name and
        # never the key itself (the value is read from the environment when the resource is used)
        "bq_gcp_credentials": EnvVar(CREDENTIALS_VAR) if env(CREDENTIALS_VAR) else None,
        "bq_api_endpoint": env("NBA_PRECOMPUTE_BQ_API_ENDPOINT") or None,
    }
