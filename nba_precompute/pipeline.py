"""Run the assets of the code location over a partition range from Python (tests, benchmark).

The same thing as ``dagster asset materialize -m nba_precompute.definitions --select ... 
--partition-range A...B``: one single-run backfill through Dagster's ``materialize``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetSelection, DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from nba_precompute.defs.resources import RawDataResource, WarehouseResource


def materialize_range(start: str, end: str, *, duckdb_path: str, raw_dir: str, selection: str | Sequence[str] | AssetSelection = "*",
                      instance: DagsterInstance | None = None, raise_on_error: bool = True) -> ExecuteInProcessResult:
    """Materialise ``selection`` for the partitions [start, end] (ISO dates) as one run."""
    from nba_precompute.definitions import ALL_ASSETS, ALL_CHECKS

    return materialize(
        [*ALL_ASSETS, *ALL_CHECKS],
        selection=selection,
        instance=instance,
        resources={
            "warehouse": WarehouseResource(duckdb_path=duckdb_path),
            "raw_data": RawDataResource(directory=raw_dir),
        },
        tags={ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end},
        raise_on_error=raise_on_error,
    )
