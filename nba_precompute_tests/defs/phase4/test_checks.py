"""Asset checks of the Phase 4 assets: the four declarations, one evaluation per check per daily
partition of a range run, re-runs of the same range, WARN / pass paths with their metadata (on hand-built
days and through Dagster), the per-partition plot metadata, and the UI's partition view."""


import dataclasses
import datetime as dt

import polars as pl
import pytest
from dagster import (
    AssetCheckKey,
    AssetCheckSeverity,
    AssetKey,
    AssetSelection,
    DagsterInstance,
    FloatMetadataValue,
    materialize,
)
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus as Status,
)

from nba_precompute.defs.phase4.checks import (
    CHECK_NAMES,
    CHECKS,
    INCOMPLETE_RATE_WITHIN_BAND,
    MINIMUM_GAMES,
    UPSTREAM_COMPLETE,
    VALID_VALUES,
    CheckDecl,
    Verdict,
    build_phase4_checks,
    evaluations,
)
from nba_precompute.defs.phase4.tables import PCF, PHASE4_TABLES, PSZA
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import daily_partitions
from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, materialize_range
from nba_precompute.schemas import empty_failures
from nba_precompute.transforms.quality import bands, daily_check_results
from nba_precompute_tests.conftest import DEC_END
from nba_precompute_tests.dagster_helpers import (
    PSZA_KEY,
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


def test_the_four_checks_are_declared_as_data():
    assert CHECK_NAMES == (MINIMUM_GAMES, INCOMPLETE_RATE_WITHIN_BAND, UPSTREAM_COMPLETE, VALID_VALUES)
    assert [(c.severity, c.blocking) for c in CHECKS] == [
        (AssetCheckSeverity.WARN, False), (AssetCheckSeverity.WARN, False),
        (AssetCheckSeverity.ERROR, True), (AssetCheckSeverity.ERROR, True)]


def test_every_phase4_asset_has_four_partitioned_checks():
    graph = loaded_definitions().resolve_asset_graph()
    for table in PHASE4_TABLES:
        names = {k.name for k in graph.get_check_keys_for_assets({AssetKey(table.spec.asset_key_path)})}
        assert names == {MINIMUM_GAMES, INCOMPLETE_RATE_WITHIN_BAND, UPSTREAM_COMPLETE, VALID_VALUES}
    for chk in loaded_definitions().asset_checks:
        for spec in chk.check_specs:
            assert spec.partitions_def is not None
            assert spec.blocking == (spec.name in (UPSTREAM_COMPLETE, VALID_VALUES))
            if spec.name == MINIMUM_GAMES:
                assert "expected, not a failure" in spec.description
                assert "passes on every day" in spec.description
            if spec.name == INCOMPLETE_RATE_WITHIN_BAND:
                assert "above the expected band's upper edge" in spec.description
                assert "more entities than usual lack the minimum" in spec.description
                assert "not a pipeline failure" in spec.description


# --------------------------------------------------------------------------- hand-built days

D_AT, D_ABOVE, D_BELOW, D_GONE = (dt.date(2022, 12, d) for d in (19, 20, 21, 22))


WEEK9_BANDS = bands((1, 8, 1.0), (9, None, 0.25))


def _results(band_list=WEEK9_BANDS):
    """Four week-9 PSZA days (band: 25 %): 2 of 8 below the minimum (0.25, at the edge), 4 of 10
    (0.40, above), 1 of 10 (0.10, below), and a day the asset never materialised."""
    days = pl.DataFrame({"analysis_date": [D_AT, D_ABOVE, D_BELOW, D_GONE], "season_week": [9] * 4,
                         "materialized": [True, True, True, False], "rows_written": [6, 6, 9, 0]},
                        schema_overrides={"season_week": pl.Int64, "rows_written": pl.Int64})
    fails = pl.DataFrame([
        {"processor": "player_shot_zone_analysis", "analysis_date": d, "entity_type": "player",
         "entity_id": f"{d.day}-{p}", "entity_name": "x", "failure_category": "INCOMPLETE_DATA",
         "is_failure": False, "reason": "r", "games_required": 10, "games_found": 3}
        for d, n in ((D_AT, 2), (D_ABOVE, 4), (D_BELOW, 1)) for p in range(n)], schema=empty_failures().schema)
    invalid = pl.DataFrame(schema={"analysis_date": pl.Date, "entity_id": pl.String, "violations": pl.List(pl.String)})
    return daily_check_results(days, fails, invalid, band_list)


def _by(evals):
    return {(e.check_name, e.partition): e for e in evals}


def test_a_day_above_band_warns_incomplete_rate_within_band_and_minimum_games_passes():
    evals = _by(evaluations(PSZA_KEY, PSZA, _results(), set(CHECK_NAMES), {}))
    assert len(evals) == 4 * 4
    above = evals[(INCOMPLETE_RATE_WITHIN_BAND, D_ABOVE.isoformat())]
    assert not above.passed and above.severity == AssetCheckSeverity.WARN and not above.blocking
    md = above.metadata
    assert md["incomplete_rate"].value == pytest.approx(0.4) and isinstance(md["incomplete_rate"], FloatMetadataValue)
    assert md["expected_band_upper"].value == 0.25 and md["expected_band"].value == "weeks 9+: incomplete rate <= 25%"
    assert (md["season_week"].value, md["entities_total"].value, md["entities_incomplete"].value) == (9, 10, 4)
    assert md["above_band"].value is True and md["status"].value == "ABOVE_BAND"
    assert md["partition"].value == D_ABOVE.isoformat()
    assert "ABOVE" in above.description and "not a pipeline failure" in above.description
    # minimum_games on the same day: passes, reports INCOMPLETE_DATA with the same numbers
    mg = evals[(MINIMUM_GAMES, D_ABOVE.isoformat())]
    assert mg.passed and not mg.blocking
    assert mg.metadata["status"].value == "INCOMPLETE_DATA" and mg.metadata["minimum_games"].value == 10
    assert mg.metadata["incomplete_rate"].value == pytest.approx(0.4)
    assert mg.metadata["expected_band_upper"].value == 0.25 and "expected, not a failure" in mg.description
    assert (mg.metadata["entities_total"].value, mg.metadata["entities_incomplete"].value) == (10, 4)
    # at the edge (0.25) and below (0.10): within band
    for day, rate in ((D_AT, 0.25), (D_BELOW, 0.1)):
        ev = evals[(INCOMPLETE_RATE_WITHIN_BAND, day.isoformat())]
        assert ev.passed and ev.metadata["above_band"].value is False and ev.metadata["status"].value == "WITHIN_BAND"
        assert ev.metadata["incomplete_rate"].value == pytest.approx(rate)
    # minimum_games passes on every day, the never-materialised one included; the blocking checks fail it
    assert all(evals[(MINIMUM_GAMES, d.isoformat())].passed for d in (D_AT, D_ABOVE, D_BELOW, D_GONE))
    gone = {n: evals[(n, D_GONE.isoformat())] for n in CHECK_NAMES}
    assert {n for n, e in gone.items() if not e.passed} == {UPSTREAM_COMPLETE, VALID_VALUES}
    assert {e.metadata["status"].value for e in gone.values()} == {"NOT_MATERIALIZED"}
    assert all(evals[(n, d.isoformat())].passed for n in (UPSTREAM_COMPLETE, VALID_VALUES)
               for d in (D_AT, D_ABOVE, D_BELOW))


def test_without_a_band_incomplete_rate_within_band_always_passes():
    evals = _by(evaluations(AssetKey(PCF.spec.asset_key_path), PCF, _results(()), {INCOMPLETE_RATE_WITHIN_BAND}, {}))
    assert len(evals) == 4 and all(e.passed for e in evals.values())
    ev = evals[(INCOMPLETE_RATE_WITHIN_BAND, D_ABOVE.isoformat())]
    assert ev.metadata["expected_band_upper"].value == "none" and "no band configured" in ev.description


def test_a_new_check_is_one_declaration():
    """The specs and the per-day loop come from the declarations: an extra CheckDecl gets its spec and
    one evaluation per day, with nothing else to write."""
    extra = CheckDecl("stale_share", AssetCheckSeverity.WARN, False, lambda t: f"stale share of {t.spec.name}",
                      lambda day, t: Verdict(day["stale"] == 0, "stale entities", {"stale": day["stale"]}))
    checks = (*CHECKS, extra)
    chk = build_phase4_checks(PSZA, daily_partitions(), checks)
    assert {s.name for s in chk.check_specs} == {*CHECK_NAMES, "stale_share"}
    spec = next(s for s in chk.check_specs if s.name == "stale_share")
    assert spec.description == "stale share of player_shot_zone_analysis" and not spec.blocking
    evals = evaluations(PSZA_KEY, PSZA, _results(), {"stale_share"}, {}, checks)
    assert [e.partition for e in evals] == [d.isoformat() for d in (D_AT, D_ABOVE, D_BELOW, D_GONE)]
    assert all(e.passed for e in evals)


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
            if key.name == INCOMPLETE_RATE_WITHIN_BAND:  # December: every day within its band
                assert ev.metadata["status"].value == "WITHIN_BAND" and ev.passed
            else:
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
        assert ev.passed and ev.blocking is False


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


def test_incomplete_rate_within_band_warns_above_the_band_without_blocking(december_warehouse, raw_data_dir,
                                                                          tmp_path):
    """A band that expects nobody below the minimum: incomplete_rate_within_band WARNs on every day,
    minimum_games still passes, the run succeeds and the downstream asset runs (neither blocks)."""
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
    latest = latest_by_partition(instance, PSZA_KEY, INCOMPLETE_RATE_WITHIN_BAND)
    minimum = latest_by_partition(instance, PSZA_KEY, MINIMUM_GAMES)
    for day in ("2022-12-15", DEC_END):
        ev = evaluation(latest[day])
        assert not ev.passed and ev.severity == AssetCheckSeverity.WARN and not ev.blocking
        assert ev.metadata["above_band"].value is True
        assert ev.metadata["expected_band_upper"].value == 0.0
        assert 0 < ev.metadata["incomplete_rate"].value < 1
        assert latest[day].status == Status.FAILED
        mg = evaluation(minimum[day])
        assert mg.passed and minimum[day].status == Status.SUCCEEDED
        assert mg.metadata["status"].value == "INCOMPLETE_DATA"
    mats = [e for e in result.get_asset_materialization_events() if e.asset_key == downstream_of_psza.key]
    assert len(mats) == 2
    for name in (UPSTREAM_COMPLETE, VALID_VALUES):
        assert {r.status for r in check_records(instance, PSZA_KEY, name)} == {Status.SUCCEEDED}


def test_check_keys_constant_matches_definitions():
    graph = loaded_definitions().resolve_asset_graph()
    assert set(CHECK_KEYS) <= set(graph.asset_check_keys)
    assert all(isinstance(k, AssetCheckKey) for k in CHECK_KEYS)


def test_materialisation_metadata_plots_the_rate_against_its_band(december_warehouse):
    """Each partition's materialisation carries incomplete_rate, incomplete_rate_band_upper and
    incomplete_rate_over_band (rate - upper edge, > 0 exactly when the band check warns) as float
    metadata (what the asset's Plots view draws across partitions), equal to the check's numbers; PCF and
    MLFS have no band, so no band line."""
    mats = december_warehouse.results[1].get_asset_materialization_events()
    for table in PHASE4_TABLES:
        key = AssetKey(table.spec.asset_key_path)
        per_day = {e.partition: e.materialization.metadata for e in mats if e.asset_key == key}
        assert sorted(per_day) == DEC_DAYS, table.spec.name
        checks = latest_by_partition(december_warehouse.instance, key, INCOMPLETE_RATE_WITHIN_BAND)
        for day, md in per_day.items():
            check = evaluation(checks[day]).metadata
            assert isinstance(md["incomplete_rate"], FloatMetadataValue), (table.spec.name, day)
            assert md["incomplete_rate"].value == pytest.approx(check["incomplete_rate"].value)
            assert 0.0 <= md["incomplete_rate"].value <= 1.0
            if table.bands:
                assert isinstance(md["incomplete_rate_band_upper"], FloatMetadataValue), (table.spec.name, day)
                assert md["incomplete_rate_band_upper"].value == check["expected_band_upper"].value
                if md["entities_total"].value == 0:  # nothing measured: no distance to the band
                    assert "incomplete_rate_over_band" not in md
                    continue
                over = md["incomplete_rate_over_band"]
                assert isinstance(over, FloatMetadataValue), (table.spec.name, day)
                assert over.value == pytest.approx(md["incomplete_rate"].value - check["expected_band_upper"].value)
                assert (over.value > 0) == (not evaluation(checks[day]).passed), (table.spec.name, day)
            else:
                assert "incomplete_rate_band_upper" not in md and "incomplete_rate_over_band" not in md
    psza = {e.partition: e.materialization.metadata for e in mats if e.asset_key == PSZA_KEY}
    assert psza["2022-12-12"]["incomplete_rate_band_upper"].value == 0.40  # week 8
    assert psza["2022-12-13"]["incomplete_rate_band_upper"].value == 0.25  # week 9
