"""The validation report (``nba-precompute validate``).

* a hand-built warehouse with hand-computed numbers (statuses, rates, weekly bands);
* the pure functions on small frames: DATE_LEVEL counting, Phase 3 holes, run-length problem groups
  and the ``dg launch`` commands, shot-chart coverage;
* the adversary's cases on copies of the real December 2022 warehouse (conftest): a killed run, 4 of
  5 Phase 4 tables absent, DATE_LEVEL failures, a deleted Phase 3 day, a locked file, ``--help``;
* a small real warehouse of two seasons (opening days of 2022-23 and of 2024-25): per-season summary,
  shot-chart coverage, and the length of the terminal output over every partition.
"""

import datetime as dt
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import AssetKey, DagsterInstance

from nba_precompute import report
from nba_precompute.cli import main
from nba_precompute.cli import validate as cli_validate
from nba_precompute.cli.common import EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_WAREHOUSE
from nba_precompute.defs.phase4.tables import PSZA as PSZA_DECL
from nba_precompute.partitions import GameCalendar, game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.report import build_report
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
    TableSpec,
)
from nba_precompute.transforms.quality import daily_check_results
from nba_precompute.transforms.validation import (
    COMPLETE,
    FAILED,
    MISSING,
    NO_GAMES,
    NO_SHOT_CHART_NOTE,
    PHASE3_HOLE,
    Phase3ReportTable,
    ReportTable,
    band_warnings,
    fix_commands,
    partitions_frame,
    phase3_report,
    phase4_report,
    problem_groups,
    shot_chart_coverage,
    summary,
)
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse, PartitionWrite
from nba_precompute_tests.conftest import DEC_END, DEC_START
from nba_precompute_tests.dagster_helpers import evaluation, latest_by_partition

D0, D1, D2 = dt.date(2022, 10, 18), dt.date(2022, 10, 19), dt.date(2022, 10, 20)
TDZA, PSZA = "nba_precompute.team_defense_zone_analysis", "nba_precompute.player_shot_zone_analysis"
PCF, PDC = "nba_precompute.player_composite_factors", "nba_precompute.player_daily_cache"
MLFS = "nba_predictions.ml_feature_store_v2"
PHASE4 = (TDZA, PSZA, PCF, PDC, MLFS)
PGS = "nba_analytics.player_game_summary"
WRITER = ("processed_at", "created_at", "run_id")


def frame(table: TableSpec, records: list[dict]) -> pl.DataFrame:
    """A frame of ``table``'s columns: the given values, NULL elsewhere."""
    df = pl.DataFrame(records) if records else pl.DataFrame()
    cols = [c for c in table.columns if c.name not in WRITER]
    return pl.DataFrame({c.name: (df.get_column(c.name) if c.name in df.columns else [None] * len(records))
                         for c in cols}).cast({c.name: c.polars_type for c in cols})


def fail(processor, day, etype, entity, category):
    return {"processor": processor, "analysis_date": day, "entity_type": etype, "entity_id": entity,
            "entity_name": entity, "failure_category": category,
            "is_failure": category in ("MISSING_DEPENDENCY", "PROCESSING_ERROR"), "reason": "r"}


# --------------------------------------------------------------------------- a hand-built warehouse

GAMES = (("0022200001", D0, "A", "B"), ("0022200002", D1, "A", "C"), ("0022200003", D2, "B", "C"))
# player, game, date, team, minutes (None = DNP)
PLAYERS = ((1, "0022200001", D0, "A", 30.0), (2, "0022200001", D0, "B", 20.0), (3, "0022200001", D0, "B", None),
           (1, "0022200002", D1, "A", 25.0), (4, "0022200002", D1, "C", 12.0),
           (2, "0022200003", D2, "B", 22.0), (4, "0022200003", D2, "C", 10.0), (5, "0022200003", D2, "C", 15.0))


def hand_built_phase3(wh: DuckDBWarehouse) -> pl.DataFrame:
    """Three nights of one season, one game each (A-B, A-C, B-C), every Phase 3 table complete.
    Returns the schedule."""
    sched = frame(NBA_SCHEDULE, [
        {"game_id": g, "game_date": d, "season_year": 2022, "season_type": "regular_season", "game_status": "played",
         "home_team_abbr": h, "away_team_abbr": a, "season_start_date": D0, "season_end_date": D2}
        for g, d, h, a in GAMES])
    pgs = frame(PLAYER_GAME_SUMMARY, [
        {"game_id": g, "game_date": d, "season_year": 2022, "player_id": p, "player_lookup": f"p{p}",
         "team_abbr": t, "minutes_played": m, "paint_attempts": 1}
        for p, g, d, t, m in PLAYERS])
    team_games = [(g, d, t, o) for g, d, h, a in GAMES for t, o in ((h, a), (a, h))]
    togs = frame(TEAM_OFFENSE_GAME_SUMMARY, [{"game_id": g, "game_date": d, "season_year": 2022, "team_abbr": t,
                                              "opponent_team_abbr": o} for g, d, t, o in team_games])
    tdgs = frame(TEAM_DEFENSE_GAME_SUMMARY, [{"game_id": g, "game_date": d, "season_year": 2022,
                                              "defending_team_abbr": t, "opponent_team_abbr": o,
                                              "has_shot_chart": True} for g, d, t, o in team_games])
    utgc = frame(UPCOMING_TEAM_GAME_CONTEXT, [{"game_id": g, "game_date": d, "season_year": 2022, "team_abbr": t}
                                              for g, d, t, _ in team_games])
    # the pre-game universe (last played game, within 30 days, for a team playing on D): nobody on opening
    # night D0; p1 (A) on D1 (C has no earlier game); p2 (B) and p4 (C) on D2 (p3 only sat, p5 debuts)
    upcg = frame(UPCOMING_PLAYER_GAME_CONTEXT, [
        {"player_id": p, "player_lookup": f"p{p}", "game_id": g, "game_date": d, "season_year": 2022, "team_abbr": t}
        for p, g, d, t in ((1, "0022200002", D1, "A"), (2, "0022200003", D2, "B"), (4, "0022200003", D2, "C"))])
    wh.replace_partitions([PartitionWrite(t, f) for t, f in (
        (NBA_SCHEDULE, sched), (PLAYER_GAME_SUMMARY, pgs), (TEAM_OFFENSE_GAME_SUMMARY, togs),
        (TEAM_DEFENSE_GAME_SUMMARY, tdgs), (UPCOMING_TEAM_GAME_CONTEXT, utgc),
        (UPCOMING_PLAYER_GAME_CONTEXT, upcg))], D0, D2)
    return sched


@pytest.fixture(scope="module")
def small_warehouse(tmp_path_factory) -> tuple[DuckDBWarehouse, GameCalendar]:
    """Phase 3 complete over D0..D2. Phase 4:

    * TDZA over D0..D2: D1 0 rows with A and B INCOMPLETE_DATA; D2 A written, B MISSING_DEPENDENCY, a
      DATE_LEVEL MISSING_DEPENDENCY row, and C (expected: it played on D1) absent;
    * PSZA over D0..D1 only: D1 p1 written, p2 STALE_DATA;
    * PCF, PDC, MLFS never written (tables absent)."""
    wh = DuckDBWarehouse(tmp_path_factory.mktemp("small") / "warehouse.duckdb")
    sched = hand_built_phase3(wh)
    tdza_rows = frame(TEAM_DEFENSE_ZONE_ANALYSIS, [{"team_abbr": "A", "analysis_date": D2, "season_year": 2022,
                                                   "has_shot_chart": True}])
    tdza_fail = frame(PRECOMPUTE_FAILURES, [
        fail("team_defense_zone_analysis", D1, "team", "A", "INCOMPLETE_DATA"),
        fail("team_defense_zone_analysis", D1, "team", "B", "INCOMPLETE_DATA"),
        fail("team_defense_zone_analysis", D2, "team", "B", "MISSING_DEPENDENCY"),
        fail("team_defense_zone_analysis", D2, "date", "DATE_LEVEL", "MISSING_DEPENDENCY")])
    wh.replace_partitions([PartitionWrite(TEAM_DEFENSE_ZONE_ANALYSIS, tdza_rows),
                           PartitionWrite(PRECOMPUTE_FAILURES, tdza_fail,
                                          scope={"processor": "team_defense_zone_analysis"})], D0, D2)
    psza_rows = frame(PLAYER_SHOT_ZONE_ANALYSIS, [
        {"player_id": 1, "player_lookup": "p1", "analysis_date": D1, "season_year": 2022, "has_shot_chart": True}])
    psza_fail = frame(PRECOMPUTE_FAILURES, [fail("player_shot_zone_analysis", D1, "player", "2", "STALE_DATA")])
    wh.replace_partitions([PartitionWrite(PLAYER_SHOT_ZONE_ANALYSIS, psza_rows),
                           PartitionWrite(PRECOMPUTE_FAILURES, psza_fail,
                                          scope={"processor": "player_shot_zone_analysis"})], D0, D1)
    return wh, GameCalendar.from_schedule(sched)


def _report(wh, calendar, **kwargs):
    return build_report(wh, list(calendar.game_dates), calendar.seasons, **kwargs)


def test_report_numbers_on_a_hand_built_warehouse(small_warehouse):
    """Every number below is counted by hand from the fixture's docstring."""
    wh, calendar = small_warehouse
    report = _report(wh, calendar, chart_seasons=[2022])
    rows = {(r["date"], r["table"]): r for r in report["phase4"].iter_rows(named=True)}
    # expected: TDZA teams with a game before D (0, A+B, A+B+C); PSZA players who played before D
    # (0, p1+p2, p1+p2+p4; p3 only a DNP); PCF/PDC/MLFS D's pre-game universe (0; p1; p2+p4)
    assert [rows[(d, TDZA)]["expected"] for d in (D0, D1, D2)] == [0, 2, 3]
    assert [rows[(d, PSZA)]["expected"] for d in (D0, D1, D2)] == [0, 2, 3]
    assert [rows[(d, PCF)]["expected"] for d in (D0, D1, D2)] == [0, 1, 2]
    t1, t2 = rows[(D1, TDZA)], rows[(D2, TDZA)]
    assert (t1["rows_written"], t1["incomplete_data"], t1["status"]) == (0, 2, COMPLETE)
    assert (t2["rows_written"], t2["true_failures"], t2["date_level_failures"], t2["unaccounted"]) == (1, 1, 1, 1)
    assert (t2["failed_entities"], t2["status"]) == (3, FAILED)  # DATE_LEVEL: all 3 expected teams failed
    assert "DATE_LEVEL" in t2["problem"]
    p1, p2 = rows[(D1, PSZA)], rows[(D2, PSZA)]
    assert (p1["rows_written"], p1["stale_data"], p1["status"]) == (1, 1, COMPLETE)
    assert (p2["materialized"], p2["unaccounted"], p2["status"], p2["problem"]) == (
        False, 3, MISSING, "partition never materialised; 3 entities expected")
    assert all(rows[(d, t)]["status"] == MISSING and not rows[(d, t)]["table_exists"]
               for d in (D0, D1, D2) for t in (PCF, PDC, MLFS))
    s = report["summary"]
    # units: TDZA 0+2+3, PSZA 0+2+3, PCF/PDC/MLFS 3 each = 19
    assert (s["units"], s["rows_written"], s["incomplete_data"], s["stale_data"]) == (19, 2, 2, 1)
    assert (s["true_failures"], s["date_level_failures"], s["date_level_pairs"], s["failed_entities"]) == (1, 1, 1, 3)
    assert s["true_failure_rate"] == pytest.approx(3 / 19)
    assert s["incomplete_rate"] == pytest.approx(2 / 19)
    assert s["unaccounted"] == 1 + 3 + 9 and s["unaccounted_rate"] == pytest.approx(13 / 19)
    assert s["legacy_failure_rate"] == pytest.approx(4 / 19)
    assert s["status_counts"] == {COMPLETE: 4, FAILED: 1, MISSING: 10}
    assert s["phase3_status_counts"] == {COMPLETE: 18} and not s["ok"]
    assert set(s["tables_missing_from_warehouse"]) == {PCF, PDC, MLFS}
    # the incomplete_rate_within_band numbers, the check's formula: INCOMPLETE_DATA / (rows + INCOMPLETE_DATA
    # + STALE_DATA + entity true failures). TDZA D1: 2 of 2 -> 1.0, at week 1's 100 % edge: PASS; D2:
    # 0 of 1 row + 1 MISSING_DEPENDENCY; PSZA D2 never materialised: no verdict
    assert (t1["entities_total"], t1["incomplete_rate"], t1["expected_band_upper"]) == (2, 1.0, 1.0)
    assert (t1["incomplete_rate_within_band"], t2["entities_total"], t2["incomplete_rate"]) == ("PASS", 2, 0.0)
    assert p1["incomplete_rate_within_band"] == "PASS" and p2["incomplete_rate_within_band"] is None
    assert rows[(D1, PCF)]["incomplete_rate_within_band"] is None  # table absent
    assert report["warnings"].is_empty() and s["warnings"] == {"incomplete_rate_within_band": 0}
    week = report["weekly"].filter(pl.col("table") == TDZA).row(0, named=True)
    assert (week["season_year"], week["season_week"], week["dates"], week["expected"], week["incomplete_data"]) == (
        2022, 1, 3, 5, 2)
    # pooled over the week with the check's denominator: 2 of 0 + 2 + 2 entities (C, unaccounted, is not one)
    assert (week["entities_total"], week["days_above_band"]) == (4, 0)
    assert week["incomplete_rate"] == pytest.approx(0.5) and week["band_upper"] == 1.0 and week["within_band"]
    season = report["seasons"].row(0, named=True)
    assert (season["partitions"], season["failed_entities"], season["MISSING"], season["coverage"]) == (3, 3, 10, 1.0)


def test_a_deleted_phase3_day_is_a_hole_even_with_its_partition_log_row(tmp_path):
    """player_game_summary of D1 deleted, its partition-log row kept: PHASE3_HOLE on D1. Then the log
    row is made to agree (row_count 0): still a hole, found from the schedule's played games."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    calendar = GameCalendar.from_schedule(hand_built_phase3(wh))
    with duckdb.connect(wh.path) as con:
        con.execute(f"DELETE FROM {PGS} WHERE game_date = ?", [D1])
    for fix_log in (False, True):
        if fix_log:
            with duckdb.connect(wh.path) as con:
                con.execute("UPDATE nba_processing.partition_log SET row_count = 0 "
                            "WHERE table_name = ? AND partition_date = ?", [PGS, D1])
        p3 = _report(wh, calendar)["phase3"]
        hole = p3.filter(pl.col("status") != COMPLETE)
        assert hole.select("date", "table", "status").rows() == [(D1, PGS, PHASE3_HOLE)]
        r = hole.row(0, named=True)
        assert (r["team_games_expected"], r["team_games_missing"]) == (2, 2)
        assert r["problem"].startswith("2 of 2 played team-games have no rows (e.g. 0022200002 A, 0022200002 C)")


# --------------------------------------------------------------------------- the pure functions

NO_FAILURES = pl.DataFrame(schema={"processor": pl.String, "analysis_date": pl.Date, "entity_id": pl.String,
                                   "entity_name": pl.String, "failure_category": pl.String, "is_failure": pl.Boolean})


def _parts(days, season=2022):
    return pl.DataFrame({"date": days, "season_year": [season] * len(days), "season_week": [1] * len(days)},
                        schema={"date": pl.Date, "season_year": pl.Int64, "season_week": pl.Int64})


def _log(table, days, counts):
    return pl.DataFrame({"table_name": [table] * len(days), "partition_date": days, "row_count": counts},
                        schema={"table_name": pl.String, "partition_date": pl.Date, "row_count": pl.Int64})


def test_phase4_statuses_from_small_frames():
    """NO_GAMES, never materialised, rows deleted after the write, more rows than expected."""
    days = [D0, D1, D2, dt.date(2022, 10, 21)]
    sched = pl.DataFrame({"game_id": ["0022200001"] * 3, "game_date": [D0, D2, days[3]]})
    expected = pl.DataFrame({"analysis_date": days, "season_week": [1] * 4, "teams_before": [0] * 4,
                             "players_before": [0] * 4, "upcoming_players": [4, 0, 3, 2]})
    t = [ReportTable("x.pcf", "pcf", "upcoming_players")]
    log = _log("x.pcf", [D0, D1, days[3]], [4, 0, 5])
    counts = _log("x.pcf", [D0, days[3]], [3, 5])  # D0: one row deleted since the write
    out = phase4_report(_parts(days), sched, expected, log, counts, NO_FAILURES, t)
    assert out.get_column("status").to_list() == [MISSING, NO_GAMES, MISSING, MISSING]
    assert out.get_column("problem_kind").to_list()[0] == "rows differ from the partition log (changed after the write)"
    assert out.row(2, named=True)["problem"] == "partition never materialised; 3 entities expected"
    assert out.row(3, named=True)["surplus"] == 3


def test_date_level_failures_count_in_the_true_failure_rate():
    """Four DATE_LEVEL rows and no entity row: the rate counts every expected entity of the four
    (date, table) pairs; a DATE_LEVEL row on a date with nothing expected still counts one unit."""
    days = [D0, D1, D2]
    sched = pl.DataFrame({"game_id": ["0022200001"] * 3, "game_date": days})
    expected = pl.DataFrame({"analysis_date": days, "season_week": [1] * 3, "teams_before": [0, 10, 10],
                             "players_before": [0] * 3, "upcoming_players": [0] * 3})
    t = [ReportTable("x.tdza", "tdza", "teams_before")]
    log = _log("x.tdza", days, [0, 10, 10])
    dl = pl.DataFrame([{"processor": "tdza", "analysis_date": d, "entity_id": "DATE_LEVEL", "entity_name": "up",
                        "failure_category": "MISSING_DEPENDENCY", "is_failure": True} for d in (D0, D1, D1, D2)])
    out = phase4_report(_parts(days), sched, expected, log, log, dl, t)
    assert out.get_column("failed_entities").to_list() == [1, 10, 10]
    assert out.get_column("status").to_list() == [FAILED] * 3
    s = summary(out, out.head(0).select("date", "table", "table_exists", "status"))
    assert (s["date_level_failures"], s["date_level_pairs"], s["failed_entities"], s["units"]) == (4, 3, 21, 21)
    assert s["true_failure_rate"] == 1.0 and not s["ok"]


def test_days_above_band_are_incomplete_rate_within_band_warnings():
    """Two week-9 PSZA days (band: 25 %): 2 of 8 entities below the minimum (0.25, at the edge) and 4 of
    10 (0.40, above). The report says what the dashboard says: the second day is an
    incomplete_rate_within_band WARN with the check's numbers, the first passes; neither is a failure
    (status COMPLETE, report ok). Same rate and verdict as quality.daily_check_results (the check)."""
    d1, d2 = dt.date(2022, 12, 19), dt.date(2022, 12, 20)
    days = [d1, d2]
    sched = pl.DataFrame({"game_id": ["0022200001", "0022200002"], "game_date": days})
    expected = pl.DataFrame({"analysis_date": days, "season_week": [9, 9], "teams_before": [0, 0],
                             "players_before": [8, 10], "upcoming_players": [0, 0]})
    t = [ReportTable(PSZA, "psza", "players_before", PSZA_DECL.bands, "PSZA")]
    log = _log(PSZA, days, [6, 6])
    fails = pl.DataFrame([fail("psza", d, "player", str(p), "INCOMPLETE_DATA")
                          for d, n in ((d1, 2), (d2, 4)) for p in range(n)])
    parts = _parts(days).with_columns(pl.lit(9, pl.Int64).alias("season_week"))
    out = phase4_report(parts, sched, expected, log, log, fails, t)
    assert out.get_column("status").to_list() == [COMPLETE, COMPLETE]
    assert out.get_column("entities_total").to_list() == [8, 10]
    assert out.get_column("incomplete_rate").to_list() == pytest.approx([0.25, 0.4])
    assert out.get_column("expected_band_upper").to_list() == [0.25, 0.25]
    assert out.get_column("incomplete_rate_within_band").to_list() == ["PASS", "WARN"]
    warn = band_warnings(out)
    assert warn.height == 1
    w = warn.row(0, named=True)
    assert (w["date"], w["table"], w["check"], w["severity"], w["season_week"]) == (
        d2, PSZA, "incomplete_rate_within_band", "WARN", 9)
    assert (w["entities_total"], w["entities_incomplete"], w["expected_band_upper"]) == (10, 4, 0.25)
    assert w["incomplete_rate"] == pytest.approx(0.4) and w["expected_band"] == "weeks 9+: incomplete rate <= 25%"
    s = summary(out, out.head(0).select("date", "table", "table_exists", "status"))
    assert s["ok"] and s["warnings"] == {"incomplete_rate_within_band": 1}
    # the dashboard's numbers for the same two days
    check_days = pl.DataFrame({"analysis_date": days, "season_week": [9, 9], "materialized": [True, True],
                               "rows_written": [6, 6]}, schema_overrides={"season_week": pl.Int64})
    no_invalid = pl.DataFrame(schema={"analysis_date": pl.Date, "entity_id": pl.String,
                                      "violations": pl.List(pl.String)})
    check = daily_check_results(check_days, fails.with_columns(reason=pl.lit("r")), no_invalid, PSZA_DECL.bands)
    assert check.get_column("entities_total").to_list() == out.get_column("entities_total").to_list()
    assert check.get_column("incomplete_rate").to_list() == out.get_column("incomplete_rate").to_list()
    assert check.get_column("above_band").to_list() == [False, True]
    # the terminal words it as the check, a warning, not a failure
    lines = cli_validate._warning_lines(warn, out, {PSZA: "PSZA"}, details=False)
    assert lines[0].startswith("incomplete_rate_within_band (WARN, not a failure") and "1 of 2 banded" in lines[0]
    assert lines[1].strip().startswith("WARN 2022-12-20 PSZA  week  9: incomplete rate  40.0% (4 of 10)")
    assert "minimum_games" not in "\n".join(lines) and "FAIL" not in "\n".join(lines)


def test_phase3_report_finds_a_team_without_rows_and_an_empty_schedule_day():
    sched = pl.DataFrame({"game_id": ["0022200001", "0022200002"], "game_date": [D0, D0],
                          "game_status": ["played", "played"], "home_team_abbr": ["A", "C"],
                          "away_team_abbr": ["B", "D"]})
    tables = [Phase3ReportTable("x.schedule", None), Phase3ReportTable("x.pgs", "team_abbr")]
    rows = pl.DataFrame({"table": ["x.pgs"] * 3, "game_id": ["0022200001", "0022200001", "0022200002"],
                         "team_abbr": ["A", "B", "C"]})  # D missing
    log = pl.concat([_log("x.schedule", [D0, D1], [2, 0]), _log("x.pgs", [D0, D1], [30, 0])])
    out = phase3_report(_parts([D0, D1]), sched, rows, log, log, tables)
    st = {(r["date"], r["table"]): r for r in out.iter_rows(named=True)}
    assert st[(D0, "x.schedule")]["status"] == COMPLETE
    assert (st[(D0, "x.pgs")]["status"], st[(D0, "x.pgs")]["team_games_missing"]) == (PHASE3_HOLE, 1)
    assert st[(D0, "x.pgs")]["missing_examples"] == "0022200002 D"
    # D1 is a game date of the raw calendar but nba_schedule holds no game that day
    assert (st[(D1, "x.schedule")]["status"], st[(D1, "x.schedule")]["problem_kind"]) == (
        PHASE3_HOLE, "no regular-season game in nba_schedule on a game date")


def test_phase3_report_expects_no_upcoming_rows_for_a_team_without_a_pre_game_universe():
    """upcoming_player_game_context holds D's pre-game universe: a team's first game of the season (no
    game in the 30 days before) has nobody, which is no hole; a later game without rows is one."""
    upcg = "nba_analytics.upcoming_player_game_context"
    sched = pl.DataFrame({"game_id": ["0022200001", "0022200002"], "game_date": [D0, D1], "season_year": [2022] * 2,
                          "game_status": ["played"] * 2, "home_team_abbr": ["A", "A"], "away_team_abbr": ["B", "C"]})
    tables = [Phase3ReportTable(upcg, "team_abbr")]
    rows = pl.DataFrame({"table": [upcg], "game_id": ["0022200002"], "team_abbr": ["C"]})  # A missing on D1
    log = _log(upcg, [D0, D1], [0, 1])
    st = {r["date"]: r for r in phase3_report(_parts([D0, D1]), sched, rows, log, log, tables).iter_rows(named=True)}
    assert (st[D0]["status"], st[D0]["team_games_expected"]) == (COMPLETE, 0)  # opening night: nobody
    # D1: C's first game (nobody expected), A's second (its players of D0 expected): A missing
    assert (st[D1]["status"], st[D1]["team_games_expected"], st[D1]["missing_examples"]) == (
        PHASE3_HOLE, 1, "0022200002 A")


def test_problem_rows_are_grouped_into_runs_and_fix_commands():
    """MISSING on 4 consecutive partitions (two tables) and on 1 later partition: two runs, the two
    tables listed on one line; one command per phase and season, Phase 3 first."""
    days = [D0, D1, D2, dt.date(2022, 10, 21), dt.date(2022, 10, 22), dt.date(2022, 10, 24)]
    missing = {D0, D1, D2, days[3], days[5]}

    def p4(table):
        return pl.DataFrame({"date": days, "season_year": [2022] * 6, "table": [table] * 6,
                             "status": [MISSING if d in missing else COMPLETE for d in days],
                             "problem_kind": ["partition never materialised" if d in missing else None for d in days],
                             "expected": [10] * 6, "unaccounted": [10 if d in missing else 0 for d in days],
                             "failed_entities": [0] * 6, "table_exists": [True] * 6},
                            schema_overrides={"problem_kind": pl.String})
    phase4 = pl.concat([p4(PSZA), p4(TDZA)])
    phase3 = pl.DataFrame({"date": days, "season_year": [2022] * 6, "table": [PGS] * 6,
                           "status": [PHASE3_HOLE if d == D1 else COMPLETE for d in days],
                           "problem_kind": ["played games without rows for a team" if d == D1 else None for d in days],
                           "team_games_missing": [2 if d == D1 else 0 for d in days], "table_exists": [True] * 6},
                          schema_overrides={"problem_kind": pl.String})
    groups = problem_groups(phase4, phase3, {TDZA: "TDZA", PSZA: "PSZA"}, order=[PGS, TDZA, PSZA])
    lines = groups.select("phase", "start", "end", "partitions", "labels", "pairs").rows()
    assert lines == [("phase4", D0, days[3], 4, ["TDZA", "PSZA"], 8), ("phase3", D1, D1, 1, ["player_game_summary"], 1),
                     ("phase4", days[5], days[5], 1, ["TDZA", "PSZA"], 2)]
    assert groups.row(0, named=True)["detail"] == (
        "80 expected entities unaccounted for (Phase 3 has problems on these dates: fix it first)")
    keys = {TDZA: "nba_precompute/team_defense_zone_analysis", PSZA: "nba_precompute/player_shot_zone_analysis"}
    assert fix_commands(groups, keys, "group:phase3_analytics").get_column("command").to_list() == [
        "dg launch --assets 'group:phase3_analytics' --partition 2022-10-19",
        "dg launch --assets 'nba_precompute/team_defense_zone_analysis,nba_precompute/player_shot_zone_analysis' "
        "--partition-range 2022-10-18...2022-10-24",
    ]


def test_shot_chart_coverage_says_why_zones_are_absent():
    pg = pl.DataFrame({"game_id": ["0022200001"] * 3 + ["0022400001"] * 2 + ["0022300001"] * 2,
                       "season_year": [2022] * 3 + [2024] * 2 + [2023] * 2,
                       "minutes_played": [30.0, 10.0, None, 20.0, 25.0, 30.0, 12.0],
                       "paint_attempts": [3, 0, None, None, None, 4, None]})
    cov = {r["season_year"]: r for r in shot_chart_coverage(pg, [2022, 2023, 2024], [2022, 2023], 2023).iter_rows(
        named=True)}
    assert (cov[2022]["played_player_games"], cov[2022]["coverage"], cov[2022]["coverage_ok"]) == (2, 1.0, True)
    assert (cov[2024]["coverage"], cov[2024]["source"], cov[2024]["coverage_ok"]) == (0.0, "none published", True)
    assert cov[2024]["note"] == NO_SHOT_CHART_NOTE
    assert (cov[2023]["coverage"], cov[2023]["coverage_ok"]) == (0.5, False)
    assert cov[2023]["note"].endswith("1 without one although the season has a shot chart")


# --------------------------------------------------------------------------- the adversary's cases


def _copy(built, tmp_path) -> str:
    dst = tmp_path / "copy.duckdb"
    shutil.copy(built.path, dst)
    return str(dst)


def _sql(path: str, *statements: str) -> None:
    with duckdb.connect(path) as con:
        for s in statements:
            con.execute(s)


def _validate_json(args, capsys) -> tuple[int, dict]:
    rc = main(["validate", *args, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_real_december_range(december_warehouse, capsys):
    """The real December 2022 week: exit 0, zero true failures, every (date, table) of both phases
    COMPLETE; PSZA's expected and INCOMPLETE_DATA counts equal counts computed independently from
    player_game_summary."""
    rc, out = _validate_json([DEC_START, DEC_END, "--duckdb-path", december_warehouse.path], capsys)
    assert rc == EXIT_OK and out["exit_code"] == EXIT_OK
    s = out["summary"]
    assert s["ok"] and s["true_failures"] == 0 and s["date_level_failures"] == 0 and s["true_failure_rate"] == 0.0
    assert s["unaccounted"] == 0 and 0 < s["incomplete_rate"] < 0.25
    assert {d["status"] for d in out["dates"]} == {COMPLETE} and len(out["dates"]) == 7 * 5
    assert {d["status"] for d in out["phase3_dates"]} == {COMPLETE} and len(out["phase3_dates"]) == 7 * 6
    counts = december_warehouse.warehouse.query("""
        WITH played AS (SELECT player_id, game_date FROM nba_analytics.player_game_summary WHERE minutes_played > 0),
        days AS (SELECT DISTINCT analysis_date FROM nba_precompute.player_shot_zone_analysis),
        n AS (SELECT d.analysis_date, p.player_id, count(*) AS games FROM days d JOIN played p
              ON p.game_date < d.analysis_date GROUP BY 1, 2)
        SELECT analysis_date, count(*) AS expected, count(*) FILTER (WHERE games < 10) AS incomplete
        FROM n GROUP BY 1""")
    independent = {str(d): (e, i) for d, e, i in counts.iter_rows()}
    psza = {d["date"]: (d["expected"], d["incomplete_data"]) for d in out["dates"] if d["table"] == PSZA}
    assert psza == independent
    assert all(d["expected"] == 30 for d in out["dates"] if d["table"] == TDZA)
    weeks = [w for w in out["weekly_incomplete"] if w["table"] == PSZA]
    assert {w["season_week"] for w in weeks} == {8, 9} and all(w["within_band"] for w in weeks)
    # the report says what the dashboard says: per (date, table) the incomplete_rate_within_band
    # verdict, rate and band of the check results Dagster stored for the run
    assert out["incomplete_rate_within_band"] == [] and s["warnings"] == {"incomplete_rate_within_band": 0}
    for d in out["dates"]:
        key = AssetKey(d["table"].split("."))
        rec = latest_by_partition(december_warehouse.instance, key, "incomplete_rate_within_band")[d["date"]]
        md = evaluation(rec).metadata
        assert (d["incomplete_rate_within_band"] == "PASS") == evaluation(rec).passed, d
        assert d["incomplete_rate"] == pytest.approx(md["incomplete_rate"].value), d
        assert d["entities_total"] == md["entities_total"].value, d
        band = md["expected_band_upper"]
        assert d["expected_band_upper"] == (None if band.value == "none" else band.value), d
    # the console script is the CLI package's main (read from pyproject.toml: the installed metadata is
    # the last `pip install -e`'s)
    scripts = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text().split("[project.scripts]")[1]
    assert scripts.split("[")[0].strip() == 'nba-precompute = "nba_precompute.cli:main"'


def test_killed_run_with_phase4_tables_absent_is_not_clean(december_warehouse, tmp_path, capsys):
    path = _copy(december_warehouse, tmp_path)
    _sql(path, *(f"DROP TABLE {t}" for t in PHASE4))
    rc, out = _validate_json([DEC_START, DEC_END, "--duckdb-path", path], capsys)
    s = out["summary"]
    assert rc == EXIT_PROBLEMS and not s["ok"]
    assert s["expected"] > 5_000 and s["rows_written"] == 0 and s["unaccounted"] > 0  # not "expected 0"
    assert s["status_counts"] == {MISSING: 35} and set(s["tables_missing_from_warehouse"]) == set(PHASE4)
    main(["validate", DEC_START, DEC_END, "--duckdb-path", path])
    text = capsys.readouterr().out
    assert "TDZA, PSZA, PCF, PDC, MLFS: table not in the warehouse" in text
    assert (f"dg launch --assets 'nba_precompute/team_defense_zone_analysis,nba_precompute/player_shot_zone_analysis,"
            f"nba_precompute/player_composite_factors,nba_precompute/player_daily_cache,"
            f"nba_predictions/ml_feature_store_v2' --partition-range {DEC_START}...{DEC_END}") in text
    assert "Result: PROBLEMS FOUND (exit 1)" in text and "Result: OK" not in text


def test_failed_run_with_four_of_five_tables_absent_is_not_complete(december_warehouse, tmp_path, capsys):
    path = _copy(december_warehouse, tmp_path)
    _sql(path, *(f"DROP TABLE {t}" for t in PHASE4[1:]))
    rc, out = _validate_json([DEC_START, DEC_END, "--duckdb-path", path], capsys)
    assert rc == EXIT_PROBLEMS and not out["summary"]["ok"]
    assert out["summary"]["status_counts"] == {COMPLETE: 7, MISSING: 28}
    by_table = {t: {d["status"] for d in out["dates"] if d["table"] == t} for t in PHASE4}
    assert by_table == {TDZA: {COMPLETE}, **{t: {MISSING} for t in PHASE4[1:]}}


def test_date_level_failures_make_a_non_zero_true_failure_rate(december_warehouse, tmp_path, capsys):
    path = _copy(december_warehouse, tmp_path)
    days = ("2022-12-12", "2022-12-13", "2022-12-14", "2022-12-15")
    values = ", ".join(f"(DATE '{d}')" for d in days)
    _sql(path, "INSERT INTO nba_processing.precompute_failures (processor, analysis_date, entity_type, entity_id, "
               "entity_name, failure_category, is_failure, reason, created_at) SELECT 'player_daily_cache', d, "
               "'date', 'DATE_LEVEL', 'nba_analytics.player_game_summary (partitions)', 'MISSING_DEPENDENCY', true, "
               f"'planted', now() FROM (VALUES {values}) v(d)")
    rc, out = _validate_json([DEC_START, DEC_END, "--duckdb-path", path], capsys)
    s = out["summary"]
    pdc = [d for d in out["dates"] if d["table"] == PDC and d["date"] in days]
    assert rc == EXIT_PROBLEMS
    assert (s["true_failures"], s["date_level_failures"], s["date_level_pairs"]) == (0, 4, 4)
    assert s["failed_entities"] == sum(d["expected"] for d in pdc) > 0
    assert s["true_failure_rate"] == pytest.approx(s["failed_entities"] / s["units"]) and s["true_failure_rate"] > 0
    assert {d["status"] for d in pdc} == {FAILED}
    main(["validate", DEC_START, DEC_END, "--duckdb-path", path])
    text = capsys.readouterr().out
    assert "true failure rate 0.00%" not in text and "4 DATE_LEVEL rows on 4 (date, table)" in text


def test_a_deleted_phase3_day_is_detected(december_warehouse, tmp_path, capsys):
    """One day of player_game_summary deleted, its partition_log row left in place: not COMPLETE, the
    day is a PHASE3_HOLE, and the fix command rebuilds Phase 3 for that day."""
    path = _copy(december_warehouse, tmp_path)
    _sql(path, f"DELETE FROM {PGS} WHERE game_date = DATE '2022-12-13'")
    rc, out = _validate_json([DEC_START, DEC_END, "--duckdb-path", path], capsys)
    holes = [(d["date"], d["table"], d["status"]) for d in out["phase3_dates"] if d["status"] != COMPLETE]
    assert rc == EXIT_PROBLEMS and holes == [("2022-12-13", PGS, PHASE3_HOLE)]
    assert out["fix_commands"][0]["command"] == "dg launch --assets 'group:phase3_analytics' --partition 2022-12-13"


def test_locked_warehouse_is_one_line_and_its_own_exit_code(december_warehouse, capsys):
    """A process holding the DuckDB file open for writing (as a running Dagster run does): exit 3 (not
    1, "problems found"), one line on stderr naming the lock, no traceback."""
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, duckdb
            con = duckdb.connect({december_warehouse.path!r})
            print("locked", flush=True)
            sys.stdin.read()
        """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        rc = main(["validate", DEC_START, DEC_END, "--duckdb-path", december_warehouse.path])
        err = capsys.readouterr().err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert rc == EXIT_WAREHOUSE
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: DuckDB warehouse {december_warehouse.path} is locked: process {holder.pid} has it")


def test_help_names_the_default_file_actually_used(december_warehouse, raw_data_dir, tmp_path, monkeypatch,
                                                   capsys):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir.resolve()))
    monkeypatch.delenv("NBA_PRECOMPUTE_DUCKDB_PATH", raising=False)
    monkeypatch.delenv("NBA_PRECOMPUTE_WAREHOUSE", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    flat = "".join(capsys.readouterr().out.split())  # argparse wraps long paths
    assert str(tmp_path / "data" / "warehouse.duckdb") in flat
    # with NBA_PRECOMPUTE_DUCKDB_PATH set, the help names that file and validate reads it
    path = _copy(december_warehouse, tmp_path)
    monkeypatch.setenv("NBA_PRECOMPUTE_DUCKDB_PATH", path)
    with pytest.raises(SystemExit):
        main(["validate", "--help"])
    flat = "".join(capsys.readouterr().out.split())
    assert path.replace(" ", "") in flat and "NBA_PRECOMPUTE_DUCKDB_PATH" in flat
    assert main(["validate", DEC_END]) == EXIT_OK
    assert f"warehouse: DuckDB file {path} (read-only)" in capsys.readouterr().out


def test_usage_and_warehouse_errors(tmp_path, capsys):
    absent = ["--duckdb-path", str(tmp_path / "none.duckdb")]
    assert main(["validate", "2021-12-24", *absent]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err == ("error: 2021-12-24: no season of the raw data covers this day (2020-21 ends 2021-05-16, 2022-23 "
                   "opens 2022-10-18; the seasons in between are not in the raw data)\n")
    assert main(["validate", "2022-12-16", "2022-12-10", *absent]) == EXIT_USAGE
    assert main(["validate", "2022-12-10", "--season", "2022-23", *absent]) == EXIT_USAGE
    assert main(["validate", "--season", "2021-22", *absent]) == EXIT_USAGE
    assert "season 2021-22 is not in the raw data" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["validate", "2022-12-10", "--all-seasons"])
    assert exc.value.code == EXIT_USAGE
    with pytest.raises(SystemExit):
        main(["validate", "12/10/2022"])
    capsys.readouterr()
    assert main(["validate", "2022-12-10", *absent]) == EXIT_WAREHOUSE  # nothing can be validated
    assert "does not exist" in capsys.readouterr().err


def test_partitions_frame_assigns_seasons():
    seasons = pl.DataFrame({"season_year": [2022, 2024], "season_start_date": [D0, dt.date(2024, 10, 22)]})
    out = partitions_frame([dt.date(2024, 11, 5), D1], seasons)
    assert out.select("date", "season_year", "season_week").rows() == [(D1, 2022, 1), (dt.date(2024, 11, 5), 2024, 3)]


# --------------------------------------------------------------------------- two real seasons

OPENING_2022 = ("2022-10-18", "2022-10-20")
OPENING_2024 = ("2024-10-22", "2024-10-24")


@pytest.fixture(scope="module")
def two_seasons(tmp_path_factory, raw_data_dir) -> str:
    """Every asset over the first three nights of 2022-23 (shot chart) and of 2024-25 (none
    published), through Dagster."""
    db = str(tmp_path_factory.mktemp("two_seasons") / "warehouse.duckdb")
    instance = DagsterInstance.ephemeral()
    for start, end in (OPENING_2022, OPENING_2024):
        assert materialize_range(start, end, duckdb_path=db, raw_dir=str(raw_data_dir), selection="*",
                                 instance=instance).success
    return db


def _days(*ranges):
    cal = game_calendar()
    return [d for d in cal.game_dates if any(dt.date.fromisoformat(a) <= d <= dt.date.fromisoformat(b)
                                             for a, b in ranges)]


def test_per_season_summary_and_shot_chart_coverage(two_seasons):
    cal = game_calendar()
    days = _days(OPENING_2022, OPENING_2024)
    report = build_report(DuckDBWarehouse(two_seasons), days, cal.seasons, chart_seasons=[2020, 2022, 2023])
    seasons = {r["season_year"]: r for r in report["seasons"].iter_rows(named=True)}
    assert set(seasons) == {2022, 2024} and report["summary"]["ok"]
    for year, r in seasons.items():
        per = report["phase4"].filter(pl.col("season_year") == year)
        assert r["partitions"] == 3 and r[COMPLETE] == 15 and r["phase3_COMPLETE"] == 18
        assert (r["rows_written"], r["expected"], r["incomplete_data"]) == tuple(
            int(per.get_column(c).sum()) for c in ("rows_written", "expected", "incomplete_data"))
        assert r["failed_entities"] == 0 and r["true_failure_rate"] == 0.0 and r["expected"] > 0
    # coverage: every played player-game of 2022-23 has a zone split; 2024-25 none, by design
    pgs = DuckDBWarehouse(two_seasons).read(PLAYER_GAME_SUMMARY, columns=["season_year", "minutes_played"])
    played = dict(pgs.filter(pl.col("minutes_played") > 0).group_by("season_year").len().iter_rows())
    assert (seasons[2022]["played_player_games"], seasons[2022]["coverage"]) == (played[2022], 1.0)
    assert (seasons[2024]["played_player_games"], seasons[2024]["with_zone_split"]) == (played[2024], 0)
    assert seasons[2024]["note"] == NO_SHOT_CHART_NOTE and seasons[2024]["coverage_ok"]


def test_terminal_says_why_2024_25_has_no_zones(two_seasons, capsys):
    assert main(["validate", *OPENING_2024, "--duckdb-path", two_seasons]) == EXIT_OK
    text = capsys.readouterr().out
    assert "  2024-25: no shot chart (none published) — zone columns NULL by design" in text
    assert "Problems: none" in text and "Result: OK (exit 0)" in text


def test_terminal_output_is_short_and_details_list_every_row(two_seasons, capsys):
    """Over every partition (~736 dates x 11 tables) of a warehouse holding six of them: a few dozen
    lines, problems as runs of dates; --details lists every (date, table)."""
    n_days = len(game_calendar().game_dates)  # validate reports game dates
    assert main(["validate", "--duckdb-path", two_seasons]) == EXIT_PROBLEMS
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert len(lines) < 70, text
    # no per-date table by default: the only dated lines are the problem runs (ranges of dates)
    dated = [ln for ln in lines if ln[:4].strip().isdigit() and ln[4:5] == "-" and ln[7:8] == "-"]
    assert dated == []
    runs = [ln for ln in lines if ".." in ln and ("Phase 3  MISSING" in ln or "Phase 4  MISSING" in ln)]
    assert 0 < len(runs) <= 20 and any("2022-10-21..2023-04-09" in ln for ln in runs)
    assert main(["validate", "--duckdb-path", two_seasons, "--details"]) == EXIT_PROBLEMS
    detailed = capsys.readouterr().out.splitlines()
    assert len(detailed) > n_days * 11
    assert sum(ln.startswith("2024-10-23  ") for ln in detailed) == 11  # 5 Phase 4 + 6 Phase 3 rows


def test_cli_reads_the_warehouse_through_the_interface_only():
    """The report and the command modules never import the DuckDB implementation: the warehouse comes
    from the assets' configuration and is used through the Warehouse interface."""
    for module in (report, cli_validate):
        source = Path(module.__file__).read_text()
        assert "duckdb_warehouse" not in source and "import duckdb" not in source, module.__name__
