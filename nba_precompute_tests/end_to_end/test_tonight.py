"""Tonight's slate, end to end on the real data: `nba-precompute launch 2026-02-10` (the first game date
whose box scores are not in the shipped data) writes the pre-game tables of that night's eight teams, its
box-score tables wait, and `validate` reports the slate's readiness."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance

from nba_precompute.cli import main
from nba_precompute.pipeline import materialize_range
from nba_precompute.schemas import ML_FEATURE_STORE_V2, PARTITION_LOG, PLAYER_GAME_SUMMARY, UPCOMING_PLAYER_GAME_CONTEXT
from nba_precompute.transforms.validation import slate_readiness
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

REPO = Path(__file__).resolve().parents[2]
TONIGHT = dt.date(2026, 2, 10)


def test_slate_readiness_counts_players_per_scheduled_team_and_flags_thin_rosters():
    schedule = pl.DataFrame({
        "game_id": ["0022500771", "0022500772", "0022500700"], "game_date": [TONIGHT, TONIGHT, TONIGHT - dt.timedelta(1)],
        "season_year": [2025] * 3, "home_team_abbr": ["NYK", "LAL", "BOS"], "away_team_abbr": ["IND", "SAS", "MIA"],
        "game_status": ["scheduled", "scheduled", "played"]})
    upcoming = pl.DataFrame({"game_date": [TONIGHT] * 25 + [TONIGHT - dt.timedelta(1)] * 3,
                             "team_abbr": ["NYK"] * 9 + ["IND"] * 8 + ["LAL"] * 7 + ["SAS"] + ["BOS"] * 3})
    out = slate_readiness(TONIGHT, schedule, upcoming)
    assert out.select("team_abbr", "opponent_team_abbr", "players", "below_minimum").rows() == [
        ("IND", "NYK", 8, False), ("NYK", "IND", 9, False), ("LAL", "SAS", 7, True), ("SAS", "LAL", 1, True)]


@pytest.mark.real_data
def test_launch_tonight_writes_the_slate_of_eight_teams_and_validate_reports_it(tmp_path, raw_data_dir, capsys,
                                                                                 monkeypatch):
    db = tmp_path / "w.duckdb"
    history = materialize_range("2025-10-21", "2026-02-09", duckdb_path=str(db), raw_dir=str(raw_data_dir),
                                instance=DagsterInstance.ephemeral())
    assert history.success
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_RAW_DATA_DIR": str(raw_data_dir),
           "NBA_PRECOMPUTE_DUCKDB_PATH": str(db)}
    res = subprocess.run([sys.executable, "-m", "nba_precompute.cli", "launch", "2026-02-10"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "note: 2026-02-10 is tonight's slate" in res.stdout
    # the plan on stdout, the run's logs on stderr; no Dagster beta warning (dg launch parses the
    # box-score-free selection with a parameter in beta): errors and the run's lines come first
    assert "dg launch --assets" in res.stdout and "dg launch --assets" not in res.stderr
    assert "BetaWarning" not in res.stderr and "Warning" not in "".join(res.stderr.splitlines(keepends=True)[:5])
    assert "- dagster - INFO -" in res.stderr
    wh = DuckDBWarehouse(str(db))
    mlfs = wh.read(ML_FEATURE_STORE_V2, TONIGHT, TONIGHT)
    assert sorted(mlfs.get_column("team_abbr").unique()) == ["DAL", "HOU", "IND", "LAC", "LAL", "NYK", "PHX", "SAS"]
    upcg = wh.read(UPCOMING_PLAYER_GAME_CONTEXT, TONIGHT, TONIGHT)
    assert mlfs.height == upcg.height and mlfs.group_by("team_abbr").len().get_column("len").min() >= 8
    # the box-score tables of tonight wait for its box scores: no partition, not an empty one
    assert wh.read(PLAYER_GAME_SUMMARY, TONIGHT, TONIGHT).is_empty()
    logged = wh.query(f"SELECT table_name FROM {PARTITION_LOG.qualified_name} WHERE partition_date = ?", [TONIGHT])
    assert PLAYER_GAME_SUMMARY.qualified_name not in logged.get_column("table_name").to_list()
    assert ML_FEATURE_STORE_V2.qualified_name in logged.get_column("table_name").to_list()

    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    assert main(["validate", "2026-02-09", "2026-02-10", "--duckdb-path", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Tonight's slate 2026-02-10: 4 game(s), 8 team(s)" in out
    assert "every scheduled team has at least 8 players" in out


def test_a_schedule_row_of_tonight_for_a_team_that_does_not_exist_is_rejected_and_nothing_is_written(tmp_path,
                                                                                                     raw_data_dir):
    """A schedule row of tonight's slate naming a franchise that does not exist: the run fails with the file,
    line and value, and the warehouse is left as it was."""
    from nba_precompute_tests.raw_copies import HOOPR, _read, _write, season_copy
    from nba_precompute_tests.table_fingerprints import fingerprints

    raw = tmp_path / "raw"
    season_copy(raw_data_dir, raw, 2025, TONIGHT)
    db = tmp_path / "w.duckdb"
    ok = materialize_range("2026-02-09", "2026-02-09", duckdb_path=str(db), raw_dir=str(raw),
                           selection="nba_analytics/nba_schedule", instance=DagsterInstance.ephemeral())
    assert ok.success
    before = fingerprints(str(db))
    path = raw / HOOPR / "schedule.csv.gz"
    sched = _read(path)
    _write(sched.with_columns(pl.when((pl.col("game_date") == str(TONIGHT)) & (pl.col("home_team_tricode") == "NYK"))
                              .then(pl.lit("XYZ")).otherwise(pl.col("home_team_tricode")).alias("home_team_tricode")),
           path)
    bad = materialize_range("2026-02-10", "2026-02-10", duckdb_path=str(db), raw_dir=str(raw),
                            selection="group:phase3_analytics", instance=DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not bad.success
    messages = "\n".join(str(e.event_specific_data.error.cause.message if e.event_specific_data.error.cause else
                             e.event_specific_data.error.message)
                         for e in bad.all_events if e.is_step_failure)
    # the quarantine's line: file, line, rule, value, and the partitions the row blocks (tonight's on)
    assert re.search(r"schedule\.csv\.gz line \d+: rule 'team tricode is an NBA franchise of the season': "
                     r"home_team_tricode = 'XYZ' \(not an NBA franchise tricode in 2025-26\) -> blocks "
                     r"nba_schedule, .* on 2026-02-10", messages), messages
    assert fingerprints(str(db)) == before
