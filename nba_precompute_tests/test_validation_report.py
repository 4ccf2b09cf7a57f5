"""The validation report: hand-built warehouse with hand-computed numbers, the status rules, the
console command, and the real December 2022 range."""

import datetime as dt
import json
from importlib.metadata import entry_points

import polars as pl
import pytest

from nba_precompute.cli import build_report, main
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    UPCOMING_PLAYER_GAME_CONTEXT,
    TableSpec,
)
from nba_precompute.transforms.validation import ReportTable, per_date_report
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse, PartitionWrite
from nba_precompute_tests.conftest import DEC_END, DEC_START

D0, D1, D2 = dt.date(2022, 10, 18), dt.date(2022, 10, 19), dt.date(2022, 10, 20)


def frame(table: TableSpec, records: list[dict]) -> pl.DataFrame:
    """A frame of ``table``'s columns: the given values, NULL elsewhere."""
    df = pl.DataFrame(records) if records else pl.DataFrame()
    return pl.DataFrame({c.name: (df.get_column(c.name) if c.name in df.columns else [None] * len(records))
                         for c in table.columns if c.name not in ("processed_at", "created_at", "run_id")}
                        ).cast({c.name: c.polars_type for c in table.columns
                                if c.name not in ("processed_at", "created_at", "run_id")})


def fail(processor, day, etype, entity, category):
    return {"processor": processor, "analysis_date": day, "entity_type": etype, "entity_id": entity,
            "entity_name": entity, "failure_category": category,
            "is_failure": category in ("MISSING_DEPENDENCY", "PROCESSING_ERROR"), "reason": "r"}


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> DuckDBWarehouse:
    """Opening night 10-18 (A-B), no game on 10-19, A-C on 10-20.

    Players: p1 (A) played 10-18 and 10-20, p2 (B) played 10-18, p3 (B) DNP on 10-18, p4 (C) 10-20.
    TDZA written for 10-19 (0 rows, A and B INCOMPLETE_DATA) and 10-20 (A written, B MISSING_DEPENDENCY,
    plus a DATE_LEVEL row); PSZA written for 10-19 only (p1 written, p2 STALE_DATA)."""
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("small") / "warehouse.duckdb")
    sched = frame(NBA_SCHEDULE, [
        {"game_id": gid, "game_date": d, "season_year": 2022, "season_type": "regular_season", "game_status": "played",
         "home_team_abbr": h, "away_team_abbr": a, "season_start_date": D0, "season_end_date": dt.date(2023, 4, 9)}
        for gid, d, h, a in (("0022200001", D0, "A", "B"), ("0022200002", D2, "A", "C"))])
    pgs = frame(PLAYER_GAME_SUMMARY, [
        {"game_id": g, "game_date": d, "season_year": 2022, "player_id": p, "player_lookup": f"p{p}",
         "team_abbr": t, "minutes_played": m}
        for g, d, p, t, m in (("0022200001", D0, 1, "A", 30.0), ("0022200001", D0, 2, "B", 20.0),
                              ("0022200001", D0, 3, "B", None), ("0022200002", D2, 1, "A", 28.0),
                              ("0022200002", D2, 4, "C", 12.0))])
    upcg = frame(UPCOMING_PLAYER_GAME_CONTEXT, [
        {"player_id": p, "player_lookup": f"p{p}", "game_id": g, "game_date": d, "season_year": 2022, "team_abbr": t}
        for p, g, d, t in ((1, "0022200001", D0, "A"), (2, "0022200001", D0, "B"),
                           (1, "0022200002", D2, "A"), (4, "0022200002", D2, "C"))])
    wh.replace_partitions([PartitionWrite(NBA_SCHEDULE, sched), PartitionWrite(PLAYER_GAME_SUMMARY, pgs),
                           PartitionWrite(UPCOMING_PLAYER_GAME_CONTEXT, upcg)], D0, D2)
    tdza_rows = frame(TEAM_DEFENSE_ZONE_ANALYSIS, [{"team_abbr": "A", "analysis_date": D2, "season_year": 2022,
                                                   "has_shot_chart": True}])
    tdza_fail = frame(PRECOMPUTE_FAILURES, [
        fail("team_defense_zone_analysis", D1, "team", "A", "INCOMPLETE_DATA"),
        fail("team_defense_zone_analysis", D1, "team", "B", "INCOMPLETE_DATA"),
        fail("team_defense_zone_analysis", D2, "team", "B", "MISSING_DEPENDENCY"),
        fail("team_defense_zone_analysis", D2, "date", "DATE_LEVEL", "MISSING_DEPENDENCY")])
    wh.replace_partitions([PartitionWrite(TEAM_DEFENSE_ZONE_ANALYSIS, tdza_rows),
                           PartitionWrite(PRECOMPUTE_FAILURES, tdza_fail,
                                          scope={"processor": "team_defense_zone_analysis"})], D1, D2)
    psza_rows = frame(PLAYER_SHOT_ZONE_ANALYSIS, [
        {"player_id": 1, "player_lookup": "p1", "analysis_date": D1, "season_year": 2022, "has_shot_chart": True}])
    psza_fail = frame(PRECOMPUTE_FAILURES, [fail("player_shot_zone_analysis", D1, "player", "2", "STALE_DATA")])
    wh.replace_partitions([PartitionWrite(PLAYER_SHOT_ZONE_ANALYSIS, psza_rows),
                           PartitionWrite(PRECOMPUTE_FAILURES, psza_fail,
                                          scope={"processor": "player_shot_zone_analysis"})], D1, D1)
    return wh


def test_report_numbers_on_a_hand_built_warehouse(small_warehouse):
    report = build_report(small_warehouse, D1, D2)
    rows = {(r["date"], r["table"].split(".")[1]): r for r in report["per_date"].iter_rows(named=True)}
    t1, t2 = rows[(D1, "team_defense_zone_analysis")], rows[(D2, "team_defense_zone_analysis")]
    assert (t1["expected"], t1["rows_written"], t1["incomplete_data"], t1["status"]) == (2, 0, 2, "COMPLETE")
    assert (t2["expected"], t2["rows_written"], t2["true_failures"], t2["date_level_failures"], t2["status"]) == (
        2, 1, 1, 1, "PARTIAL")
    p1, p2 = rows[(D1, "player_shot_zone_analysis")], rows[(D2, "player_shot_zone_analysis")]
    assert (p1["expected"], p1["rows_written"], p1["stale_data"], p1["status"]) == (2, 1, 1, "COMPLETE")
    assert (p2["expected"], p2["materialized"], p2["status"]) == (2, False, "MISSING")  # p3 DNP: not expected
    pcf = rows[(D2, "player_composite_factors")]
    assert (pcf["table_exists"], pcf["expected"], pcf["status"]) == (False, 2, "MISSING")
    assert rows[(D1, "player_composite_factors")]["expected"] == 0  # no game on 10-19
    s = report["summary"]
    assert (s["expected"], s["rows_written"], s["incomplete_data"], s["stale_data"], s["true_failures"]) == (6, 2, 2, 1, 1)
    assert s["true_failure_rate"] == pytest.approx(1 / 6)
    assert s["incomplete_rate"] == pytest.approx(2 / 6)
    assert s["legacy_failure_rate"] == pytest.approx(4 / 6)
    assert s["status_counts"] == {"COMPLETE": 2, "PARTIAL": 1, "MISSING": 1}
    assert "nba_precompute.player_daily_cache" in s["tables_missing_from_warehouse"]
    week = report["weekly"].filter(pl.col("table") == "nba_precompute.team_defense_zone_analysis").row(0, named=True)
    assert (week["season_week"], week["expected"], week["incomplete_data"]) == (1, 4, 2)
    assert week["incomplete_rate"] == 0.5 and week["band_upper"] == 1.0 and week["within_band"]


def test_no_games_and_missing_statuses():
    sched = pl.DataFrame({"game_id": ["0022200001"], "game_date": [D0]})
    expected = pl.DataFrame({"analysis_date": [D0, D1], "season_week": [1, 1], "teams_before": [0, 2],
                             "players_before": [0, 5], "upcoming_players": [4, 0]})
    t = (ReportTable("x.pcf", "pcf", "upcoming_players"),)
    log = pl.DataFrame({"table_name": ["x.pcf", "x.pcf"], "partition_date": [D0, D1], "row_count": [0, 0]})
    out = per_date_report(D0, D1, sched, expected, log, pl.DataFrame(schema={
        "processor": pl.String, "analysis_date": pl.Date, "entity_id": pl.String,
        "failure_category": pl.String, "is_failure": pl.Boolean}), tables=t)
    # D0: games, 4 players expected, nothing written or accounted for -> MISSING; D1: no games, empty -> NO_GAMES
    assert out.get_column("status").to_list() == ["MISSING", "NO_GAMES"]


def test_console_command_json(small_warehouse, capsys):
    rc = main(["validate", str(D1), str(D2), "--format", "json", "--duckdb-path", small_warehouse.path])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1  # a true failure and a MISSING partition
    assert out["summary"]["true_failure_rate"] == pytest.approx(1 / 6)
    assert out["summary"]["incomplete_rate"] == pytest.approx(2 / 6)
    assert {d["status"] for d in out["dates"]} >= {"COMPLETE", "PARTIAL", "MISSING"}
    assert any(ep.name == "nba-precompute" and ep.value == "nba_precompute.cli:main"
               for ep in entry_points(group="console_scripts"))


def test_console_command_errors(tmp_path, capsys):
    assert main(["validate", "2022-12-10", "--duckdb-path", str(tmp_path / "none.duckdb")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["validate", "12/10/2022"])


def test_real_december_range(december_warehouse, capsys):
    """The real December 2022 week: zero true failures; TDZA and PSZA complete; PSZA's expected and
    INCOMPLETE_DATA counts equal counts computed independently from player_game_summary."""
    rc = main(["validate", DEC_START, DEC_END, "--format", "json", "--duckdb-path", december_warehouse.path])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    s = out["summary"]
    assert s["true_failures"] == 0 and s["date_level_failures"] == 0 and s["true_failure_rate"] == 0.0
    assert 0 < s["incomplete_rate"] < 0.25
    dates = [d for d in out["dates"] if d["table_exists"]]
    tables = {d["table"] for d in dates}
    assert {"nba_precompute.team_defense_zone_analysis", "nba_precompute.player_shot_zone_analysis"} <= tables
    assert all(d["status"] == "COMPLETE" for d in dates if d["table"].startswith("nba_precompute.")
               and d["table"].split(".")[1] in ("team_defense_zone_analysis", "player_shot_zone_analysis"))
    counts = december_warehouse.warehouse.query("""
        WITH played AS (SELECT player_id, game_date FROM nba_analytics.player_game_summary WHERE minutes_played > 0),
        days AS (SELECT DISTINCT analysis_date FROM nba_precompute.player_shot_zone_analysis),
        n AS (SELECT d.analysis_date, p.player_id, count(*) AS games FROM days d JOIN played p
              ON p.game_date < d.analysis_date GROUP BY 1, 2)
        SELECT analysis_date, count(*) AS expected, count(*) FILTER (WHERE games < 10) AS incomplete
        FROM n GROUP BY 1""")
    independent = {str(d): (e, i) for d, e, i in counts.iter_rows()}
    psza = {d["date"]: (d["expected"], d["incomplete_data"]) for d in dates
            if d["table"] == "nba_precompute.player_shot_zone_analysis"}
    assert psza == independent
    assert all(d["expected"] == 30 for d in dates if d["table"] == "nba_precompute.team_defense_zone_analysis")
    weeks = [w for w in out["weekly_incomplete"] if w["table"] == "nba_precompute.player_shot_zone_analysis"]
    assert {w["season_week"] for w in weeks} == {8, 9} and all(w["within_band"] for w in weeks)


def test_terminal_output(december_warehouse, capsys):
    main(["validate", DEC_END, "--duckdb-path", december_warehouse.path])
    text = capsys.readouterr().out
    assert "true failure rate 0.00% (excludes INCOMPLETE_DATA and STALE_DATA)" in text
    assert "player_shot_zone_analysis" in text and "COMPLETE" in text
    assert "2022-23 week  9:" in text  # weekly rates are per season (a multi-season report lists each)
