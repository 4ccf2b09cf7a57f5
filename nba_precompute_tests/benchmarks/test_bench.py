"""The benchmark's non-timing parts (no timing assertions): the legacy pandas PSZA and the DuckDB SQL PSZA
compute what the Polars transform computes (hand-built frames); the transforms are fed their declared
upstreams; the plain Python driver writes exactly what a Dagster run of the same partitions writes and
item 6 computes what the assets compute (four real partitions); the framework-floor module is the code
location's graph and runs through Dagster; the report puts every figure next to its target."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetChecksDefinition, AssetsDefinition

from benchmarks import bench
from nba_precompute.transforms.psza import build_player_shot_zone_analysis
from nba_precompute_tests.table_fingerprints import fingerprints

OPENING = dt.date(2022, 10, 18)
N_GAMES = 30


def _schedule() -> pl.DataFrame:
    """AAA vs BBB every day from opening night, 30 regular-season games."""
    return pl.DataFrame({
        "game_id": [f"00222{i + 1:05d}" for i in range(N_GAMES)],
        "game_date": [OPENING + dt.timedelta(days=i) for i in range(N_GAMES)],
        "season_year": [2022] * N_GAMES,
        "home_team_id": [1 if i % 2 == 0 else 2 for i in range(N_GAMES)],
        "away_team_id": [2 if i % 2 == 0 else 1 for i in range(N_GAMES)],
        "home_team_abbr": ["AAA" if i % 2 == 0 else "BBB" for i in range(N_GAMES)],
        "away_team_abbr": ["BBB" if i % 2 == 0 else "AAA" for i in range(N_GAMES)],
    })


def _player_games() -> pl.DataFrame:
    """Four players:

    1 (AAA) plays every game: paint 2+i%3 (makes i%2), mid i%4 (makes 0 or 1), three 3-(i%3) (makes 1);
    2 (BBB) sits every 4th game (minutes 0), has NULL minutes in game 5, and a shot-chart disagreement in
      game 13;
    3 (BBB) plays only games 0-4 (always below the 10-game minimum);
    4 (AAA) plays every game without a shot (every rate NULL, no primary zone).
    """
    rows = []
    for i in range(N_GAMES):
        gid, day = f"00222{i + 1:05d}", OPENING + dt.timedelta(days=i)
        base = {"game_id": gid, "game_date": day, "season_year": 2022}
        rows.append(dict(base, player_id=1, player_lookup="one", team_abbr="AAA", minutes_played=30.0,
                         paint_attempts=2 + i % 3, paint_makes=i % 2, mid_range_attempts=i % 4,
                         mid_range_makes=min(i % 4, 1), three_pt_attempts=3 - i % 3, three_pt_makes=1,
                         has_complete_shot_zones=True, data_quality_issues=[]))
        minutes = None if i == 5 else (0.0 if i % 4 == 0 else 25.0)
        rows.append(dict(base, player_id=2, player_lookup="two", team_abbr="BBB", minutes_played=minutes,
                         paint_attempts=5, paint_makes=3, mid_range_attempts=1, mid_range_makes=0,
                         three_pt_attempts=i % 2, three_pt_makes=0, has_complete_shot_zones=i != 13,
                         data_quality_issues=["FGA 7 (box) vs 6 (shots)"] if i == 13 else []))
        if i < 5:
            rows.append(dict(base, player_id=3, player_lookup="three", team_abbr="BBB", minutes_played=10.0,
                             paint_attempts=1, paint_makes=1, mid_range_attempts=0, mid_range_makes=0,
                             three_pt_attempts=0, three_pt_makes=0, has_complete_shot_zones=True,
                             data_quality_issues=[]))
        rows.append(dict(base, player_id=4, player_lookup="four", team_abbr="AAA", minutes_played=3.0,
                         paint_attempts=0, paint_makes=0, mid_range_attempts=0, mid_range_makes=0,
                         three_pt_attempts=0, three_pt_makes=0, has_complete_shot_zones=True,
                         data_quality_issues=[]))
    for r in rows:  # box-score FGA = the shot chart's attempts
        r["fg_attempts"] = r["paint_attempts"] + r["mid_range_attempts"] + r["three_pt_attempts"]
    return pl.DataFrame(rows, schema_overrides={"minutes_played": pl.Float64,
                                                "data_quality_issues": pl.List(pl.String)})


START, END = OPENING, OPENING + dt.timedelta(days=N_GAMES - 1)
DATES = [dt.date(2022, 10, 28), dt.date(2022, 11, 3), dt.date(2022, 11, 16)]


@pytest.fixture(scope="module")
def polars_psza():
    return build_player_shot_zone_analysis(_player_games(), _schedule(), START, END)


def test_legacy_pandas_matches_polars_and_hand_values(polars_psza):
    rows, failures = polars_psza
    legacy = bench.run_legacy(_player_games(), _schedule(), DATES)
    agreement = bench.compare_psza(rows.filter(pl.col("analysis_date").is_in(DATES)), legacy["rows"])
    assert agreement.ok, agreement.details
    assert agreement.rows > 0 and agreement.max_abs_diff <= bench.TOLERANCE

    # hand values: player 1 on 2022-10-28 has exactly games 0-9 before D
    p1 = legacy["rows"].filter((pl.col("player_id") == 1) & (pl.col("analysis_date") == DATES[0])).row(0, named=True)
    paint = sum(2 + i % 3 for i in range(10))          # 29
    mid = sum(i % 4 for i in range(10))                # 13
    three = sum(3 - i % 3 for i in range(10))          # 21
    assert p1["paint_rate_last_10"] == pytest.approx(paint / (paint + mid + three))
    assert p1["paint_pct_last_10"] == pytest.approx(5 / paint)            # makes on odd games: 5
    assert p1["three_pt_pct_last_10"] == pytest.approx(10 / three)
    assert p1["mid_range_attempts_per_game"] == pytest.approx(mid / 10)
    assert p1["paint_rate_last_20"] is None                                 # 10 games < 15
    assert p1["primary_scoring_zone"] == "paint"                           # 29/63 = 0.46 >= 0.40
    # player 4 never shoots: no rates, no zone; player 3 never reaches 10 games
    p4 = legacy["rows"].filter(pl.col("player_id") == 4)
    assert p4.get_column("paint_rate_last_10").is_null().all()
    assert p4.get_column("primary_scoring_zone").is_null().all()

    ours_incomplete = failures.filter(pl.col("analysis_date").is_in(DATES)
                                      & (pl.col("failure_category") == "INCOMPLETE_DATA"))
    assert sorted(zip(ours_incomplete["analysis_date"], ours_incomplete["entity_id"].cast(pl.Int64))) == \
        sorted(legacy["incomplete"].iter_rows())


def test_duckdb_sql_matches_polars_on_every_date(polars_psza):
    rows, _ = polars_psza
    duck = bench.duckdb_psza(_player_games(), _schedule(), START, END)
    agreement = bench.compare_psza(rows, duck)
    assert agreement.ok, agreement.details
    assert agreement.rows == rows.height
    # player 2 before 2022-11-03 (games 0-15) played games 1-3, 6, 7, 9-11, 13-15 (11 games): the
    # disagreement in game 13 is inside his last 10
    p2 = duck.filter((pl.col("player_id") == 2) & (pl.col("analysis_date") == DATES[1]))
    assert p2.item(0, "games_in_sample_10") == 10
    assert p2.item(0, "has_complete_shot_zones") is False


def test_compare_psza_reports_differences(polars_psza):
    rows, _ = polars_psza
    changed = rows.with_columns(
        pl.when(pl.col("player_id") == 1).then(pl.col("paint_rate_last_10") + 1e-6)
        .otherwise(pl.col("paint_rate_last_10")).alias("paint_rate_last_10"))
    agreement = bench.compare_psza(rows, changed)
    assert not agreement.ok and agreement.numeric_mismatches > 0
    missing_row = bench.compare_psza(rows, rows.slice(1))
    assert not missing_row.ok and missing_row.only_left == 1


def test_transforms_are_bound_by_their_declared_upstreams():
    from nba_precompute.defs.phase4.tables import PCF, PSZA
    from nba_precompute.schemas import NBA_SCHEDULE, PLAYER_GAME_SUMMARY

    tables = {PLAYER_GAME_SUMMARY.qualified_name: _player_games(), NBA_SCHEDULE.qualified_name: _schedule()}
    results = bench.run_transforms(tables, START, END, runs=1, declared=[PSZA])
    rows, _ = results["PSZA"]["result"]
    assert rows.height == results["PSZA"]["rows"] > 0
    # PCF reads the declared projection of its upstreams, and needs TDZA rows this set does not hold
    with pytest.raises(KeyError, match="team_defense_zone_analysis"):
        bench.transform_inputs(PCF, {**tables, PSZA.spec.qualified_name: rows})
    kwargs = bench.transform_inputs(PSZA, tables)
    assert set(kwargs) == {"player_games", "schedule"}


def test_duckdb_sql_on_given_dates(polars_psza):
    rows, _ = polars_psza
    duck = bench.duckdb_psza(_player_games(), _schedule(), START, END, dates=DATES)
    assert set(duck.get_column("analysis_date").unique().to_list()) == set(DATES)
    assert bench.compare_psza(rows.filter(pl.col("analysis_date").is_in(DATES)), duck).ok


# ---------------------------------------------------------------------------------- the real code location

FIRST, LAST = "2022-10-18", "2022-10-21"  # opening night and the next three game dates


@pytest.fixture(scope="module")
def dagster_and_plain(raw_data_dir, tmp_path_factory):
    """The same four partitions, every asset and check: once as one Dagster run, once by the plain
    driver; each into its own DuckDB file."""
    from dagster import DagsterInstance

    from benchmarks.bench_plain import run_plain
    from nba_precompute.pipeline import materialize_range

    tmp = tmp_path_factory.mktemp("bench_plain")
    through_dagster = str(tmp / "dagster.duckdb")
    result = materialize_range(FIRST, LAST, duckdb_path=through_dagster, raw_dir=str(raw_data_dir), selection="*",
                               instance=DagsterInstance.ephemeral())
    assert result.success
    plain = str(tmp / "plain.duckdb")
    return through_dagster, plain, run_plain(FIRST, LAST, plain, raw_data_dir)


def test_plain_driver_writes_what_a_dagster_run_writes(dagster_and_plain):
    through_dagster, plain, result = dagster_and_plain
    expected, got = fingerprints(through_dagster), fingerprints(plain)
    # the first week: no player or team has reached the PSZA, TDZA or PDC minimum yet (INCOMPLETE_DATA rows)
    empty = {"nba_precompute.player_shot_zone_analysis", "nba_precompute.team_defense_zone_analysis",
             "nba_precompute.player_daily_cache"}
    assert len(expected) == 14 and {t for t, (rows, _) in expected.items() if rows == 0} == empty  # + input_versions
    assert got == expected, [t for t in expected if expected[t] != got.get(t)]
    # every asset and check body ran, over the four partitions, with every partition's own metadata
    assert result.partitions == 4
    assets = [s for s in result.steps if s.kind == "asset"]
    checks = [s for s in result.steps if s.kind == "checks"]
    assert len(assets) == 11 and all(s.metadata_partitions == 4 for s in assets)
    assert len(checks) == 5 and all(s.evaluations == 4 * 4 for s in checks)  # 4 checks x 4 partitions
    assert result.schema_setups == 13  # 11 tables, precompute_failures and input_versions, on a fresh file


def test_plain_driver_order_and_schema_counter(dagster_and_plain):
    from benchmarks.bench_plain import _SchemaSetupCounter, execution_order
    from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
    from nba_precompute_tests.dagster_helpers import loaded_definitions

    order = execution_order(loaded_definitions())
    seen: list = []
    for d in order:
        if not isinstance(d, AssetChecksDefinition):
            (spec,) = d.specs
            assert all(dep.asset_key in seen for dep in spec.deps if dep.asset_key.path[0] != "raw"), d.key
            seen.append(d.key)
        else:  # checks right after their asset
            assert {k.asset_key for k in d.check_keys} == {seen[-1]}
    assert len(seen) == 11
    original = DuckDBWarehouse._ensure
    with _SchemaSetupCounter() as counter:
        assert DuckDBWarehouse._ensure is not original
    assert DuckDBWarehouse._ensure is original and counter.calls == 0


def test_transform_inputs_are_what_the_assets_compute(dagster_and_plain, raw_data_dir):
    """Item 6 builds the Phase 3 frames and runs the transforms the way the assets do: same rows as the
    warehouse a Dagster run wrote (writer columns aside)."""
    from nba_precompute.defs.phase4.tables import PHASE4_TABLES
    from nba_precompute.schemas import PHASE3_TABLES, PRECOMPUTE_FAILURES
    from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

    through_dagster, _, _ = dagster_and_plain
    wh = DuckDBWarehouse(through_dagster)
    first, last = dt.date.fromisoformat(FIRST), dt.date.fromisoformat(LAST)
    tables = bench.build_phase3_frames(raw_data_dir, first, last)
    days = sorted(set(tables["nba_analytics.nba_schedule"].get_column("game_date").to_list()))
    results = bench.run_transforms(tables, first, last, runs=1, dates=days)
    failures = wh.read(PRECOMPUTE_FAILURES)
    pairs = [(spec, tables[spec.qualified_name], wh.read(spec)) for spec in PHASE3_TABLES]
    for t in PHASE4_TABLES:
        rows, failed = results[t.abbreviation]["result"]
        pairs += [(t.spec, rows, wh.read(t.spec)),
                  (PRECOMPUTE_FAILURES, failed, failures.filter(pl.col("processor") == t.processor))]
    for spec, frame, stored in pairs:
        cols = spec.data_columns
        order = [c for c in cols if not isinstance(spec.polars_schema[c], pl.List)]
        built = frame.select(cols).cast({c: spec.column(c).polars_type for c in cols}).sort(order)
        assert built.equals(stored.select(cols).sort(order)), spec.qualified_name
    assert sum(frame.height for _, frame, _ in pairs) > 0


def _floor_defs(tmp_path):
    from benchmarks.bench_floor import MODULE_NAME, write_floor_module
    from nba_precompute_tests.dagster_helpers import loaded_definitions

    path = write_floor_module(tmp_path, loaded_definitions())
    spec = importlib.util.spec_from_file_location(MODULE_NAME, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.defs


def test_floor_module_is_the_same_graph(tmp_path):
    from nba_precompute_tests.dagster_helpers import loaded_definitions

    real, floor = loaded_definitions(), _floor_defs(tmp_path)

    def graph(defs):
        assets = {}
        for a in defs.assets:
            if isinstance(a, AssetsDefinition) and a.is_executable:
                (spec,) = a.specs
                assets[a.key] = (sorted((d.asset_key.to_user_string(), repr(d.partition_mapping)) for d in spec.deps),
                                 a.backfill_policy, a.op.pool, spec.group_name,
                                 tuple(a.partitions_def.get_partition_keys()))
            else:
                assets[a.key] = "external"
        checks = {k: (s.blocking, tuple(s.partitions_def.get_partition_keys()), c.can_subset, c.op.pool)
                  for c in defs.asset_checks for s in c.check_specs for k in [s.key]}
        return assets, checks

    real_assets, real_checks = graph(real)
    floor_assets, floor_checks = graph(floor)
    # 11 tables and the raw files and input versions (external); 5 Phase 4 assets x 4 checks
    assert len(real_assets) == 19 and len(real_checks) == 20
    assert floor_assets == real_assets
    assert floor_checks == real_checks
    assert {c.node_def.name for c in floor.asset_checks} == {c.node_def.name for c in real.asset_checks}


def test_floor_runs_through_dagster_and_the_run_is_summarised(tmp_path):
    from dagster import DagsterInstance, materialize

    from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    floor = _floor_defs(tmp_path)
    instance = DagsterInstance.ephemeral()
    result = materialize([*floor.assets, *floor.asset_checks], instance=instance,
                         tags={ASSET_PARTITION_RANGE_START_TAG: FIRST, ASSET_PARTITION_RANGE_END_TAG: LAST})
    assert result.success
    summary = bench.instance_run_summary(instance, launched_at=0.0)
    assert summary["run_status"] == "SUCCESS"
    assert summary["materializations"] == 11 * 4
    assert summary["check_evaluations"] == 20 * 4
    assert summary["run_s"] > 0 and summary["run_start_s"] > 0 and summary["steps_s"] > 0


def test_several_runs_of_one_command_are_summed_and_listed(tmp_path):
    """``nba-precompute launch --all-seasons`` makes several ``dg launch`` runs: the summary of a command
    covers every run it added (not only the newest), sums their events and durations, and lists each."""
    from dagster import DagsterInstance, materialize

    from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    floor = _floor_defs(tmp_path)
    instance = DagsterInstance.ephemeral()
    ranges = [(FIRST, "2022-10-19"), ("2022-10-20", LAST), (LAST, LAST)]
    for first, last in ranges:
        assert materialize([*floor.assets, *floor.asset_checks], instance=instance,
                           tags={ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}).success
    before = {instance.get_runs()[-1].run_id}  # the first run was there before the "command"
    summary = bench.instance_run_summary(instance, launched_at=0.0, known=before)
    assert summary["runs"] == 2 and summary["run_status"] == "SUCCESS"
    assert [r["partition_range"] for r in summary["per_run"]] == [list(r) for r in ranges[1:]]
    assert summary["materializations"] == 11 * (2 + 1) == sum(r["materializations"] for r in summary["per_run"])
    assert summary["check_evaluations"] == 20 * 3
    assert summary["events"] == sum(r["events"] for r in summary["per_run"])
    assert summary["run_s"] == pytest.approx(sum(r["run_s"] for r in summary["per_run"]))
    assert summary["runs_span_s"] >= summary["run_s"] > 0
    assert summary["run_start_s"] == pytest.approx(summary["per_run"][0]["started_at"])  # launched at 0
    every = bench.instance_run_summary(instance)
    assert every["runs"] == 3 and every["materializations"] == 11 * 5


# ---------------------------------------------------------------------------------- report and command line


def _fake_results(**launched):
    run = {"wall_s": 10.0, "peak_rss_bytes": 1e9, "load_average": [1.0, 1.0, 1.0], "run_start_s": 3.0,
           "run_s": 6.0, "steps_s": 5.0, "events": 6000}
    return {
        "machine": {"cpu": "cpu", "logical_cores": 2, "physical_cores": 2, "memory_gb": 24, "os": "linux",
                    "python": "3", "polars": "2", "duckdb": "1", "pandas": "2", "dagster": "1.13"},
        "load_average_start": [0.1, 0.2, 0.3], "load_average_end": [1.5, 0.9, 0.4], "runs": 3,
        "generated_at": "now", "season": "2022-23", "nightly_date": "2023-02-01", "targets": bench.TARGETS,
        "scope": {"season": ["2022-10-18", "2023-04-09"], "season_partitions": 164, "all_first": "2020-12-22",
                  "all_last": "2026-02-09", "all_partitions": 736},
        "launched": {k: [dict(run, **v) for v in vs] for k, vs in launched.items()},
    }


def test_report_gives_every_figure_with_its_target():
    r = _fake_results(
        season=[{"wall_s": 14.0}, {"wall_s": 16.0}, {"wall_s": 14.5}],
        one_date_season=[{"wall_s": 6.0}] * 3,
        all_seasons=[{"wall_s": 50.0, "peak_rss_bytes": 2.5e9}] * 3,
        plain=[{"wall_s": 8.0, "definitions_s": 1.0, "bodies_s": 6.0, "evaluations": 2460, "schema_setups": 12}] * 3,
        plain_one_date=[{"wall_s": 4.0, "definitions_s": 1.0, "bodies_s": 2.0, "schema_setups": 0,
                         "schema_setup_s": 0.0}] * 3,
        floor=[{"wall_s": 6.0}] * 3,
    )
    rows = {(row["item"], row["what"].split(":")[0]): row for row in bench.summarize(r)}
    season = rows[("1", "main command, 2022-23 season")]
    assert season["median"] == 14.5 and season["runs"] == [14.0, 16.0, 14.5] and season["met"] is True
    ratio = next(row for row in rows.values() if row["item"] == "1 / 4")
    assert ratio["median"] == pytest.approx(14.5 / 8.0) and ratio["met"] is True
    assert ratio["runs"] == pytest.approx([14.0 / 8.0, 16.0 / 8.0, 14.5 / 8.0])  # run i / run i
    all_seasons = rows[("2", "main command, all seasons")]
    assert all_seasons["met"] is False and all_seasons["why"] == "time met, peak RSS not"  # 2.5 GB > 2 GB
    assert rows[("3", "one date (nightly)")]["met"] is False
    assert next(row for row in rows.values() if "schema set-up" in row["what"])["met"] is True
    assert ("5", "framework floor") in rows
    text = bench.render_markdown(r)
    assert "[0.1, 0.2, 0.3]" in text and "[1.5, 0.9, 0.4]" in text  # load at the start and at the end
    assert "14.0 / 16.0 / 14.5 s" in text and "**not met**" in text
    assert "| 6 |" not in text  # skipped items have no row


def test_report_labels_a_command_of_several_runs():
    per_run = [{"partition_range": ["2020-12-22", "2021-05-16"], "run_s": 10.0},
               {"partition_range": ["2022-10-18", "2026-02-09"], "run_s": 40.0},
               {"partition_range": ["2026-02-10", "2026-02-10"], "run_s": 2.0}]
    r = _fake_results(all_seasons=[{"wall_s": 70.0, "runs": 3, "run_s": 52.0, "runs_span_s": 60.0,
                                    "per_run": per_run}] * 3)
    r["scope"].update(all_last="2026-02-10", all_partitions=1358, tonight="2026-02-10")
    (row,) = bench.summarize(r)
    assert "1,358 partitions" in row["what"] and "3 runs)" in row["what"]
    assert "3 Dagster runs" in row["what"] and "52.0 s summed" in row["what"]
    assert "2020-12-22...2021-05-16 10.0 s; 2022-10-18...2026-02-09 40.0 s; 2026-02-10 2.00 s" in row["what"]
    assert "by the 3 runs" in row["what"]
    r = _fake_results(one_date_newest=[{"wall_s": 3.0}])
    r["scope"].update(all_last="2026-02-10", tonight="2026-02-10")
    (row,) = bench.summarize(r)
    assert "tonight's slate" in row["what"] and "one run" not in row["what"]


def test_command_line_plan():
    _, plan = bench.parse_args([])
    assert plan.runs == 3 and plan.season and plan.all_seasons and plan.plain and plan.floor and plan.legacy_dates == 10
    _, plan = bench.parse_args(["--quick"])
    assert plan.runs == 1 and plan.legacy_dates == 4 and plan.all_seasons and not plan.transforms_all_seasons
    _, plan = bench.parse_args(["--skip-all-seasons", "--runs", "2"])
    assert plan.runs == 2 and plan.season and not plan.all_seasons and not plan.transforms_all_seasons
    _, plan = bench.parse_args(["--skip-dagster"])
    assert not (plan.season or plan.all_seasons or plan.floor) and plan.plain and plan.transforms
    assert bench.main_command("--season", "2022-23")[-3:] == ["launch", "--season", "2022-23"]
    assert bench.floor_command(Path("f.py"), "a", "b")[1:] == ["launch", "--assets", "*", "--partition-range",
                                                              "a...b", "-f", "f.py"]


def test_launched_items_run_in_order_each_with_its_one_date(tmp_path, monkeypatch):
    """Items 1-3 dry (nothing launched): each main command in its own DAGSTER_HOME and warehouse, its
    item 3 on the same ones, results under their keys, runs interleaved."""
    calls = []

    def fake_run(cmd, env, log_path, home=None):
        calls.append((cmd[cmd.index("launch") + 1:], log_path.relative_to(tmp_path).as_posix(),
                      Path(env["NBA_PRECOMPUTE_DUCKDB_PATH"]).parent.name, home == Path(env["DAGSTER_HOME"])))
        return {"wall_s": float(len(calls)), "peak_rss_bytes": 0, "load_average": [0.0]}

    monkeypatch.setattr(bench, "run_measured", fake_run)
    scope = bench.Scope(("2022-10-18", "2023-10-23"), 371, "2020-12-22", "2026-02-10", 1358)
    plan = bench.Plan(runs=2, plain=False, floor=False, nightly_date="2023-02-01")
    out = bench.bench_launched(plan, scope, tmp_path / "raw", tmp_path)
    run = [(["--season", bench.BENCH_SEASON], "season/season.log", "season", True),
           (["2023-02-01"], "season/one_date.log", "season", True),
           (["--all-seasons"], "all_seasons/all_seasons.log", "all_seasons", True),
           (["2026-02-10"], "all_seasons/one_date.log", "all_seasons", True)]
    assert calls == [(a, f"run_{i}/{log}", w, h) for i in (1, 2) for a, log, w, h in run]
    assert {k: [r["wall_s"] for r in v] for k, v in out.items()} == {
        "season": [1.0, 5.0], "one_date_season": [2.0, 6.0], "all_seasons": [3.0, 7.0], "one_date_newest": [4.0, 8.0]}
    calls.clear()
    out = bench.bench_launched(bench.Plan(runs=1, all_seasons=False, one_date=False, plain=False, floor=False),
                               scope, tmp_path / "raw", tmp_path / "again")
    assert [c[0] for c in calls] == [["--season", bench.BENCH_SEASON]] and list(out) == ["season"]
