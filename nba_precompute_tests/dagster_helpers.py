"""Helpers for the Dagster-level check tests: copies of the December warehouse, a toy downstream asset,
and queries of the per-partition check records in an instance."""


import functools
import shutil
from pathlib import Path

from dagster import (
    AssetCheckKey,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    DagsterInstance,
    Definitions,
    asset,
)

from nba_precompute.definitions import defs
from nba_precompute.defs.phase4.checks import CHECK_NAMES
from nba_precompute.partitions import daily_partitions
from nba_precompute.schemas import PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS

PSZA_KEY = AssetKey(PLAYER_SHOT_ZONE_ANALYSIS.asset_key_path)


@functools.cache
def loaded_definitions() -> Definitions:
    """The code location's Definitions, loaded once per test session."""
    return defs()


def assets_and_checks() -> list:
    """Every asset and asset-check definition of the code location (for ``materialize``)."""
    loaded = loaded_definitions()
    return [*loaded.assets, *loaded.asset_checks]


def assets_def(key: AssetKey):
    """The asset definition of ``key``."""
    return next(a for a in loaded_definitions().assets if getattr(a, "key", None) == key)


def checks_def(key: AssetKey):
    """The asset-checks definition targeting ``key``."""
    return next(c for c in loaded_definitions().asset_checks if key in {k.asset_key for k in c.check_keys})


TDZA_KEY = AssetKey(TEAM_DEFENSE_ZONE_ANALYSIS.asset_key_path)


@asset(key=["test", "downstream_of_psza"], deps=[PSZA_KEY], partitions_def=daily_partitions(),
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


def execute_refresh_plan(plan, raw_dir: str | Path, duckdb_path: str, instance=None):
    """Run a refresh plan (``nba_precompute.refresh.RefreshPlan``) as ``nba-precompute refresh`` does, as
    one run of the refresh job, in this process; returns its result (raises on a failed run)."""
    from nba_precompute.pipeline import refresh_in_process
    from nba_precompute.refresh import run_config

    return refresh_in_process(run_config(plan.runs), raw_dir=str(raw_dir), duckdb_path=duckdb_path, instance=instance)
