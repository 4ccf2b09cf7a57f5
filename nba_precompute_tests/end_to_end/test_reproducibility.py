"""Same input, same bytes: the same range materialised twice into fresh warehouses gives tables equal to
the last bit (every column but the run ids and timestamps)."""

from dagster import DagsterInstance

from nba_precompute.pipeline import materialize_range
from nba_precompute_tests.conftest import DEC_END, DEC_START, HISTORY_START, PHASE4_SELECTION
from nba_precompute_tests.table_fingerprints import fingerprints


def test_a_second_run_writes_the_same_bytes(december_warehouse, raw_data_dir, tmp_path):
    db = str(tmp_path / "again.duckdb")
    instance = DagsterInstance.ephemeral()
    assert materialize_range(HISTORY_START, DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                             selection="group:phase3_analytics", instance=instance).success
    assert materialize_range(DEC_START, DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                             selection=PHASE4_SELECTION, instance=instance).success
    first, second = fingerprints(december_warehouse.path), fingerprints(db)
    assert set(first) == set(second) and len(first) == 14  # 11 tables, the failures, the partition log, input versions
    assert all(rows > 0 for rows, _ in first.values())
    differing = [t for t in first if first[t] != second[t]]
    assert not differing, f"tables that differ between two runs of the same input: {differing}"
