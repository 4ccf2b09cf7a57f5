"""True failures: MISSING_DEPENDENCY (a game date left out upstream) and PROCESSING_ERROR (an injected
out-of-range value) fail their blocking checks with ERROR, name what is missing or invalid, and stop
the downstream asset of the run."""

import dataclasses

import polars as pl
import pytest
from dagster import AssetCheckSeverity, AssetKey, AssetSelection, DagsterInstance, materialize
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from nba_precompute.defs.phase4.checks import MINIMUM_GAMES, UPSTREAM_COMPLETE, VALID_VALUES
from nba_precompute.defs.phase4.factory import build_phase4_asset
from nba_precompute.defs.phase4.tables import PSZA
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import daily_partitions
from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, materialize_range
from nba_precompute.transforms import psza
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import DEC_END
from nba_precompute_tests.dagster_helpers import (
    PSZA_KEY,
    TDZA_KEY,
    assets_and_checks,
    check_records,
    checks_def,
    copy_warehouse,
    downstream_of_psza,
    evaluation,
    latest_by_partition,
)

LEFT_OUT = "2022-10-20"  # a game date of the first week, never materialised upstream
PHASE4_DAYS = ["2022-10-22", "2022-10-23"]


def _run(db, raw_dir, instance, start, end, selection):
    return materialize(
        [*assets_and_checks(), downstream_of_psza], selection=selection, instance=instance,
        resources={"warehouse": WarehouseResource(duckdb_path=db),
                   "raw_data": RawDataResource(directory=str(raw_dir))},
        tags={ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end},
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def gap_run(tmp_path_factory, raw_data_dir):
    """The schedule over opening night..10-23, the other Phase 3 tables over the same days except 10-20;
    then Phase 4 + a downstream asset over 10-22..10-23."""
    db = str(tmp_path_factory.mktemp("gap") / "warehouse.duckdb")
    instance = DagsterInstance.ephemeral()
    schedule = AssetSelection.assets(["nba_analytics", "nba_schedule"])
    assert materialize_range("2022-10-18", "2022-10-23", duckdb_path=db, raw_dir=str(raw_data_dir),
                             selection=schedule, instance=instance).success
    for start, end in (("2022-10-18", "2022-10-19"), ("2022-10-21", "2022-10-23")):
        assert materialize_range(start, end, duckdb_path=db, raw_dir=str(raw_data_dir),
                                 selection=AssetSelection.groups("phase3_analytics") - schedule,
                                 instance=instance).success
    selection = AssetSelection.groups("phase4_precompute") | AssetSelection.assets(downstream_of_psza)
    result = _run(db, raw_data_dir, instance, PHASE4_DAYS[0], PHASE4_DAYS[-1], selection)
    return result, instance, DuckDBWarehouse(db)


def test_upstream_complete_fails_with_error_naming_the_missing_partition(gap_run):
    result, instance, _ = gap_run
    assert not result.success
    for key in (PSZA_KEY, TDZA_KEY):
        latest = latest_by_partition(instance, key, UPSTREAM_COMPLETE)
        assert sorted(latest) == PHASE4_DAYS
        for day in PHASE4_DAYS:
            ev = evaluation(latest[day])
            assert latest[day].status == Status.FAILED
            assert not ev.passed and ev.severity == AssetCheckSeverity.ERROR and ev.blocking
            assert ev.metadata["status"].value == "MISSING_DEPENDENCY"
            assert any(LEFT_OUT in text for text in ev.metadata["missing_partitions"].value)
            assert ev.metadata["missing_dependency_entities"].value > 0
            assert ev.metadata["affected_entities_sample"].value
        # the other checks still report their own category, one result per day
        assert {evaluation(r).passed for r in check_records(instance, key, VALID_VALUES)} == {True}
        assert len(check_records(instance, key, MINIMUM_GAMES)) == len(PHASE4_DAYS)


def test_missing_dependency_blocks_the_downstream_asset(gap_run):
    result, _, _ = gap_run
    assert not [e for e in result.get_asset_materialization_events() if e.asset_key == downstream_of_psza.key]
    failed_steps = {e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"}
    assert {"player_shot_zone_analysis_checks", "team_defense_zone_analysis_checks"} <= failed_steps


def test_failure_rows_name_the_affected_entities(gap_run):
    _, _, wh = gap_run
    f = wh.query("SELECT * FROM nba_processing.precompute_failures WHERE failure_category = 'MISSING_DEPENDENCY'")
    assert f.get_column("is_failure").all()
    date_level = f.filter(pl.col("entity_id") == "DATE_LEVEL")
    assert date_level.get_column("reason").str.contains(LEFT_OUT).all()
    # one row per day and upstream (the partition log's, with the command that fixes it), not a second
    # one from the transform's own look at the scheduled games
    upstream = pl.col("entity_name").str.replace(r" \(.*\)$", "")
    assert date_level.group_by("processor", "analysis_date", upstream).len().get_column("len").max() == 1
    assert date_level.get_column("entity_name").str.ends_with("(partitions)").all()
    teams = f.filter((pl.col("processor") == "team_defense_zone_analysis") & (pl.col("entity_type") == "team"))
    # the teams that played on the left-out date are named on every later day
    played = wh.query("SELECT home_team_abbr, away_team_abbr FROM nba_analytics.nba_schedule "
                      f"WHERE game_date = DATE '{LEFT_OUT}' AND game_id LIKE '002%'")
    expected = set(played.get_column("home_team_abbr")) | set(played.get_column("away_team_abbr"))
    for day in PHASE4_DAYS:
        named = set(teams.filter(pl.col("analysis_date").cast(pl.String) == day).get_column("entity_id"))
        assert named == expected
    players = f.filter((pl.col("processor") == "player_shot_zone_analysis") & (pl.col("entity_type") == "player"))
    assert players.height > 0 and players.get_column("reason").str.contains("missing from player_game_summary").all()


def test_processing_error_withholds_the_row_and_blocks(december_warehouse, raw_data_dir, tmp_path):
    """An out-of-range value injected into one PSZA row: the row is not written, a PROCESSING_ERROR row
    names the player, valid_values fails with ERROR and the downstream asset does not run."""
    db = copy_warehouse(december_warehouse.path, tmp_path)
    real = psza.build_player_shot_zone_analysis

    def corrupted(*args, **kwargs):
        rows, failures = real(*args, **kwargs)
        victim = rows.get_column("player_id").min()
        return rows.with_columns(pl.when(pl.col("player_id") == victim).then(1.7)
                                 .otherwise(pl.col("paint_rate_last_10")).alias("paint_rate_last_10")), failures

    psza_asset = build_phase4_asset(dataclasses.replace(PSZA, transform=corrupted), daily_partitions(), "duckdb")
    instance = DagsterInstance.ephemeral()
    psza_checks = checks_def(PSZA_KEY)
    result = materialize(
        [psza_asset, psza_checks, downstream_of_psza], instance=instance, raise_on_error=False,
        resources={"warehouse": WarehouseResource(duckdb_path=db),
                   "raw_data": RawDataResource(directory=str(raw_data_dir))},
        tags={ASSET_PARTITION_RANGE_START_TAG: DEC_END, ASSET_PARTITION_RANGE_END_TAG: DEC_END})
    assert not result.success
    wh = DuckDBWarehouse(db)
    pe = wh.query("SELECT * FROM nba_processing.precompute_failures WHERE failure_category = 'PROCESSING_ERROR'")
    assert pe.height == 1 and pe.item(0, "is_failure")
    victim = pe.item(0, "entity_id")
    assert "paint_rate_last_10 = 1.7 outside" in pe.item(0, "reason")
    written = wh.query(f"SELECT count(*) AS n FROM nba_precompute.player_shot_zone_analysis "
                       f"WHERE analysis_date = DATE '{DEC_END}' AND player_id = {int(victim)}")
    assert written.item() == 0
    (rec,) = check_records(instance, PSZA_KEY, VALID_VALUES)
    ev = evaluation(rec)
    assert rec.partition == DEC_END and rec.status == Status.FAILED
    assert ev.severity == AssetCheckSeverity.ERROR and ev.blocking
    assert ev.metadata["status"].value == "PROCESSING_ERROR" and ev.metadata["processing_errors"].value == 1
    assert victim in ev.metadata["samples"].value[0]
    assert not [e for e in result.get_asset_materialization_events() if e.asset_key == downstream_of_psza.key]
    assert {evaluation(r).passed for r in check_records(instance, PSZA_KEY, UPSTREAM_COMPLETE)} == {True}


HOLE = "2022-11-02"  # a history day of the December week, deleted from player_game_summary behind our back


@pytest.fixture(scope="module")
def hole_run(december_warehouse, raw_data_dir, tmp_path_factory):
    """A copy of the December warehouse whose player_game_summary lost every row of HOLE (its partition
    log row stays, as after a hand-written DELETE); then PCF alone and MLFS alone over 12-15..12-16, as
    the adversary ran them."""
    import duckdb

    db = copy_warehouse(december_warehouse.path, tmp_path_factory.mktemp("hole"))
    con = duckdb.connect(db)
    played = con.execute("SELECT DISTINCT team_abbr FROM nba_analytics.player_game_summary "
                         f"WHERE game_date = DATE '{HOLE}'").fetchall()
    con.execute(f"DELETE FROM nba_analytics.player_game_summary WHERE game_date = DATE '{HOLE}'")
    before = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("nba_precompute.player_composite_factors", "nba_predictions.ml_feature_store_v2")}
    con.close()
    instance = DagsterInstance.ephemeral()
    runs = [_run(db, raw_data_dir, instance, "2022-12-15", DEC_END, AssetSelection.assets(key))
            for key in (["nba_precompute", "player_composite_factors"], ["nba_predictions", "ml_feature_store_v2"])]
    return runs, instance, DuckDBWarehouse(db), {t for (t,) in played}, before


def test_a_phase3_hole_is_a_missing_dependency_of_pcf_and_mlfs(hole_run):
    runs, instance, wh, hole_teams, _ = hole_run
    assert hole_teams and not any(r.success for r in runs)  # loud: both runs fail
    for processor, key in (("player_composite_factors", ["nba_precompute", "player_composite_factors"]),
                           ("ml_feature_store_v2", ["nba_predictions", "ml_feature_store_v2"])):
        f = wh.query("SELECT * FROM nba_processing.precompute_failures WHERE processor = ? "
                     "AND failure_category = 'MISSING_DEPENDENCY'", [processor])
        date_level = f.filter(pl.col("entity_id") == "DATE_LEVEL")
        assert sorted(date_level.get_column("analysis_date").cast(pl.String)) == ["2022-12-15", DEC_END]
        reason = date_level.item(0, "reason")
        # found in the data: the partition log still says the day is there
        assert f"{HOLE}: 0 rows, the partition log says" in reason
        assert f"dg launch --assets 'nba_analytics/player_game_summary' --partition {HOLE}" in reason
        # the players of the teams that played on HOLE are withheld, each named with the reason
        held = f.filter(pl.col("entity_type") == "player")
        assert held.height > 0 and held.get_column("reason").str.contains("missing from nba_analytics.player_game_summary").all()
        written = wh.query(f"SELECT DISTINCT team_abbr FROM {'.'.join(key)} WHERE "
                           f"{'game_date'} BETWEEN DATE '2022-12-15' AND DATE '{DEC_END}'")
        assert not set(written.get_column("team_abbr")) & hole_teams  # no row of an affected team
        latest = latest_by_partition(instance, AssetKey(key), UPSTREAM_COMPLETE)
        assert {latest[d].status for d in ("2022-12-15", DEC_END)} == {Status.FAILED}


def test_rows_of_unaffected_teams_are_still_written(hole_run):
    _, _, wh, hole_teams, before = hole_run
    pcf = wh.query("SELECT team_abbr, count(*) AS n FROM nba_precompute.player_composite_factors "
                   f"WHERE game_date BETWEEN DATE '2022-12-15' AND DATE '{DEC_END}' GROUP BY 1")
    assert pcf.height > 0 and not set(pcf.get_column("team_abbr")) & hole_teams
