"""Issue 18 through `nba-precompute launch`: a multi-day launch over a night with a quarantined raw row (a
player box-score row written twice, on a copy of two weeks of the real 2024-25 files) writes every partition
that does not read the row, none of those that do, names the row and the blocked partitions, and exits 1."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from nba_precompute.cli import main
from nba_precompute.partitions import game_calendar
from nba_precompute.raw.readers import PLAYER_BOXSCORE_FILE
from nba_precompute.schemas import PHASE3_TABLES, PHASE4_TABLES
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import REPO_ROOT
from nba_precompute_tests.raw_copies import duplicate_player_row, season_copy

D = dt.date
pytestmark = pytest.mark.real_data

FIRST, LAST = D(2024, 10, 22), D(2024, 11, 4)  # 2024-25's opening night and 13 days after it
# the tables whose partition of night D reads D's box scores (and its schedule row); the pre-game tables read
# the nights before their day (the season so far): the night after on; and the warehouse's schedule of their
# own day (which the row blocks on the night): the night on
NIGHT_TABLES = {"nba_analytics.nba_schedule", "nba_analytics.player_game_summary",
                "nba_analytics.team_offense_game_summary", "nba_analytics.team_defense_game_summary"}


def test_launch_runs_around_the_partitions_that_read_a_quarantined_row(tmp_path, monkeypatch, capsys,
                                                                       raw_data_dir):
    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    season_copy(raw_data_dir, raw, 2024, LAST + dt.timedelta(days=1))  # tonight's slate: after LAST
    calendar = game_calendar(raw)
    night = next(d for d in calendar.game_dates if d >= D(2024, 10, 29))
    game, person, _, copy_line = duplicate_player_row(raw, night)
    (tmp_path / "home").mkdir()
    monkeypatch.chdir(REPO_ROOT)
    for name, value in (("NBA_RAW_DATA_DIR", raw), ("NBA_PRECOMPUTE_DUCKDB_PATH", db),
                        ("DAGSTER_HOME", tmp_path / "home")):
        monkeypatch.setenv(name, str(value))

    assert main(["launch", str(FIRST), str(LAST)]) == 1
    out, err = capsys.readouterr()
    assert (f"{raw / PLAYER_BOXSCORE_FILE} line {copy_line}: rule 'one row per player and game': game_id = "
            f"'{game}', person_id = {person}") in out
    assert (f"nba_schedule, player_game_summary, team_defense_game_summary, team_offense_game_summary on {night}; "
            f"upcoming_player_game_context, upcoming_team_game_context, "
            f"player_composite_factors, player_daily_cache, player_shot_zone_analysis, team_defense_zone_analysis, "
            f"ml_feature_store_v2 on {night}..{LAST}") in out
    assert "fix: correct the raw row(s), then run nba-precompute launch 2024-10-22 2024-11-04 again" in out
    # two runs: the nights before (every table), the nights after (the night tables); nothing of the night
    # itself but what reads no blocked partition (its pre-game tables read the schedule of the night)
    launches = [ln for ln in out.splitlines() if "dg launch" in ln]
    assert [ln.split(":")[0] for ln in launches] == [f"{(night - FIRST).days} partition(s)",
                                                     f"{(LAST - night).days} partition(s)"]
    assert "run(s): succeeded" in err and "partition(s) not launched: they read quarantined raw rows" in err

    tables = [t.qualified_name for t in (*PHASE3_TABLES, *PHASE4_TABLES)]
    days = [FIRST + dt.timedelta(days=i) for i in range((LAST - FIRST).days + 1)]
    blocked = ({(t, night) for t in NIGHT_TABLES}
               | {(t, d) for t in tables if t not in NIGHT_TABLES for d in days if d >= night})
    logged = DuckDBWarehouse(str(db)).query(
        "SELECT DISTINCT table_name, partition_date FROM nba_processing.partition_log")
    written = {(t, d) for t, d in logged.iter_rows() if t in tables}  # the tables (not their side tables)
    assert written == set(itertools.product(tables, days)) - blocked
