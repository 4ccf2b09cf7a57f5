"""What a run costs on BigQuery on-demand pricing: bytes processed, measured or estimated.

Two ways, and the README says which numbers came from which:

* **Measured** (production): every job the BigQuery warehouse runs carries the labels
  ``app=nba_precompute`` and ``dagster_run_id=<run id>``, so ``INFORMATION_SCHEMA.JOBS`` gives the real
  ``total_bytes_processed`` / ``total_bytes_billed`` of a run; :meth:`BigQueryWarehouse.read_bytes`
  dry-runs a read's query (``QueryJobConfig(dry_run=True)``, free) before it is run.
* **Estimated** (here, offline: the emulator reports 0 bytes for dry runs): :func:`estimate_run_bytes`
  materialises the selection for a date range through Dagster on a *copy* of a DuckDB warehouse and
  records every read and write the assets make. BigQuery bills a query by the logical size of the
  columns it reads in the partitions it scans (partition pruning on the date column; clustering can
  only lower this), so each read costs :func:`logical_bytes` of the rows it returned; each write costs
  the staged rows (``INSERT ... SELECT``) plus the replaced partitions (``DELETE``, all columns, an upper
  bound: BigQuery deletes whole partitions as metadata operations). On-demand billing also rounds every
  table a query references up to 10 MB, reported separately as ``billed_bytes``.

Data sizes follow BigQuery's documented rules: INT64, FLOAT64, DATE, TIMESTAMP 8 bytes; BOOL 1 byte;
STRING 2 bytes + its UTF-8 length; a REPEATED column the sum of its elements; NULL 0 bytes.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.schemas import PARTITION_LOG, TableSpec
from nba_precompute.warehouse.base import PartitionWrite, Warehouse

MIN_BILLED_PER_TABLE = 10 * 1024 * 1024  # on-demand pricing: 10 MB minimum per table referenced
_FIXED_WIDTH = {pl.Int64: 8, pl.Int32: 8, pl.Float64: 8, pl.Float32: 8, pl.Date: 8, pl.Boolean: 1}

_RECORDS: dict[str, list[dict]] = {}


def _column_bytes(s: pl.Series) -> int:
    dtype = s.dtype
    if dtype == pl.String:
        return int((s.str.len_bytes() + 2).sum() or 0)
    if isinstance(dtype, pl.List):
        return _column_bytes(s.explode().drop_nulls())
    if isinstance(dtype, pl.Datetime):
        return 8 * (s.len() - s.null_count())
    for t, width in _FIXED_WIDTH.items():
        if dtype == t:
            return width * (s.len() - s.null_count())
    raise TypeError(f"no BigQuery size rule for column {s.name!r} of type {dtype}")


def logical_bytes(df: pl.DataFrame) -> int:
    """BigQuery logical size of ``df`` in bytes (rules in the module docstring), i.e. what a query
    reading exactly these rows and columns is billed before the 10 MB minimum."""
    return sum(_column_bytes(df.get_column(c)) for c in df.columns)


class RecordingWarehouse:
    """Wraps a warehouse and records each read and write with its BigQuery logical size."""

    def __init__(self, inner: Warehouse, records: list[dict]):
        self.inner = inner
        self.kind = inner.kind
        self.records = records

    def read(self, table: TableSpec, start: dt.date | None = None, end: dt.date | None = None,
             columns: Sequence[str] | None = None) -> pl.DataFrame:
        df = self.inner.read(table, start, end, columns)
        self.records.append({"op": "read", "table": table.qualified_name, "start": start, "end": end,
                             "rows": df.height, "bytes": logical_bytes(df)})
        return df

    def partition_log(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        df = self.inner.partition_log(table, start, end)
        self.records.append({"op": "read", "table": PARTITION_LOG.qualified_name, "start": start,
                             "end": end, "rows": df.height,
                             # + the table_name column the filter reads (lower bound, see module docs)
                             "bytes": logical_bytes(df) + (len(table.qualified_name) + 2) * df.height})
        return df

    def exists(self, table: TableSpec) -> bool:
        return self.inner.exists(table)

    def replace_partitions(self, writes: Sequence[PartitionWrite], start: dt.date, end: dt.date,
                           run_id: str | None = None, days: Sequence[dt.date] | None = None) -> dict[str, int]:
        for w in writes:
            old = self.inner.read(w.table, start, end)
            self.records.append({"op": "delete", "table": w.table.qualified_name, "start": start, "end": end,
                                 "rows": old.height, "bytes": logical_bytes(old)})
            self.records.append({"op": "insert", "table": w.table.qualified_name, "start": start, "end": end,
                                 "rows": w.rows.height, "bytes": logical_bytes(w.rows)})
        return self.inner.replace_partitions(writes, start, end, run_id, days)

    def row_counts(self, table: TableSpec, start: dt.date, end: dt.date) -> pl.DataFrame:
        return self.inner.row_counts(table, start, end)

    def check_readable(self) -> None:
        self.inner.check_readable()

    def query(self, sql: str, params: Sequence[object] = ()) -> pl.DataFrame:
        return self.inner.query(sql, params)

    def table_ref(self, table: TableSpec) -> str:
        return self.inner.table_ref(table)


class RecordingWarehouseResource(WarehouseResource):
    """``WarehouseResource`` whose warehouse records its reads and writes under ``record_key``."""

    record_key: str | None = None

    def get(self) -> Warehouse:
        return RecordingWarehouse(super().get(), _RECORDS.setdefault(self.record_key or "", []))


def estimate_run_bytes(duckdb_path: str | Path, start: str, end: str, raw_dir: str | Path,
                       selection: str = "*") -> pl.DataFrame:
    """Per operation (``op``: read / delete / insert, ``table``, ``rows``, ``bytes``, ``billed_bytes``)
    the BigQuery bytes of materialising ``selection`` over [start, end], estimated by rerunning it on a
    copy of the DuckDB warehouse ``duckdb_path`` (which must hold the upstream history).

    Raises:
        FileNotFoundError: ``duckdb_path`` does not exist.
    """
    from dagster import DagsterInstance

    from nba_precompute.pipeline import materialize_range

    src = Path(duckdb_path)
    if not src.exists():
        raise FileNotFoundError(f"DuckDB warehouse {src} does not exist")
    key = uuid.uuid4().hex
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "estimate.duckdb"
        shutil.copyfile(src, copy)
        resource = RecordingWarehouseResource(kind="duckdb", duckdb_path=str(copy), record_key=key)
        materialize_range(start, end, raw_dir=str(raw_dir), warehouse=resource, selection=selection,
                          instance=DagsterInstance.ephemeral())
    records = _RECORDS.pop(key, [])
    df = pl.DataFrame(records, schema={"op": pl.String, "table": pl.String, "start": pl.Date, "end": pl.Date,
                                       "rows": pl.Int64, "bytes": pl.Int64})
    return df.with_columns(pl.max_horizontal(pl.col("bytes"), pl.lit(MIN_BILLED_PER_TABLE)).alias("billed_bytes"))
