"""Run the assets of the code location over a partition range from Python (tests, benchmark).

The same thing as ``dagster asset materialize -m nba_precompute.definitions --select ...
--partition-range A...B``: one single-run backfill through Dagster's ``materialize``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetSelection, DagsterInstance, ExecuteInProcessResult, materialize

from nba_precompute.defs.resources import RawDataResource, WarehouseResource

# The run tags by which Dagster runs a partition range as one run (what a single-run backfill and
# `dg launch --partition-range` set): public tag names, so no private constant is imported for them.
ASSET_PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
ASSET_PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"


def materialize_range(start: str, end: str, *, raw_dir: str, duckdb_path: str | None = None,
                      warehouse: WarehouseResource | None = None,
                      selection: str | Sequence[str] | AssetSelection = "*",
                      instance: DagsterInstance | None = None, raise_on_error: bool = True) -> ExecuteInProcessResult:
    """Materialise ``selection`` for the partitions [start, end] (ISO dates) as one run, into
    ``warehouse`` (any configured ``WarehouseResource``, e.g. BigQuery) or else the DuckDB file
    ``duckdb_path``.

    Raises:
        ValueError: neither or both of ``duckdb_path`` and ``warehouse`` are given.
    """
    if (warehouse is None) == (duckdb_path is None):
        raise ValueError("materialize_range: give exactly one of duckdb_path or warehouse")
    if warehouse is None:
        warehouse = WarehouseResource(kind="duckdb", duckdb_path=duckdb_path)
    from nba_precompute.definitions import defs

    loaded = defs()
    return materialize(
        [*loaded.assets, *loaded.asset_checks],
        selection=selection,
        instance=instance,
        resources={
            "warehouse": warehouse,
            "raw_data": RawDataResource(directory=raw_dir),
        },
        tags={ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end},
        raise_on_error=raise_on_error,
    )


def refresh_in_process(run_config: dict, *, raw_dir: str, duckdb_path: str | None = None,
                       warehouse: WarehouseResource | None = None, instance: DagsterInstance | None = None,
                       raise_on_error: bool = True) -> ExecuteInProcessResult:
    """Run the refresh job (``defs/refresh_job.py``) with ``run_config``
    (:func:`nba_precompute.refresh.run_config` of a plan) as one run in this process: what
    ``nba-precompute refresh`` launches with ``dg launch --job nba_refresh``.

    Raises:
        ValueError: neither or both of ``duckdb_path`` and ``warehouse`` are given.
    """
    if (warehouse is None) == (duckdb_path is None):
        raise ValueError("refresh_in_process: give exactly one of duckdb_path or warehouse")
    if warehouse is None:
        warehouse = WarehouseResource(kind="duckdb", duckdb_path=duckdb_path)
    from nba_precompute.definitions import defs
    from nba_precompute.defs.refresh_job import REFRESH_JOB

    return defs().get_job_def(REFRESH_JOB).execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=raise_on_error,
        resources={"warehouse": warehouse, "raw_data": RawDataResource(directory=raw_dir)})
