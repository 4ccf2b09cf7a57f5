"""The one warehouse interface the assets use, and the parts every implementation shares.

Two implementations: :class:`~nba_precompute.warehouse.duckdb_warehouse.DuckDBWarehouse` (the default,
one embedded file) and :class:`~nba_precompute.warehouse.bigquery_warehouse.BigQueryWarehouse`. The
Dagster resource ``WarehouseResource`` picks one from configuration; the assets only call the methods of
:class:`Warehouse`:

* ``read(table, start, end, columns)`` - rows whose partition column lies in [start, end], the filter
  pushed into the warehouse's query (an empty frame when the table does not exist yet);
* ``exists(table)`` - whether the table has been created;
* ``partition_log(table, start, end)`` - which days of a table were materialised, with row counts;
* ``row_counts(table, start, end)`` - the rows a table holds per day of [start, end], counted in the
  warehouse (a check of the partition log: rows deleted after a write show up as a difference);
* ``check_readable()`` - raise :class:`WarehouseError` (:class:`WarehouseLockedError` when another
  process holds the DuckDB file's write lock) unless the warehouse can be read now;
* ``replace_partitions(writes, start, end, run_id, days)`` - replace the days [start, end] of one or
  more tables atomically (all or nothing) and record each partition (``days``, default every day of
  the range) in ``nba_processing.partition_log``.

``query(sql)`` runs SQL in the warehouse's own dialect (DuckDB SQL or GoogleSQL) and is not portable;
``table_ref(table)`` gives the name to use for a declared table in that dialect.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import polars as pl

from nba_precompute.schemas import PARTITION_LOG, TableSpec

# What ``partition_log`` returns for one table: the materialised days of [start, end].
PARTITION_LOG_COLUMNS = ("partition_date", "row_count", "run_id", "written_at")
PARTITION_LOG_SCHEMA: dict[str, pl.DataType] = {c: PARTITION_LOG.polars_schema[c] for c in PARTITION_LOG_COLUMNS}


class WarehouseError(RuntimeError):
    """A write was refused (rows outside the range, schema mismatch), the warehouse is misconfigured
    (no project, dataset missing, no permission) or the warehouse failed."""


class WarehouseLockedError(WarehouseError):
    """The warehouse is locked by another process: an embedded DuckDB file admits one process while a
    writer (a running Dagster run) has it open. Retrying after that run ends succeeds."""


# What ``row_counts`` returns: rows per day.
ROW_COUNTS_SCHEMA: dict[str, pl.DataType] = {"partition_date": pl.Date(), "row_count": pl.Int64()}


@dataclass
class PartitionWrite:
    """Rows to write into ``table`` for a date range. ``scope`` restricts the replaced rows to those
    matching column = value (e.g. ``{"processor": "player_shot_zone_analysis"}`` in the shared failures
    table)."""

    table: TableSpec
    rows: pl.DataFrame
    scope: dict[str, str] = field(default_factory=dict)

    @property
    def log_name(self) -> str:
        """The ``table_name`` recorded in the partition log: qualified name plus ``[k=v]`` per scope."""
        return self.table.qualified_name + "".join(f"[{k}={v}]" for k, v in self.scope.items())


@runtime_checkable
class Warehouse(Protocol):
    """What the assets may call on a warehouse (see the module docstring)."""

    kind: str  # "duckdb" or "bigquery": the Dagster asset kind and the SQL dialect of ``query``

    def exists(self, table: TableSpec) -> bool: ...

    def read(self, table: TableSpec, start: dt.date | None = None, end: dt.date | None = None,
             columns: Sequence[str] | None = None) -> pl.DataFrame: ...

    def partition_log(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame: ...

    def row_counts(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame: ...

    def check_readable(self) -> None: ...

    def replace_partitions(self, writes: Sequence[PartitionWrite], start: dt.date, end: dt.date,
                           run_id: str | None = None, days: Sequence[dt.date] | None = None) -> dict[str, int]: ...

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame: ...

    def table_ref(self, table: TableSpec) -> str: ...


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def prepare_writes(writes: Sequence[PartitionWrite], start: dt.date, end: dt.date, run_id: str | None,
                   now: dt.datetime, days: Sequence[dt.date] | None = None) -> list[tuple[PartitionWrite, pl.DataFrame]]:
    """Conform every write to its declared schema and validate it, before anything is written.

    ``processed_at`` / ``created_at`` (= ``now``) and ``run_id`` are filled in when the frame lacks them.

    Raises:
        WarehouseError: a frame does not match its schema, a row's partition date is NULL, outside
            [start, end] or not one of ``days`` (when given), a key column is NULL, or a key is
            duplicated (naming the table and examples).
    """
    if start > end:
        raise WarehouseError(f"empty date range: start {start} is after end {end}")
    prepared: list[tuple[PartitionWrite, pl.DataFrame]] = []
    for w in writes:
        df = w.rows
        for col, value in (("processed_at", now), ("created_at", now), ("run_id", run_id)):
            if col in w.table.column_names and col not in df.columns:
                df = df.with_columns(pl.lit(value).alias(col))
        try:
            df = w.table.conform(df)
        except ValueError as exc:
            raise WarehouseError(str(exc)) from exc
        part = df.get_column(w.table.partition_column)
        outside = df.filter(part.is_null() | (part < start) | (part > end)
                            | (~part.is_in(list(days)) if days is not None else False))
        if outside.height:
            raise WarehouseError(
                f"{w.table.qualified_name}: {outside.height} row(s) have {w.table.partition_column} "
                f"outside the partitions being written [{start}, {end}]"
            )
        key = list(w.table.key)
        if df.select(pl.any_horizontal(pl.col(k).is_null() for k in key).any()).item():
            raise WarehouseError(f"{w.table.qualified_name}: NULL in key columns {key}")
        if df.height and df.select(key).is_duplicated().any():
            dup = df.filter(df.select(key).is_duplicated()).select(key).head(3).to_dicts()
            raise WarehouseError(f"{w.table.qualified_name}: duplicate keys {key}, e.g. {dup}")
        for k, v in w.scope.items():
            if k not in w.table.column_names:
                raise WarehouseError(f"{w.table.qualified_name}: scope column {k!r} is not declared")
            if df.height and not df.get_column(k).cast(pl.String).eq(str(v)).all():
                raise WarehouseError(f"{w.table.qualified_name}: rows outside the write's scope {k} = {v!r}")
        prepared.append((w, df))
    return prepared


def partition_log_rows(w: PartitionWrite, df: pl.DataFrame, start: dt.date, end: dt.date,
                       run_id: str | None, now: dt.datetime, days: Sequence[dt.date] | None = None) -> pl.DataFrame:
    """One partition-log row per partition (``days``, default every day of [start, end]) for a prepared
    write (row_count 0 on empty days), in the column order of :data:`nba_precompute.schemas.PARTITION_LOG`."""
    days = pl.Series(days, dtype=pl.Date) if days is not None else pl.date_range(start, end, "1d", eager=True)
    t = w.table
    return pl.DataFrame({"partition_date": days}).join(
        df.group_by(t.partition_column).len().rename({t.partition_column: "partition_date", "len": "row_count"}),
        on="partition_date", how="left",
    ).with_columns(
        pl.col("row_count").fill_null(0).cast(pl.Int64),
        pl.lit(w.log_name).alias("table_name"), pl.lit(run_id, pl.String).alias("run_id"),
        pl.lit(now).cast(pl.Datetime("us", "UTC")).alias("written_at"),
    ).select(PARTITION_LOG.column_names)
