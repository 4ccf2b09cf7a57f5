"""Partition replacement is atomic and leaves no duplicates or stale rows."""

import dataclasses
import datetime as dt

import polars as pl
import pytest

from nba_precompute.schemas import PRECOMPUTE_FAILURES, UPCOMING_TEAM_GAME_CONTEXT
from nba_precompute.warehouse.duckdb_warehouse import (
    DuckDBWarehouse,
    PartitionWrite,
    WarehouseError,
)

D1, D2, D3 = dt.date(2022, 12, 1), dt.date(2022, 12, 2), dt.date(2022, 12, 3)


def _ctx(rows):
    return pl.DataFrame([{
        "team_abbr": t, "game_id": g, "game_date": d, "season_year": 2022, "opponent_team_abbr": "OPP",
        "home_game": True, "days_rest": 1, "back_to_back": True, "opponent_days_rest": 2, "game_total": None,
        "game_spread": None, "is_production_ready": True,
    } for t, g, d in rows])


def test_rematerialising_replaces_the_range(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([
        ("AAA", "g1", D1), ("BBB", "g1", D1), ("CCC", "g2", D2), ("DDD", "g3", D3)]))], D1, D3, run_id="r1")
    # second run of D1..D2 no longer produces BBB (stale) and rewrites AAA (no duplicate)
    wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([("AAA", "g1", D1)]))], D1, D2,
                          run_id="r2")
    got = wh.read(UPCOMING_TEAM_GAME_CONTEXT).sort("game_date")
    assert got.select("team_abbr", "game_date").rows() == [("AAA", D1), ("DDD", D3)]
    log = wh.partition_log(UPCOMING_TEAM_GAME_CONTEXT, D1, D3)
    assert log.select("partition_date", "row_count", "run_id").rows() == [(D1, 1, "r2"), (D2, 0, "r2"),
                                                                          (D3, 1, "r1")]


def test_file_named_like_a_schema_still_works(tmp_path):
    # duckdb.connect("nba_precompute.duckdb") would name the catalog like the nba_precompute schema
    wh = DuckDBWarehouse(tmp_path / "nba_precompute.duckdb")
    from nba_precompute.schemas import PRECOMPUTE_FAILURES, TEAM_DEFENSE_ZONE_ANALYSIS

    wh.replace_partitions([PartitionWrite(TEAM_DEFENSE_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS.empty_frame()
                                          .drop("processed_at")),
                           PartitionWrite(PRECOMPUTE_FAILURES, PRECOMPUTE_FAILURES.empty_frame()
                                          .drop("run_id", "created_at"), scope={"processor": "x"})], D1, D1)
    assert wh.read(TEAM_DEFENSE_ZONE_ANALYSIS).is_empty()
    assert wh.partition_log(TEAM_DEFENSE_ZONE_ANALYSIS, D1, D1).height == 1


def test_read_pushes_the_date_window(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([
        ("AAA", "g1", D1), ("CCC", "g2", D2), ("DDD", "g3", D3)]))], D1, D3)
    assert wh.read(UPCOMING_TEAM_GAME_CONTEXT, D2, D2).get_column("team_abbr").to_list() == ["CCC"]
    assert wh.read(UPCOMING_TEAM_GAME_CONTEXT, None, D1).height == 1


def test_a_bad_write_changes_nothing(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([("AAA", "g1", D1)]))], D1, D1)
    failures = pl.DataFrame({"processor": ["x"], "analysis_date": [D1], "entity_type": ["player"],
                             "entity_id": ["1"], "entity_name": ["p"], "failure_category": ["INCOMPLETE_DATA"],
                             "is_failure": [False], "reason": ["r"], "games_required": [10], "games_found": [1]})
    # first write fine, second has a duplicate key: the whole transaction must be refused
    dup = _ctx([("EEE", "g9", D1), ("EEE", "g9", D1)])
    with pytest.raises(WarehouseError, match="duplicate keys"):
        wh.replace_partitions([PartitionWrite(PRECOMPUTE_FAILURES, failures, scope={"processor": "x"}),
                               PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, dup)], D1, D1)
    assert wh.read(UPCOMING_TEAM_GAME_CONTEXT).get_column("team_abbr").to_list() == ["AAA"]
    assert wh.read(PRECOMPUTE_FAILURES).is_empty()


def test_rows_outside_the_range_are_refused(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    with pytest.raises(WarehouseError, match=r"outside the partitions being written \[2022-12-01, 2022-12-01\]"):
        wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([("AAA", "g1", D2)]))], D1, D1)


def test_schema_mismatch_is_refused(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    with pytest.raises(WarehouseError, match=r"missing columns \['is_production_ready'\]"):
        wh.replace_partitions([PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT,
                                              _ctx([("AAA", "g1", D1)]).drop("is_production_ready"))], D1, D1)


def test_scoped_replacement_keeps_other_processors(tmp_path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")

    def f(proc, ent):
        return pl.DataFrame({"processor": [proc], "analysis_date": [D1], "entity_type": ["player"],
                             "entity_id": [ent], "entity_name": ["p"], "failure_category": ["INCOMPLETE_DATA"],
                             "is_failure": [False], "reason": ["r"], "games_required": [10], "games_found": [1]})
    wh.replace_partitions([PartitionWrite(PRECOMPUTE_FAILURES, f("a", "1"), scope={"processor": "a"})], D1, D1)
    wh.replace_partitions([PartitionWrite(PRECOMPUTE_FAILURES, f("b", "2"), scope={"processor": "b"})], D1, D1)
    wh.replace_partitions([PartitionWrite(PRECOMPUTE_FAILURES, f("a", "3"), scope={"processor": "a"})], D1, D1)
    got = wh.read(PRECOMPUTE_FAILURES).sort("processor").select("processor", "entity_id").rows()
    assert got == [("a", "3"), ("b", "2")]


def test_schema_set_up_once_per_declaration(tmp_path, monkeypatch):
    """A later warehouse object (a later run) on the same file finds the table set up for its
    declaration and skips the set-up; a changed declaration is set up (and checked) again."""
    calls = []
    original = DuckDBWarehouse._ensure
    monkeypatch.setattr(DuckDBWarehouse, "_ensure", lambda self, con, t: calls.append(t.name) or original(self, con, t))
    write = [PartitionWrite(UPCOMING_TEAM_GAME_CONTEXT, _ctx([("AAA", "g1", D1)]))]
    DuckDBWarehouse(tmp_path / "w.duckdb").replace_partitions(write, D1, D1)
    assert calls == ["upcoming_team_game_context"]
    second = DuckDBWarehouse(tmp_path / "w.duckdb")
    second.replace_partitions(write, D1, D1)
    second.replace_partitions(write, D1, D1)
    assert calls == ["upcoming_team_game_context"]  # not repeated by a later run
    # a declaration with one more column: set up again, and the file's table no longer matches it
    changed = dataclasses.replace(UPCOMING_TEAM_GAME_CONTEXT, columns=(
        *UPCOMING_TEAM_GAME_CONTEXT.columns, dataclasses.replace(UPCOMING_TEAM_GAME_CONTEXT.columns[-1], name="extra")))
    with pytest.raises(WarehouseError, match=r"has columns .* but the declared schema is .*'extra'"):
        DuckDBWarehouse(tmp_path / "w.duckdb").replace_partitions(
            [PartitionWrite(changed, _ctx([("AAA", "g1", D1)]).with_columns(extra=pl.lit(True)))], D1, D1)
    assert calls == ["upcoming_team_game_context"] * 2
    assert DuckDBWarehouse(tmp_path / "w.duckdb").read(UPCOMING_TEAM_GAME_CONTEXT).height == 1
