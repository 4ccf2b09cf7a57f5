"""Issue 18: stat corrections propagate exactly. A warehouse built on a copy of the real raw files, one
legal correction in the copy, and `refresh` rematerialises exactly what depends on the corrected night,
so that the warehouse equals a clean rebuild on the corrected files; `validate` says so in between."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest
from dagster import DagsterInstance, build_sensor_context

from nba_precompute import refresh
from nba_precompute.cli import main as cli_main
from nba_precompute.defs.automation import morning_slate_sensor, stale_runs
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.raw.readers import RawDataError
from nba_precompute.raw.versions import BOX_VERSION_TABLES, PRE_GAME_TABLES, ROSTER_TABLES
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import PHASE4_SELECTION
from nba_precompute_tests.dagster_helpers import execute_refresh_plan
from nba_precompute_tests.raw_copies import HOOPR, _read, _write, correct_made_two, season_copy
from nba_precompute_tests.table_fingerprints import fingerprints

D = dt.date
pytestmark = pytest.mark.real_data

# 2025-26 (no shot chart): Phase 3 from opening night, Phase 4 over the five weeks before 2026-01-28
SEASON, CUTOFF = 2025, D(2026, 1, 28)
PHASE3_RANGE, PHASE4_RANGE = ("2025-10-21", "2026-01-27"), ("2025-12-20", "2026-01-27")
NIGHT = D(2026, 1, 25)
VALIDATE_RANGE = ["2026-01-01", "2026-01-27"]  # clean before the correction (2025-12-24 is not: a report issue)


def build(raw: Path, db: Path, phase3: tuple[str, str], phase4: tuple[str, str]) -> DagsterInstance:
    instance = DagsterInstance.ephemeral()
    for (first, last), selection in ((phase3, "group:phase3_analytics"), (phase4, PHASE4_SELECTION)):
        assert materialize_range(first, last, duckdb_path=str(db), raw_dir=str(raw), selection=selection,
                                 instance=instance).success
    return instance


def copy_built(base: Path, dst: Path) -> tuple[Path, Path]:
    """A private copy of a built warehouse and its raw files (each test mutates its own)."""
    shutil.copytree(base / "raw", dst / "raw")
    for f in base.glob("warehouse.duckdb*"):
        shutil.copy(f, dst / f.name)
    return dst / "raw", dst / "warehouse.duckdb"


@pytest.fixture(scope="module")
def built_2025(tmp_path_factory, raw_data_dir) -> Path:
    base = tmp_path_factory.mktemp("refresh_2025")
    season_copy(raw_data_dir, base / "raw", SEASON, CUTOFF)
    build(base / "raw", base / "warehouse.duckdb", PHASE3_RANGE, PHASE4_RANGE)
    return base


def log_rows(db: Path) -> pl.DataFrame:
    return DuckDBWarehouse(str(db)).query(
        "SELECT table_name, partition_date, run_id, written_at FROM nba_processing.partition_log")


def test_a_correction_refreshes_exactly_what_reads_the_night(built_2025, tmp_path, monkeypatch, capsys):
    raw, db = copy_built(built_2025, tmp_path)
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    wh = DuckDBWarehouse(str(db))
    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    assert cli_main(["validate", *VALIDATE_RANGE, "--duckdb-path", str(db)]) == 0
    capsys.readouterr()
    before_log, before = log_rows(db), fingerprints(str(db))

    game, player = correct_made_two(raw, NIGHT)

    # validate tells: the night, the tables and dates that depend on it, the command
    assert cli_main(["validate", *VALIDATE_RANGE, "--duckdb-path", str(db)]) == 1
    out = capsys.readouterr().out
    assert "Stale partitions" in out and f"night {NIGHT}" in out and "nba-precompute refresh" in out
    assert "2026-01-26..2026-01-27" in out
    # the dry run prints the plan (what, why, the dg launch commands) and writes nothing
    assert cli_main(["refresh", "--dry-run", "--duckdb-path", str(db)]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # the plan is on stdout
    assert f"night {NIGHT}: its raw rows changed" in out
    assert "one run of the refresh job (2 step(s), in order):" in out
    assert "step 1: 4 table(s) x 1 partition(s): nba_schedule, " in out and f"on {NIGHT}\n" in out
    assert "step 2: 7 table(s) x 2 partition(s): " in out and "on 2026-01-26..2026-01-27\n" in out
    assert "dg launch --job nba_refresh --config-json" in out
    assert "dry run: nothing launched" in out
    assert fingerprints(str(db)) == before

    plan = refresh.plan_refresh(wh, raw, game_calendar(raw))
    stale = {(t, d) for t, d in plan.stale.select("table_name", "partition_date").iter_rows()}
    assert stale == ({(t, NIGHT) for t in BOX_VERSION_TABLES}
                     | {(t, d) for t in PRE_GAME_TABLES for d in (D(2026, 1, 26), D(2026, 1, 27))})
    assert plan.changed_nights() == [NIGHT]
    assert [set(tables) for tables, _ in plan.runs] == [set(BOX_VERSION_TABLES), set(PRE_GAME_TABLES)]
    # the morning sensor plans the same steps
    sensor = stale_runs(game_calendar(raw), RawDataResource(directory=str(raw)),
                        WarehouseResource(kind="duckdb", duckdb_path=str(db)), DagsterInstance.ephemeral(), "test")
    assert sensor.note == "" and sensor.steps == plan.runs
    # ... as one run of the refresh job, after the runs of the nights its instance lacks
    with build_sensor_context(instance=DagsterInstance.ephemeral(), resources={
            "raw_data": RawDataResource(directory=str(raw)),
            "warehouse": WarehouseResource(kind="duckdb", duckdb_path=str(db))}) as context:
        requests = morning_slate_sensor(context).run_requests
    assert requests[-1].job_name == "nba_refresh" and requests[-1].run_config == refresh.run_config(plan.runs)
    assert all(r.job_name == "slate_job" for r in requests[:-1])
    # the box-score run alone (as if the pre-game run had failed): the pre-game partitions stay stale
    execute_refresh_plan(refresh.RefreshPlan(plan.stale, plan.runs[:1]), raw, str(db))
    again = refresh.plan_refresh(wh, raw, game_calendar(raw))
    assert {(t, d) for t, d in again.stale.select("table_name", "partition_date").iter_rows()} == {
        (t, d) for t in PRE_GAME_TABLES for d in (D(2026, 1, 26), D(2026, 1, 27))}
    assert "pre-game partition(s)" in "\n".join(refresh.describe(again))
    execute_refresh_plan(again, raw, str(db))

    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    corrected = wh.read(refresh.SPECS["nba_analytics.player_game_summary"], NIGHT, NIGHT).filter(
        pl.col("game_id") == game, pl.col("player_id") == player)
    assert corrected.height == 1
    # partitions whose inputs did not change kept their rows and their partition-log entries
    after_log = log_rows(db)
    untouched = before_log.filter(pl.col("partition_date") < NIGHT)
    assert untouched.join(after_log, on=list(untouched.columns), how="anti").is_empty()
    changed = after_log.join(before_log, on=list(after_log.columns), how="anti")
    assert changed.get_column("partition_date").min() == NIGHT
    # the warehouse equals a clean rebuild on the corrected files, table by table
    clean = tmp_path / "clean.duckdb"
    build(raw, clean, PHASE3_RANGE, PHASE4_RANGE)
    assert fingerprints(str(db)) == fingerprints(str(clean))
    assert fingerprints(str(db)) != before
    assert cli_main(["validate", *VALIDATE_RANGE, "--duckdb-path", str(db)]) == 0


def test_a_file_that_no_longer_parses_refuses_the_refresh(built_2025, tmp_path, monkeypatch, capsys):
    raw, db = copy_built(built_2025, tmp_path)
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    before = fingerprints(str(db))
    path = raw / HOOPR / "player_game_logs1.csv.gz"
    players = _read(path)
    _write(players.with_columns(pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("twelve"))
                                .otherwise(pl.col("points")).alias("points")), path)
    with pytest.raises(RawDataError, match="player_game_logs1.csv.gz"):
        refresh.plan_refresh(DuckDBWarehouse(str(db)), raw, game_calendar(raw))
    assert cli_main(["refresh", "--duckdb-path", str(db)]) == 1
    err = capsys.readouterr().err
    assert "refresh refused, nothing written" in err and "player_game_logs1.csv.gz" in err and "twelve" in err
    assert fingerprints(str(db)) == before


def test_a_night_gone_from_the_files_is_a_loud_missing_dependency(built_2025, tmp_path, monkeypatch, capsys):
    raw, db = copy_built(built_2025, tmp_path)
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    before = fingerprints(str(db))
    gone = D(2026, 1, 20)
    schedule = _read(raw / HOOPR / "schedule.csv.gz")
    ids = schedule.filter(pl.col("game_date").str.to_date() == gone).get_column("game_id_nba").str.zfill(10)
    for name, col in (("player_game_logs1.csv.gz", "game_id_nba"), ("team_game_logs.csv.gz", "game_id")):
        frame = _read(raw / HOOPR / name)
        _write(frame.filter(~pl.col(col).str.zfill(10).is_in(ids.implode())), raw / HOOPR / name)
    with pytest.raises(refresh.MissingNightError, match=f"MISSING_DEPENDENCY.*{gone}.*{ids[0]}"):
        refresh.plan_refresh(DuckDBWarehouse(str(db)), raw, game_calendar(raw))
    assert cli_main(["refresh", "--dry-run", "--duckdb-path", str(db)]) == 1
    assert f"{gone}" in capsys.readouterr().err
    assert cli_main(["validate", *VALIDATE_RANGE, "--duckdb-path", str(db)]) == 1
    # its verdict does not send the user to a refresh that would refuse
    (result,) = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("Result:")]
    assert "fix the raw files first (nba-precompute refresh refuses until then)" in result
    assert fingerprints(str(db)) == before


# ------------------------------------------------------------------ across seasons


def test_a_correction_of_last_seasons_final_night_refreshes_what_the_next_season_reads_of_it(
        tmp_path, raw_data_dir, monkeypatch):
    """2024-25's last night (2025-04-13) corrected: the opening-night rosters of 2025-26 (until every team
    has played) and MLFS's games vs the opponent (365 days) read it, so those partitions of 2025-26 are
    stale; its TDZA, PSZA and team contexts (the season only) are not."""
    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    season_copy(raw_data_dir, raw, (2024, 2025), D(2025, 10, 28))
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    last_night, opening = D(2025, 4, 13), ("2025-10-21", "2025-10-27")

    def build_two(target: Path) -> None:
        instance = DagsterInstance.ephemeral()
        for (first, last), selection in ((("2025-03-31", "2025-04-13"), "group:phase3_analytics"),
                                         (opening, "group:phase3_analytics"), (opening, PHASE4_SELECTION)):
            assert materialize_range(first, last, duckdb_path=str(target), raw_dir=str(raw), selection=selection,
                                     instance=instance).success

    build_two(db)
    wh = DuckDBWarehouse(str(db))
    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    mlfs = refresh.SPECS["nba_predictions.ml_feature_store_v2"]
    mlfs_before = wh.read(mlfs)
    # ATL-ORL, the first game of the night by id; the two teams meet again on 2025-10-24
    game, player = correct_made_two(raw, last_night)

    plan = refresh.plan_refresh(wh, raw, game_calendar(raw))
    assert plan.changed_nights() == [last_night]
    days = [D(2025, 10, 21) + dt.timedelta(days=i) for i in range(7)]
    stale = {(t, d) for t, d in plan.stale.select("table_name", "partition_date").iter_rows()}
    # the roster tables until every team of 2025-26 has played (the last team opens on 2025-10-23), MLFS
    # on every day (its 365 days reach back to 2025-04-13)
    roster_days = [d for d in days if d <= D(2025, 10, 23)]
    assert stale == ({(t, last_night) for t in BOX_VERSION_TABLES} | {(t, d) for t in ROSTER_TABLES for d in roster_days}
                     | {("nba_predictions.ml_feature_store_v2", d) for d in days})
    # each stale partition of 2025-26 names the night it reads
    assert set(plan.stale.filter(pl.col("partition_date") > last_night).get_column("night").to_list()) == {last_night}
    assert f"night {last_night}" in "\n".join(refresh.describe(plan))
    # `refresh --season 2025-26` refreshes the same: the 2024-25 night's box-score tables too, which the
    # 2025-26 partitions read from the warehouse (else they would be recomputed from the old rows)
    calendar = game_calendar(raw)
    season = refresh.plan_refresh(wh, raw, calendar, refresh.season_days(calendar, "2025-26"))
    assert season.stale.equals(plan.stale) and season.runs == plan.runs
    execute_refresh_plan(season, raw, str(db))
    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    clean = tmp_path / "clean.duckdb"
    build_two(clean)
    assert fingerprints(str(db)) == fingerprints(str(clean))
    # the corrected points reached 2025-26: his average against ORL/ATL over the last 365 days
    volatile = ("processed_at", "created_at", "run_id", "feature_hash")
    after, before = wh.read(mlfs).drop(volatile, strict=False), mlfs_before.drop(volatile, strict=False)
    changed = after.join(before, on=after.columns, how="anti", nulls_equal=True)
    assert set(changed.get_column("player_id").to_list()) == {player}, changed


# ------------------------------------------------------------------ a season with a shot chart


def shots_copy(src: Path, dst: Path, end_year: int, before: dt.date) -> None:
    """The shot chart of a season into the copy ``dst``, the shots of the games before ``before`` only
    (the copy's box scores stop there)."""
    name = f"NBA_{end_year}_Shots.csv"
    with zipfile.ZipFile(src / "shots" / f"{name}.zip") as zf:
        shots = pl.read_csv(zf.read(name), infer_schema=False)
    write_shots(shots.filter(pl.col("GAME_DATE").str.to_date("%m-%d-%Y") < before), dst, end_year)


def write_shots(shots: pl.DataFrame, dst: Path, end_year: int) -> None:
    name = f"NBA_{end_year}_Shots.csv"
    (dst / "shots").mkdir(exist_ok=True)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), shots.write_csv())
    (dst / "shots" / f"{name}.zip").write_bytes(buf.getvalue())


def read_shots(dst: Path, end_year: int) -> pl.DataFrame:
    name = f"NBA_{end_year}_Shots.csv"
    with zipfile.ZipFile(dst / "shots" / f"{name}.zip") as zf:
        return pl.read_csv(zf.read(name), infer_schema=False)


def test_a_shot_moved_to_another_zone_refreshes_the_zone_tables(tmp_path, raw_data_dir, monkeypatch):
    raw, db, cutoff = tmp_path / "raw", tmp_path / "warehouse.duckdb", D(2022, 11, 21)
    season_copy(raw_data_dir, raw, 2022, cutoff)
    shots_copy(raw_data_dir, raw, 2023, cutoff)
    build(raw, db, ("2022-10-18", "2022-11-20"), ("2022-11-10", "2022-11-20"))
    wh = DuckDBWarehouse(str(db))
    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    psza_before = wh.read(refresh.SPECS["nba_precompute.player_shot_zone_analysis"])

    # a mid-range two of 2022-11-07 by the busiest shooter of the night with one, moved into the paint
    night = D(2022, 11, 7)
    shots = read_shots(raw, 2023)
    on_night = shots.with_row_index("i").filter(pl.col("GAME_DATE").str.to_date("%m-%d-%Y") == night)
    mid = on_night.filter(pl.col("BASIC_ZONE") == "Mid-Range", pl.col("SHOT_TYPE") == "2PT Field Goal")
    busiest = on_night.filter(pl.col("PLAYER_ID").is_in(mid.get_column("PLAYER_ID").implode())).group_by(
        "PLAYER_ID").len().sort("len", "PLAYER_ID", descending=True).item(0, "PLAYER_ID")
    row = mid.filter(pl.col("PLAYER_ID") == busiest).item(0, "i")
    moved = pl.int_range(pl.len()) == row
    write_shots(shots.with_columns(
        pl.when(moved).then(pl.lit("In The Paint (Non-RA)")).otherwise(pl.col("BASIC_ZONE")).alias("BASIC_ZONE"),
        pl.when(moved).then(pl.lit("Center")).otherwise(pl.col("ZONE_NAME")).alias("ZONE_NAME")), raw, 2023)

    plan = refresh.plan_refresh(wh, raw, game_calendar(raw))
    assert plan.changed_nights() == [night]
    stale = plan.stale
    for table in ("team_defense_zone_analysis", "player_shot_zone_analysis", "player_composite_factors",
                  "ml_feature_store_v2"):
        days = stale.filter(pl.col("table_name").str.ends_with(table)).get_column("partition_date").sort().to_list()
        assert days == [D(2022, 11, d) for d in range(10, 21)], table
    assert stale.get_column("partition_date").min() == night
    assert stale.filter(pl.col("partition_date") == night).get_column("table_name").sort().to_list() == sorted(
        BOX_VERSION_TABLES)
    result = execute_refresh_plan(plan, raw, str(db))
    # one run: every stale partition written by it (partition log), reported as materialised by it, and
    # each Phase 4 partition checked in it (four checks), nothing else
    keys = ["table_name", "partition_date"]
    written = log_rows(db).join(stale.select(keys), on=keys)
    assert written.height == stale.height and written.get_column("run_id").unique().to_list() == [result.run_id]
    reported = {(tuple(e.asset_key.path), e.partition) for e in result.get_asset_materialization_events()}
    assert reported == {(tuple(refresh.SPECS[t].asset_key_path), d.isoformat()) for t, d in stale.select(keys).iter_rows()}
    phase4 = stale.filter(pl.col("table_name").str.starts_with("nba_pre"))
    assert len(result.get_asset_check_evaluations()) == 4 * phase4.height
    assert refresh.plan_refresh(wh, raw, game_calendar(raw)).up_to_date
    clean = tmp_path / "clean.duckdb"
    build(raw, clean, ("2022-10-18", "2022-11-20"), ("2022-11-10", "2022-11-20"))
    assert fingerprints(str(db)) == fingerprints(str(clean))
    psza_after = wh.read(refresh.SPECS["nba_precompute.player_shot_zone_analysis"])
    volatile = ("processed_at", "created_at", "run_id")
    after, before = psza_after.drop(volatile, strict=False), psza_before.drop(volatile, strict=False)
    changed = after.join(before, on=after.columns, how="anti", nulls_equal=True)
    # the moved shot changed PSZA rows of its shooter, and of nobody else
    assert changed.height > 0 and set(changed.get_column("player_id").to_list()) == {int(busiest)}, changed



def test_a_correction_next_to_a_quarantined_row_asks_for_the_raw_fix_first(built_2025, tmp_path, monkeypatch,
                                                                            capsys):
    """A correction (stale partitions) and, on another night, a box-score row written twice (quarantined):
    `refresh` refuses naming the row and writes nothing; `validate` lists both and its verdict asks for the
    raw fix before the refresh."""
    from nba_precompute_tests.raw_copies import duplicate_player_row

    raw, db = copy_built(built_2025, tmp_path)
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    before = fingerprints(str(db))
    correct_made_two(raw, NIGHT)
    _, _, _, line = duplicate_player_row(raw, D(2026, 1, 20))
    assert cli_main(["refresh", "--duckdb-path", str(db)]) == 1
    err = capsys.readouterr().err
    assert "refresh refused, nothing written" in err and f"line {line}" in err
    assert fingerprints(str(db)) == before
    assert cli_main(["validate", *VALIDATE_RANGE, "--duckdb-path", str(db)]) == 1
    out = capsys.readouterr().out
    assert "Stale partitions" in out and "Quarantined raw rows" in out
    (result,) = [ln for ln in out.splitlines() if ln.startswith("Result:")]
    assert result == ("Result: PROBLEMS FOUND (exit 1): stale partitions and quarantined raw rows (see above); fix the "
                      "raw files first (nba-precompute refresh refuses until then), then: nba-precompute refresh")
