"""Issue 18, "a bad row blocks only what reads it": a raw row that breaks a domain rule refuses exactly the
partitions whose inputs contain it (loudly, naming file, line, rule, value and the partitions), every other
partition runs, and a refused partition is not written. On a copy of the real 2024-25 and 2025-26 files
with one player box-score row of a November 2024 game written twice."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance

from nba_precompute.cli import main as cli_main
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.raw.inputs import RawInputs
from nba_precompute.raw.readers import PLAYER_BOXSCORE_FILE, RawDataError
from nba_precompute.raw.versions import BOX_VERSION_TABLES
from nba_precompute.refresh import SPECS
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.raw_copies import duplicate_player_row, seasons_copy

D = dt.date
pytestmark = pytest.mark.real_data

TONIGHT = D(2026, 2, 10)  # the copy's box scores end the night before
PHASE3 = "group:phase3_analytics"
PGS, UPCOMING_PLAYER, UPCOMING_TEAM = ("nba_analytics.player_game_summary", "nba_analytics.upcoming_player_game_context",
                                       "nba_analytics.upcoming_team_game_context")
TDZA, PCF, MLFS = ("nba_precompute.team_defense_zone_analysis", "nba_precompute.player_composite_factors",
                   "nba_predictions.ml_feature_store_v2")


@pytest.fixture(scope="module")
def two_seasons(tmp_path_factory, raw_data_dir) -> Path:
    raw = tmp_path_factory.mktemp("quarantine") / "raw"
    seasons_copy(raw_data_dir, raw, [2024, 2025], TONIGHT)
    return raw


def partition_state(db: Path, table_name: str, day: dt.date) -> tuple[pl.DataFrame, ...]:
    """Every column of the table's rows on ``day`` (run bookkeeping included), its partition-log entry and its
    stored input version."""
    spec = SPECS[table_name]
    wh = DuckDBWarehouse(str(db))
    rows = wh.query(f"SELECT * FROM {table_name} WHERE {spec.partition_column} = DATE '{day}' ORDER BY ALL")
    log = wh.query(f"SELECT * FROM nba_processing.partition_log WHERE table_name = '{table_name}' "
                   f"AND partition_date = DATE '{day}' ORDER BY ALL")
    version = wh.query(f"SELECT * FROM nba_processing.input_versions WHERE table_name = '{table_name}' "
                       f"AND partition_date = DATE '{day}'")
    return rows, log, version


def failures(result) -> dict[str, str]:
    out = {}
    for e in result.all_events:
        if e.event_type_value == "STEP_FAILURE":
            err, text = e.event_specific_data.error, []
            while err is not None:
                text.append(err.message)
                err = err.cause
            out[e.step_key] = " ".join(text)
    return out


def steps(result, kind: str) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == kind}


def test_a_duplicated_2024_25_row_refuses_only_the_partitions_that_read_it(two_seasons, tmp_path, monkeypatch,
                                                                           capsys):
    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    shutil.copytree(two_seasons, raw)
    calendar = game_calendar(raw)
    night = next(d for d in calendar.game_dates if d >= D(2024, 11, 12))
    later = next(d for d in calendar.game_dates if d >= night + dt.timedelta(days=7))
    instance = DagsterInstance.ephemeral()
    assert materialize_range(str(later), str(later), duckdb_path=str(db), raw_dir=str(raw), selection=PHASE3,
                             instance=instance).success
    before = {t: partition_state(db, t, later) for t in (*BOX_VERSION_TABLES, UPCOMING_PLAYER, UPCOMING_TEAM)}

    game, person, line, copy_line = duplicate_player_row(raw, night)
    row = (f"{raw / PLAYER_BOXSCORE_FILE} line {copy_line}: rule 'one row per player and game': game_id = "
           f"'{game}', person_id = {person} (on lines {line}, {copy_line}) -> blocks ")

    # which partitions read the row: the night's box-score tables, the later pre-game days of 2024-25, and
    # across the boundary 2025-26's first days (previous-season rosters) and MLFS up to 365 days after it
    inputs = RawInputs(raw, calendar.seasons)
    refused = inputs.refuse(PGS, [night])
    assert refused is not None and row in refused
    assert f"{night}" in refused and "upcoming_player_game_context, " in refused
    assert inputs.refuse(PGS, [later]) is None
    assert inputs.refuse(UPCOMING_PLAYER, [night]) is None  # a box-score row is not read by its own night's pre-game
    assert inputs.refuse(UPCOMING_PLAYER, [night + dt.timedelta(days=1)]) is not None
    opening_2025 = calendar.season_range(2025)[0]
    assert inputs.refuse(PCF, [opening_2025 + dt.timedelta(days=1)]) is not None  # roster of the previous season
    assert inputs.refuse(TDZA, [opening_2025 + dt.timedelta(days=1)]) is None  # this season only
    assert inputs.refuse(MLFS, [night + dt.timedelta(days=365)]) is not None  # [D - 365, D) holds the night
    assert inputs.refuse(MLFS, [night + dt.timedelta(days=366)]) is None
    for table in (PGS, UPCOMING_PLAYER, TDZA, PCF, MLFS):
        assert inputs.refuse(table, [TONIGHT - dt.timedelta(days=1), TONIGHT]) is None
    with pytest.raises(RawDataError, match="one row per player and game"):
        inputs.require_valid(night, later)  # what nba-precompute refresh asks: refused, with the row
    inputs.require_valid(D(2025, 12, 1), TONIGHT)

    # a 2024-25 run of a later date: its box-score partitions run; its pre-game partitions are refused,
    # loudly, and stay as they were
    bad = materialize_range(str(later), str(later), duckdb_path=str(db), raw_dir=str(raw), selection=PHASE3,
                            instance=instance, raise_on_error=False)
    assert not bad.success
    failed = failures(bad)
    assert set(failed) == {"nba_analytics__upcoming_player_game_context", "nba_analytics__upcoming_team_game_context"}
    span_end_2024 = calendar.seasons.filter(pl.col("season_year") == 2024).item(0, "span_end")
    for message in failed.values():
        assert "1 of the run's 1 partition(s)" in message and "quarantined; nothing of this step was written" in message
        assert row in message, message
        # every partition the row blocks: the night, the rest of 2024-25, and 2025-26 through the 365 days
        assert (f"blocks nba_schedule, player_game_summary, team_defense_game_summary, team_offense_game_summary "
                f"on {night}; ") in message
        assert (f"upcoming_team_game_context, player_shot_zone_analysis, team_defense_zone_analysis on "
                f"{night + dt.timedelta(days=1)}..{span_end_2024}; ") in message
        assert f"ml_feature_store_v2 on {night + dt.timedelta(days=1)}..{night + dt.timedelta(days=365)}" in message
    assert steps(bad, "STEP_SUCCESS") == {f"nba_analytics__{t.split('.')[1]}" for t in BOX_VERSION_TABLES}
    for table, state in before.items():
        after = partition_state(db, table, later)
        if table in BOX_VERSION_TABLES:  # rewritten by this run: a new run id in the partition log
            assert after[1].get_column("run_id").to_list() != state[1].get_column("run_id").to_list()
        else:  # refused: rows, partition log and input version exactly as before
            assert all(a.equals(b) for a, b in zip(after, state, strict=True)), table

    # a 2025-26 run: nothing of it reads the row
    ok = materialize_range(str(TONIGHT - dt.timedelta(days=1)), str(TONIGHT - dt.timedelta(days=1)),
                           duckdb_path=str(db), raw_dir=str(raw), selection=PHASE3, instance=instance)
    assert ok.success

    # validate lists the quarantined rows and the partitions they block
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    assert cli_main(["validate", "--season", "2024-25", "--duckdb-path", str(db)]) == 1
    out = capsys.readouterr().out
    assert "Quarantined raw rows (3; each breaks a domain rule" in out
    assert f"  {row}" in out
    assert "rule 'the team's player rows add up to its team log'" in out
