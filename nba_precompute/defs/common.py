"""Wiring shared by every warehouse-table asset: the asset arguments, the run's partition range, and
the write of a range with its per-day materialisation metadata.

Nothing here computes NBA numbers; the transforms do (``nba_precompute.transforms``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from types import SimpleNamespace

import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    TableColumn,
    TableSchema,
)

from nba_precompute.dagster_storage import add_partition_metadata
from nba_precompute.defs.data_versions import version_deps
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.raw.versions import VERSIONED_TABLES, versions_for_days
from nba_precompute.schemas import INPUT_VERSIONS, NBA_SCHEDULE, TableSpec, is_regular_season
from nba_precompute.transforms.common import season_calendar
from nba_precompute.warehouse.base import PartitionWrite, Warehouse

# Concurrency pool of every step that opens the warehouse (assets and asset checks). An embedded DuckDB
# file admits one writer process: the instance (.dagster_home/dagster.yaml) dequeues at most one run
# holding this pool at a time (``granularity: run``, limit 1), besides its run tag limit of one run of
# the code location; other runs wait in the queue.
WAREHOUSE_POOL = "nba_warehouse"

_DAGSTER_TYPES = {"STRING": "string", "INT64": "int", "FLOAT64": "float", "BOOL": "bool", "DATE": "date",
                  "TIMESTAMP": "timestamp", "STRING_LIST": "list<string>"}


def table_schema(table: TableSpec) -> TableSchema:
    """Dagster ``TableSchema`` of a declared table, units in the column descriptions."""
    return TableSchema(columns=[
        TableColumn(name=c.name, type=_DAGSTER_TYPES[c.type], description=c.full_description)
        for c in table.columns
    ])


def table_metadata(table: TableSpec) -> dict[str, object]:
    """Static asset metadata: column schema, table name, grain and partition column."""
    return {
        "dagster/column_schema": table_schema(table),
        "dagster/table_name": table.qualified_name,
        "grain (key)": ", ".join(table.key),
        "partition column": table.partition_column,
        "cluster by": ", ".join(table.cluster_by),
    }


def table_asset_kwargs(table: TableSpec, *, deps: Sequence[AssetDep | object], group: str,
                       partitions_def: PartitionsDefinition, warehouse_kind: str) -> dict:
    """``@asset`` arguments shared by every warehouse-table asset: the table's key (op name = table
    name), description and column schema, the one partitions definition, single-run backfills, the
    group, kinds (``polars`` + the configured warehouse), the declared upstream ``deps`` (plus the
    table's input-version asset, ``defs/data_versions.py``) and the warehouse pool."""
    return {
        "key_prefix": [table.schema],
        "name": table.name,
        "partitions_def": partitions_def,
        "backfill_policy": BackfillPolicy.single_run(),
        "group_name": group,
        "kinds": {"polars", warehouse_kind},
        "description": table.description,
        "metadata": table_metadata(table),
        "deps": [*deps, *version_deps(table.qualified_name)],  # partition D on its input version of D
        "pool": WAREHOUSE_POOL,
    }


class OpTableContext:
    """What a table's computation (``defs/phase3.py`` ``PHASE3_COMPUTE``, ``defs/phase4/factory.py``
    ``compute_phase4``) uses of its asset's execution context, when an op runs the computation instead
    of the asset's own step (the refresh job, ``defs/refresh_job.py``).

    ``asset_key``, ``partition_keys`` (one contiguous range of days, ISO dates), the op's ``log`` and
    ``run`` (its run id goes to the partition log), ``resources.raw_data``; the per-partition metadata
    the computation attaches (``write_range``) is kept in :attr:`partition_metadata` (partition key ->
    metadata) for the op to report with each partition's ``AssetMaterialization``.
    """

    def __init__(self, op_context, asset_key: AssetKey, days: Sequence[dt.date], raw_data: RawDataResource):
        self.asset_key = asset_key
        self.partition_keys = [d.isoformat() for d in days]
        self.log = op_context.log
        self.run = op_context.run
        self.resources = SimpleNamespace(raw_data=raw_data)
        self.partition_metadata: dict[str, dict[str, object]] = {}

    def add_asset_metadata(self, metadata: dict[str, object], partition_key: str) -> None:
        """Keep ``metadata`` for the materialisation of ``partition_key`` (as the asset context's method)."""
        self.partition_metadata.setdefault(partition_key, {}).update(metadata)


def partition_dates(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's partition range as inclusive dates [start, end] (one day for a single partition)."""
    keys = context.partition_keys
    return dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])


def partition_days(context: AssetExecutionContext) -> list[dt.date]:
    """The run's partitions as dates (every calendar day of the range)."""
    return [dt.date.fromisoformat(k) for k in context.partition_keys]


def require_ready(context: AssetExecutionContext, raw_data: RawDataResource, *, box_scores: bool = False) -> None:
    """Refuse, before anything is read or written, a run whose partitions the raw data cannot serve:
    a day of a season missing from the raw data, a day after tonight's slate, and (``box_scores``: the
    player/team game summaries) tonight itself, whose box scores are not in yet
    (:meth:`nba_precompute.partitions.GameCalendar.explain`); then a run of which a partition reads a
    raw row that breaks a domain rule (:meth:`RawDataResource.refuse`: the quarantined rows, each with
    file, line, rule, value and the partitions it blocks).

    Raises:
        dagster.Failure: one line naming the first refused day and why, or the quarantined rows.
        RawDataError: a raw file is missing, corrupt or unparseable.
    """
    days = partition_days(context)
    why = raw_data.calendar().refuse(days, box_scores=box_scores)
    if why is None:
        why = raw_data.refuse(".".join(context.asset_key.path), days)
    if why is not None:
        raise Failure(description=f"{context.asset_key.to_user_string()}: {why}", allow_retries=False)


def read_season_schedule(warehouse: Warehouse, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, dt.date]:
    """Schedule rows from the opening night of the season containing ``start`` up to ``end``, and that
    opening night (the first day of history a Phase 4 computation over [start, end] needs)."""
    recent = warehouse.read(NBA_SCHEDULE, start - dt.timedelta(days=400), end)
    starts = season_calendar(recent).get_column("season_start_date")
    before = starts.filter(starts <= start)
    history_start = before.max() if before.len() else start
    return recent.filter(pl.col("game_date") >= history_start), history_start


def game_dates(schedule: pl.DataFrame) -> set[dt.date]:
    """Days with at least one regular-season game in ``schedule``."""
    return set(schedule.filter(is_regular_season(pl.col("game_id"))).get_column("game_date").to_list())


def write_range(context: AssetExecutionContext, warehouse: WarehouseResource, table: TableSpec,
                rows: pl.DataFrame, start: dt.date, end: dt.date, schedule: pl.DataFrame,
                extra_writes: Sequence[PartitionWrite] = (),
                daily_metadata: pl.DataFrame | None = None,
                summary: str = "") -> MaterializeResult:
    """Replace the partitions [start, end] of ``table`` (and ``extra_writes``) in one transaction, attach
    each day's own metadata to that day's materialisation, and log one summary line.

    Per-day metadata (``dagster_storage.add_partition_metadata``: what ``context.add_asset_metadata(...,
    partition_key=day)`` records, for every day at once): ``dagster/row_count``
    and ``rows_written`` (that day's rows), ``no_games`` (no regular-season game that day), plus the
    columns of ``daily_metadata`` (one row per day, keyed by ``day``) for that day, and ``input_version``
    (the data version of the raw rows the partition depends on, issue 18).

    The input versions of the days are written to ``nba_processing.input_versions`` (scoped to the
    table) in the same transaction: ``nba-precompute refresh`` compares them with the raw data's.
    """
    days = partition_days(context)
    versions = input_versions(context, table, days)
    writes = [PartitionWrite(table, rows), *extra_writes]
    if versions is not None:
        writes.append(PartitionWrite(INPUT_VERSIONS, versions, scope={"table_name": table.qualified_name}))
        version_of = dict(versions.select("partition_date", "input_version").iter_rows())
    else:
        version_of = {}
    warehouse.get().replace_partitions(writes, start, end, run_id=context.run.run_id, days=days)
    played = game_dates(schedule)
    counts = dict(rows.group_by(table.partition_column).len().iter_rows())
    extra = ({r.pop("day"): r for r in daily_metadata.iter_rows(named=True)}
             if daily_metadata is not None and daily_metadata.height else {})
    per_day: dict[str, dict[str, object]] = {}
    for day in days:  # one metadata dict per partition: Dagster event bookkeeping, not data work
        n = int(counts.get(day, 0))
        per_day[day.isoformat()] = {
            "dagster/row_count": MetadataValue.int(n),
            "rows_written": MetadataValue.int(n),
            "no_games": MetadataValue.bool(day not in played),
            **({"input_version": MetadataValue.text(version_of[day])} if day in version_of else {}),
            **_metadata_values(extra.get(day, {})),
        }
    add_partition_metadata(context, per_day)
    without_games = sum(1 for day in days if day not in played)
    context.log.info(
        f"{table.qualified_name}: wrote {rows.height} rows for {start}..{end} "
        f"({len(days)} partition(s), {without_games} without games){summary}"
    )
    return MaterializeResult()


def input_versions(context: AssetExecutionContext, table: TableSpec, days: Sequence[dt.date]) -> pl.DataFrame | None:
    """The rows of ``nba_processing.input_versions`` for ``table`` on ``days`` (``table_name``,
    ``partition_date``, ``input_version``), from the run's ``raw_data`` resource (computed once per
    run); ``None`` for a table without input versions or a context without that resource."""
    raw_data = getattr(getattr(context, "resources", None), "raw_data", None)
    if table.qualified_name not in VERSIONED_TABLES or raw_data is None:
        return None
    versions = versions_for_days(raw_data.input_versions(min(days), max(days)), table.qualified_name, days)
    missing = set(days) - set(versions.get_column("partition_date").to_list())
    if missing:  # a day of no season of the raw data: require_ready refuses those before anything is read
        raise Failure(description=f"{table.qualified_name}: no input version for {sorted(missing)[:3]}",
                      allow_retries=False)
    return versions


def _metadata_values(values: dict[str, object]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            out[name] = MetadataValue.bool(value)
        elif isinstance(value, int):
            out[name] = MetadataValue.int(value)
        elif isinstance(value, float):
            out[name] = MetadataValue.float(value)
        elif value is not None:
            out[name] = MetadataValue.text(str(value))
    return out
