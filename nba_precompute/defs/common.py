"""Helpers shared by the asset definitions: date ranges, table metadata, materialisation metadata."""

from __future__ import annotations

import datetime as dt

import polars as pl
from dagster import (
    AssetExecutionContext,
    MetadataValue,
    TableColumn,
    TableSchema,
)

from nba_precompute.schemas import NBA_SCHEDULE, TableSpec
from nba_precompute.transforms.common import season_calendar
from nba_precompute.warehouse.base import Warehouse

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


def partition_dates(context: AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The run's partition range as inclusive dates [start, end] (one day for a single partition)."""
    window = context.partition_time_window
    start = window.start.date()
    end = (window.end - dt.timedelta(days=1)).date()
    return start, end


def read_season_schedule(warehouse: Warehouse, start: dt.date, end: dt.date) -> tuple[pl.DataFrame, dt.date]:
    """Schedule rows from the opening night of the season containing ``start`` up to ``end``, and that
    opening night (the first day of history a Phase 4 computation over [start, end] needs)."""
    recent = warehouse.read(NBA_SCHEDULE, start - dt.timedelta(days=400), end)
    starts = season_calendar(recent).get_column("season_start_date")
    before = starts.filter(starts <= start)
    history_start = before.max() if before.len() else start
    return recent.filter(pl.col("game_date") >= history_start), history_start


def dates_without_games(schedule: pl.DataFrame, start: dt.date, end: dt.date) -> list[dt.date]:
    """Days of [start, end] with no regular-season game in ``schedule``."""
    played = set(schedule.filter(pl.col("game_id").str.starts_with("002")).get_column("game_date").to_list())
    days = pl.date_range(start, end, "1d", eager=True).to_list()
    return [d for d in days if d not in played]


def range_metadata(start: dt.date, end: dt.date, rows: pl.DataFrame, date_col: str,
                   no_game_dates: list[dt.date]) -> dict[str, object]:
    """Row counts for a materialisation of [start, end] (one day or a whole range)."""
    n_days = (end - start).days + 1
    meta: dict[str, object] = {
        "dagster/row_count": MetadataValue.int(rows.height),
        "rows_written": MetadataValue.int(rows.height),
        "partition_range": f"{start.isoformat()}...{end.isoformat()}",
        "partitions": MetadataValue.int(n_days),
        "no_games": MetadataValue.bool(len(no_game_dates) == n_days),
        "dates_without_games": MetadataValue.int(len(no_game_dates)),
    }
    if n_days > 1 and rows.height:
        per_day = rows.group_by(date_col).len()
        meta["rows_per_game_date_min"] = MetadataValue.int(int(per_day.get_column("len").min()))
        meta["rows_per_game_date_max"] = MetadataValue.int(int(per_day.get_column("len").max()))
    return meta


def partitioned_asset_kwargs(table: TableSpec, deps: list, group: str) -> dict:
    """``@asset`` arguments shared by every warehouse table asset: the table's key, description and
    column schema, the one daily partitions definition, single-run backfills, the group, kinds
    (polars + the configured warehouse), the declared upstream ``deps`` and the warehouse pool."""
    from dagster import BackfillPolicy

    from nba_precompute import config
    from nba_precompute.partitions import daily_partitions

    return {
        "key": table.asset_key_path,
        "partitions_def": daily_partitions,
        "backfill_policy": BackfillPolicy.single_run(),
        "group_name": group,
        "kinds": {"polars", config.warehouse_kind()},
        "description": table.description,
        "metadata": table_metadata(table),
        "deps": deps,
        "pool": WAREHOUSE_POOL,
    }
