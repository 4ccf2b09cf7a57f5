"""``bigquery_costs``: the recording warehouse follows the ``Warehouse`` protocol, and
``estimate_run_bytes`` (documented in the README, *Costs*) runs and gives plausible per-table bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from pathlib import Path

import polars as pl
from dagster import DagsterInstance

from nba_precompute.bigquery_costs import MIN_BILLED_PER_TABLE, RecordingWarehouse, estimate_run_bytes, logical_bytes
from nba_precompute.pipeline import materialize_range
from nba_precompute.schemas import ALL_TABLES, NBA_SCHEDULE
from nba_precompute.warehouse.base import PartitionWrite, Warehouse


class _MemoryWarehouse:
    """A DuckDB-free warehouse: frames in a dict, enough to see what the recorder forwards."""

    kind = "memory"

    def __init__(self):
        self.tables: dict[str, pl.DataFrame] = {}
        self.calls: list[tuple] = []

    def exists(self, table):
        return table.qualified_name in self.tables

    def read(self, table, start=None, end=None, columns=None):
        df = self.tables.get(table.qualified_name, table.empty_frame())
        part = pl.col(table.partition_column)
        if start is not None:
            df = df.filter(part >= start)
        if end is not None:
            df = df.filter(part <= end)
        return df.select(columns) if columns else df

    def partition_log(self, table, start, end):
        raise NotImplementedError

    def row_counts(self, table, start, end):
        raise NotImplementedError

    def check_readable(self):
        pass

    def replace_partitions(self, writes, start, end, run_id=None, days=None):
        self.calls.append((start, end, run_id, days))
        for w in writes:
            self.tables[w.table.qualified_name] = w.rows
        return {w.table.qualified_name: w.rows.height for w in writes}

    def query(self, sql, params=()):
        raise NotImplementedError

    def table_ref(self, table):
        return table.qualified_name


def test_recording_warehouse_has_the_protocols_signatures_and_forwards_days():
    for name, member in inspect.getmembers(Warehouse, inspect.isfunction):
        if name.startswith("_"):
            continue
        assert hasattr(RecordingWarehouse, name), name
        assert (list(inspect.signature(getattr(RecordingWarehouse, name)).parameters)
                == list(inspect.signature(member).parameters)), name
    records: list[dict] = []
    inner = _MemoryWarehouse()
    wh = RecordingWarehouse(inner, records)
    assert isinstance(wh, Warehouse)
    day = dt.date(2022, 12, 15)
    rows = pl.DataFrame({"game_id": ["0022200001"], "game_date": [day], "season_year": [2022]})
    assert not wh.exists(NBA_SCHEDULE)
    wh.replace_partitions([PartitionWrite(NBA_SCHEDULE, rows)], day, day, "run-1", days=[day])
    assert inner.calls == [(day, day, "run-1", [day])]
    assert wh.exists(NBA_SCHEDULE)
    assert [r["op"] for r in records] == ["delete", "insert"]
    assert records[1]["bytes"] == logical_bytes(rows) == (2 + 10) + 8 + 8


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_estimate_run_bytes_on_a_small_real_range(tmp_path, raw_data_dir):
    # the upstream history: Phase 3 of the first week of 2022-23, then the estimate of the next day, all assets
    db = tmp_path / "history.duckdb"
    built = materialize_range("2022-10-18", "2022-10-24", duckdb_path=str(db), raw_dir=str(raw_data_dir),
                              selection="group:phase3_analytics", instance=DagsterInstance.ephemeral())
    assert built.success
    before = _digest(db)
    est = estimate_run_bytes(db, "2022-10-25", "2022-10-25", raw_data_dir)
    assert _digest(db) == before  # the estimate ran on a copy

    assert est.height > 0
    assert set(est.get_column("op").unique()) == {"read", "delete", "insert"}
    assert (est.get_column("bytes") >= 0).all()
    assert (est.get_column("billed_bytes") >= MIN_BILLED_PER_TABLE).all()
    per_table = est.group_by("op", "table").agg(pl.col("rows").sum(), pl.col("bytes").sum())
    inserts = per_table.filter(pl.col("op") == "insert")
    # every data table of the graph is written once per day's run, with rows that day (a game night)
    written = {t.qualified_name for t in ALL_TABLES}
    assert written <= set(inserts.get_column("table")), written - set(inserts.get_column("table"))
    for r in inserts.iter_rows(named=True):
        if r["rows"]:
            # a row is a few numbers and strings: between 8 bytes and a few kB (MLFS: 37 features + arrays)
            assert 8 <= r["bytes"] / r["rows"] <= 8_000, r
        else:
            assert r["bytes"] == 0, r
    # the biggest read is the player box-score history (a week of games: ~1.5k rows), a few hundred kB
    reads = per_table.filter(pl.col("op") == "read")
    pgs = reads.filter(pl.col("table") == "nba_analytics.player_game_summary").row(0, named=True)
    assert pgs["rows"] > 1_000 and 50_000 < pgs["bytes"] < 5_000_000, pgs
    total = int(est.get_column("bytes").sum())
    assert 100_000 < total < 50_000_000, total
