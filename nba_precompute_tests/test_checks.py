"""Asset checks of the Phase 4 assets: one evaluation per check per daily partition of a range run,
re-runs of the same range, WARN / pass paths with their metadata, and the UI's partition view."""


import dataclasses

import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    materialize,
)
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from nba_precompute.defs.phase4.checks import (
    CHECK_NAMES,
    MINIMUM_GAMES,
    UPSTREAM_COMPLETE,
    VALID_VALUES,
    build_phase4_checks,
)
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, PSZA
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import daily_partitions
from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, materialize_range
from nba_precompute.transforms.quality import bands
from nba_precompute_tests.conftest import DEC_END
from nba_precompute_tests.dagster_helpers import (
    PSZA_KEY,
    TDZA_KEY,
    assets_def,
    check_records,
    copy_warehouse,
    downstream_of_psza,
    evaluation,
    latest_by_partition,
    loaded_definitions,
)
from nba_precompute_tests.event_log_snapshot import make_instance

DEC_DAYS = [f"2022-12-{d}" for d in range(10, 17)]
CHECK_KEYS = [AssetCheckKey(AssetKey(t.spec.asset_key_path), n) for t in PHASE4_TABLES for n in CHECK_NAMES]


def test_every_phase4_asset_has_three_partitioned_checks():
    graph = loaded_definitions().resolve_asset_graph()
    for key in (PSZA_KEY, TDZA_KEY):
        names = {k.name for k in graph.get_check_keys_for_assets({key})}
        assert names == {MINIMUM_GAMES, UPSTREAM_COMPLETE, VALID_VALUES}
    for chk in loaded_definitions().asset_checks:
        for spec in chk.check_specs:
            assert spec.partitions_def is not None
            assert spec.blocking == (spec.name != MINIMUM_GAMES)
            if spec.name == MINIMUM_GAMES:
                assert "expected, not a failure" in spec.description


def test_range_run_records_one_evaluation_per_check_and_day(december_warehouse):
    inst = december_warehouse.instance
    for key in CHECK_KEYS:
        recs = check_records(inst, key.asset_key, key.name)
        assert sorted(r.partition for r in recs) == DEC_DAYS, key
        assert {r.status for r in recs} == {Status.SUCCEEDED}, key
        assert len({r.run_id for r in recs}) == 1
        for r in recs:
            ev = evaluation(r)
            assert ev.partition == r.partition and ev.metadata["partition"].value == r.partition
            assert ev.metadata["status"].value == ("INCOMPLETE_DATA" if key.name == MINIMUM_GAMES and
                                                   ev.metadata["entities_incomplete"].value else "COMPLETE")


def test_minimum_games_metadata_matches_the_warehouse(december_warehouse):
    wh = december_warehouse.warehouse
    fails = wh.query("SELECT analysis_date, count(*) AS n FROM nba_processing.precompute_failures WHERE "
                     "processor = 'player_shot_zone_analysis' AND failure_category = 'INCOMPLETE_DATA' GROUP BY 1")
    rows = wh.query("SELECT analysis_date, count(*) AS n FROM nba_precompute.player_shot_zone_analysis GROUP BY 1")
    inc = {d.isoformat(): n for d, n in fails.iter_rows()}
    written = {d.isoformat(): n for d, n in rows.iter_rows()}
    latest = latest_by_partition(december_warehouse.instance, PSZA_KEY, MINIMUM_GAMES)
    for day in DEC_DAYS:
        md = evaluation(latest[day]).metadata
        assert md["entities_incomplete"].value == inc[day] > 0
        assert md["entities_written"].value == written[day]
        assert md["entities_total"].value == inc[day] + written[day]
        assert md["incomplete_rate"].value == pytest.approx(inc[day] / (inc[day] + written[day]))
        # 2022-12-10 is day 53 after opening night 2022-10-18: week 8; 12-13 on: week 9
        week = 8 if day < "2022-12-13" else 9
        assert md["season_week"].value == week
        assert md["expected_band_upper"].value == (0.40 if week == 8 else 0.25)
        assert md["minimum_games"].value == 10
        ev = evaluation(latest[day])
        assert ev.passed and ev.severity == AssetCheckSeverity.WARN and ev.blocking is False


@pytest.mark.parametrize("storage", ["default", "project"])
def test_rerun_of_the_same_range_on_a_sqlite_instance(december_warehouse, raw_data_dir, tmp_path, monkeypatch,
                                                      storage):
    """Two runs of the same range on a file-backed instance (Dagster's default event-log storage, and the
    project's batching one from .dagster_home/dagster.yaml): each partition has one record per run, the
    latest one targets the latest materialization (the UI's partition view)."""
    db = copy_warehouse(december_warehouse.path, tmp_path)
    instance = make_instance(tmp_path / "home", storage, monkeypatch)
    runs = [materialize_range("2022-12-14", DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                              selection=AssetSelection.groups("phase4_precompute", "phase4_predictions"),
                            instance=instance)
            for _ in range(2)]
    assert all(r.success for r in runs)
    days = ["2022-12-14", "2022-12-15", "2022-12-16"]
    for key in CHECK_KEYS:
        recs = check_records(instance, key.asset_key, key.name)
        assert sorted(r.partition for r in recs) == sorted(days * 2)
        assert {r.run_id for r in recs} == {r.run_id for r in runs}
        assert {r.status for r in recs} == {Status.SUCCEEDED}
        assert all(evaluation(r).metadata for r in recs)
    infos = instance.event_log_storage.get_asset_check_partition_info(CHECK_KEYS)
    assert len(infos) == len(CHECK_KEYS) * len(days)
    assert all(i.latest_execution_status == Status.SUCCEEDED and i.is_current for i in infos)
    assert {i.latest_planned_run_id for i in infos} == {runs[1].run_id}
    instance.dispose()


def test_check_step_yields_its_evaluations(december_warehouse, raw_data_dir, tmp_path):
    """The check step yields one AssetCheckEvaluation per check and day; Dagster's own path stores them
    (here Dagster's default file-backed storage) against this run's partition rows."""
    db = copy_warehouse(december_warehouse.path, tmp_path)
    instance = DagsterInstance.local_temp(str(tmp_path))
    run = materialize_range("2022-12-15", DEC_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                            selection=AssetSelection.groups("phase4_precompute", "phase4_predictions"),
                            instance=instance)
    assert run.success
    yielded = run.get_asset_check_evaluations()
    assert sorted((e.asset_check_key, e.partition) for e in yielded) == sorted(
        (k, d) for k in CHECK_KEYS for d in ("2022-12-15", DEC_END))
    for key in CHECK_KEYS:
        recs = check_records(instance, key.asset_key, key.name)
        assert sorted(r.partition for r in recs) == ["2022-12-15", DEC_END]
        assert {r.status for r in recs} == {Status.SUCCEEDED} and {r.run_id for r in recs} == {run.run_id}


def test_minimum_games_warns_above_the_band_without_blocking(december_warehouse, raw_data_dir, tmp_path):
    """A band that expects nobody below the minimum: WARN on every day, the run still succeeds and the
    downstream asset runs (minimum_games never blocks)."""
    db = copy_warehouse(december_warehouse.path, tmp_path)
    strict = build_phase4_checks(dataclasses.replace(PSZA, bands=bands((1, None, 0.0))), daily_partitions())
    instance = DagsterInstance.ephemeral()
    psza_asset = assets_def(PSZA_KEY)
    result = materialize(
        [psza_asset, strict, downstream_of_psza], instance=instance,
        resources={"warehouse": WarehouseResource(duckdb_path=db),
                   "raw_data": RawDataResource(directory=str(raw_data_dir))},
        tags={ASSET_PARTITION_RANGE_START_TAG: "2022-12-15", ASSET_PARTITION_RANGE_END_TAG: DEC_END},
    )
    assert result.success
    latest = latest_by_partition(instance, PSZA_KEY, MINIMUM_GAMES)
    for day in ("2022-12-15", DEC_END):
        ev = evaluation(latest[day])
        assert not ev.passed and ev.severity == AssetCheckSeverity.WARN and not ev.blocking
        assert ev.metadata["above_band"].value is True
        assert ev.metadata["expected_band_upper"].value == 0.0
        assert latest[day].status == Status.FAILED
    mats = [e for e in result.get_asset_materialization_events() if e.asset_key == downstream_of_psza.key]
    assert len(mats) == 2
    for name in (UPSTREAM_COMPLETE, VALID_VALUES):
        assert {r.status for r in check_records(instance, PSZA_KEY, name)} == {Status.SUCCEEDED}


def test_check_keys_constant_matches_definitions():
    graph = loaded_definitions().resolve_asset_graph()
    assert set(CHECK_KEYS) <= set(graph.asset_check_keys)
    assert all(isinstance(k, AssetCheckKey) for k in CHECK_KEYS)
