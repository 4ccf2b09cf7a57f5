"""Bad input through Dagster and the CLI: a clear message naming the problem, nothing half-written."""

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dagster import DagsterInstance

from nba_precompute.pipeline import materialize_range
from nba_precompute.raw import readers
from nba_precompute.schemas import PLAYER_GAME_SUMMARY
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import REPO_ROOT


def _raw_copy(src, dst):
    for rel in (readers.SCHEDULE_FILE, readers.PLAYER_BOXSCORE_FILE, readers.TEAM_GAME_LOG_FILE,
                readers.SHOTS_FILE.format(end_year=2023)):
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink((src / rel).resolve(), dst / rel)
    return dst


def _failure_messages(result):
    """Messages of every step failure, with their causes (the user-code exception)."""
    out = []
    for e in result.all_events:
        if e.event_type_value == "STEP_FAILURE":
            err = e.event_specific_data.error
            while err is not None:
                out.append(err.message)
                err = err.cause
    return " ".join(out)


def test_truncated_raw_file_fails_the_run_naming_the_file_and_keeps_old_partitions(tmp_path, raw_data_dir):
    raw = _raw_copy(raw_data_dir, tmp_path / "raw")
    db = str(tmp_path / "w.duckdb")
    ok = materialize_range("2022-10-18", "2022-10-19", duckdb_path=db, raw_dir=str(raw),
                           selection="nba_analytics/player_game_summary", instance=DagsterInstance.ephemeral())
    assert ok.success
    before = DuckDBWarehouse(db).read(PLAYER_GAME_SUMMARY)
    # truncate the box scores
    target = raw / readers.PLAYER_BOXSCORE_FILE
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data[: len(data) // 2])
    bad = materialize_range("2022-10-18", "2022-10-19", duckdb_path=db, raw_dir=str(raw),
                            selection="nba_analytics/player_game_summary", instance=DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not bad.success
    msg = _failure_messages(bad)
    assert "player_game_logs1.csv.gz" in msg and "truncated or corrupt" in msg
    after = DuckDBWarehouse(db).read(PLAYER_GAME_SUMMARY)
    assert after.drop("processed_at").equals(before.drop("processed_at"))


def test_missing_raw_file_names_it(tmp_path, raw_data_dir):
    raw = _raw_copy(raw_data_dir, tmp_path / "raw")
    (raw / readers.SHOTS_FILE.format(end_year=2023)).unlink()
    bad = materialize_range("2022-10-18", "2022-10-18", duckdb_path=str(tmp_path / "w.duckdb"), raw_dir=str(raw),
                            selection="nba_analytics/team_defense_game_summary",
                            instance=DagsterInstance.ephemeral(), raise_on_error=False)
    assert not bad.success
    assert "NBA_2023_Shots.csv.zip: raw file not found" in _failure_messages(bad)


def _cli(command, tmp_path, raw_dir):
    """Run a console command from the repository root (where `.env` and `.dagster_home` are), with its own
    instance and warehouse file."""
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path / "home"), "NBA_RAW_DATA_DIR": str(Path(raw_dir).resolve()),
           "NBA_PRECOMPUTE_DUCKDB_PATH": str(tmp_path / "w.duckdb")}
    (tmp_path / "home").mkdir(exist_ok=True)
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", tmp_path / "home" / "dagster.yaml")
    # nba-precompute: this checkout's program (the installed script runs the last `pip install -e`'s entry point)
    exe = ([sys.executable, "-m", "nba_precompute.cli"] if command[0] == "nba-precompute"
           else [shutil.which(command[0], path=os.path.dirname(sys.executable)) or command[0]])
    return subprocess.run([*exe, *command[1:]], capture_output=True, text=True, env=env, timeout=600, cwd=REPO_ROOT)


def test_cli_date_the_data_cannot_serve_is_one_line_before_anything_runs(tmp_path, raw_data_dir):
    res = _cli(["nba-precompute", "launch", "2021-12-01"], tmp_path, raw_data_dir)  # 2021-22: not in the data
    assert res.returncode == 2
    assert res.stderr.strip() == ("error: 2021-12-01: no season of the raw data covers this day (2020-21 ends "
                                  "2021-05-16, 2022-23 opens 2022-10-18; the seasons in between are not in the raw data)")
    assert not (tmp_path / "w.duckdb").exists()
    # Dagster's own CLI runs it, and the asset refuses it in one line before reading or writing anything
    res = _cli(["dg", "launch", "--assets", "nba_analytics/nba_schedule", "--partition", "2021-12-01"], tmp_path,
               raw_data_dir)
    assert res.returncode != 0
    assert "nba_analytics/nba_schedule: 2021-12-01: no season of the raw data covers this day" in res.stderr + res.stdout
    wh = tmp_path / "w.duckdb"
    if wh.exists():  # the schema may be set up; no partition is written
        from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
        assert DuckDBWarehouse(str(wh)).query("SELECT count(*) AS n FROM nba_processing.partition_log").item() == 0


def test_tonights_box_scores_are_refused_until_they_arrive(tmp_path, raw_data_dir):
    res = _cli(["dg", "launch", "--assets", "nba_analytics/player_game_summary", "--partition", "2026-02-10"],
               tmp_path, raw_data_dir)
    assert res.returncode != 0
    assert ("nba_analytics/player_game_summary: the box scores of 2026-02-10 are not in the raw data yet (4 game(s): "
            "0022500771, 0022500772, 0022500773, 0022500774)") in res.stderr + res.stdout


@pytest.mark.real_data
def test_cli_launch_materialises_every_asset_and_prints_summaries(tmp_path, raw_data_dir):
    res = _cli(["nba-precompute", "launch", "2022-10-18", "2022-10-20"], tmp_path, raw_data_dir)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "dg launch --assets '*' --partition-range 2022-10-18...2022-10-20" in res.stdout  # the plan: stdout
    # the project's log level: one summary line per asset and check step, no DEBUG event lines
    assert " - DEBUG - " not in res.stderr + res.stdout
    assert "nba_precompute.player_shot_zone_analysis: wrote 0 rows for 2022-10-18..2022-10-20" in res.stderr
    assert "3 partition(s) 2022-10-18...2022-10-20 in 1 run(s): succeeded" in res.stderr
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    assert wh.read(PLAYER_GAME_SUMMARY).get_column("game_date").n_unique() == 3


def test_a_run_that_fails_before_writing_leaves_no_warehouse_file(tmp_path, raw_data_dir):
    """The run's DuckDB connection opens on the first read or write of the warehouse: a truncated raw
    file fails Phase 3 before that, and no empty DuckDB file is left behind."""
    raw = _raw_copy(raw_data_dir, tmp_path / "raw")
    target = raw / readers.SCHEDULE_FILE
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data[: len(data) // 3])
    db = tmp_path / "w.duckdb"
    bad = materialize_range("2022-10-18", "2022-10-19", duckdb_path=str(db), raw_dir=str(raw),
                            selection="group:phase3_analytics", instance=DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not bad.success
    assert "schedule.csv.gz" in _failure_messages(bad)
    assert not db.exists()


def test_a_broken_2020_21_file_fails_only_the_runs_that_read_it(tmp_path, raw_data_dir):
    """The 2020-21 source is read only by runs that touch 2020-21: a truncated 2020-21 player log leaves a
    2022-23 run alone, and fails a 2020-21 run naming the file, with nothing written."""
    from nba_precompute.raw import season_2020

    raw = _raw_copy(raw_data_dir, tmp_path / "raw")
    for rel in (season_2020.TEAM_LOG_FILE, season_2020.SHOTS_FILE):
        (raw / rel).parent.mkdir(parents=True, exist_ok=True)
        os.symlink((raw_data_dir / rel).resolve(), raw / rel)
    text = (raw_data_dir / season_2020.PLAYER_LOG_FILE).read_text()
    (raw / season_2020.PLAYER_LOG_FILE).write_text(text[: len(text) // 2])
    db = str(tmp_path / "w.duckdb")
    ok = materialize_range("2022-10-18", "2022-10-19", duckdb_path=db, raw_dir=str(raw),
                           selection="group:phase3_analytics", instance=DagsterInstance.ephemeral())
    assert ok.success
    before = DuckDBWarehouse(db).read(PLAYER_GAME_SUMMARY)
    bad = materialize_range("2020-12-22", "2020-12-23", duckdb_path=db, raw_dir=str(raw),
                            selection="group:phase3_analytics", instance=DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not bad.success
    assert "player_game_logs_2020-21.csv" in _failure_messages(bad)
    after = DuckDBWarehouse(db).read(PLAYER_GAME_SUMMARY)
    assert after.drop("processed_at").equals(before.drop("processed_at"))
    assert DuckDBWarehouse(db).partition_log(PLAYER_GAME_SUMMARY, dt.date(2020, 12, 22), dt.date(2020, 12, 23)).is_empty()
