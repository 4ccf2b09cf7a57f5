"""Helpers for the Dagster-level check tests: copies of the December warehouse, a toy downstream asset,
and queries of the per-partition check records in an instance."""


import shutil
from pathlib import Path

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    asset,
)

from nba_precompute.defs.checks import CHECK_NAMES
from nba_precompute.partitions import daily_partitions
from nba_precompute.schemas import PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS

PSZA_KEY = AssetKey(PLAYER_SHOT_ZONE_ANALYSIS.asset_key_path)
TDZA_KEY = AssetKey(TEAM_DEFENSE_ZONE_ANALYSIS.asset_key_path)


@asset(key=["test", "downstream_of_psza"], deps=[PSZA_KEY], partitions_def=daily_partitions,
       backfill_policy=BackfillPolicy.single_run())
def downstream_of_psza(context: AssetExecutionContext) -> None:
    """Stands in for PCF: must not run when a blocking check of PSZA fails."""


def copy_warehouse(src: str, dst_dir: Path) -> str:
    dst = dst_dir / "warehouse.duckdb"
    shutil.copy(src, dst)
    return str(dst)


def check_records(instance: DagsterInstance, asset_key: AssetKey, name: str) -> list:
    """Every execution record of a check, newest first (one per partition per run)."""
    return list(instance.event_log_storage.get_asset_check_execution_history(
        AssetCheckKey(asset_key, name), limit=100_000))


def evaluation(record):
    """The AssetCheckEvaluation stored in an execution record."""
    return record.event.dagster_event.event_specific_data


def latest_by_partition(instance: DagsterInstance, asset_key: AssetKey, name: str) -> dict:
    out: dict = {}
    for rec in check_records(instance, asset_key, name):
        out.setdefault(rec.partition, rec)
    return out


ALL_NAMES = CHECK_NAMES
