"""The refresh job (``defs/refresh_job.py``): its config is the plan's, its steps run in dependency order,
a malformed step is refused before anything runs, and the materialisations it reports carry exactly the
data-version tags Dagster's own asset step records. (That a refresh through it equals a clean rebuild,
in one run: ``test_refresh.py``; that the UI then shows nothing stale and, after a second correction,
the partitions it wrote stale again: ``defs/test_data_versions.py``.)"""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import AssetKey, DagsterInstance, validate_run_config

from nba_precompute import refresh
from nba_precompute.dagster_storage import step_data_version_tags
from nba_precompute.definitions import defs
from nba_precompute.defs.data_versions import pending_observations, report
from nba_precompute.defs.refresh_job import (
    REFRESH_JOB,
    REFRESH_OP,
    RefreshConfig,
    RefreshStep,
    _validated,
    refresh_job,
)
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.raw.versions import VERSIONED_TABLES
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.raw_copies import season_copy

D = dt.date


def test_the_plan_is_the_jobs_config():
    assert (refresh_job.name, refresh_job.nodes[0].name) == (REFRESH_JOB, REFRESH_OP)
    steps = [(["nba_analytics.nba_schedule"], [D(2026, 1, 1)]),
             (["nba_precompute.player_daily_cache", "nba_analytics.upcoming_team_game_context"],
              [D(2026, 1, 2), D(2026, 1, 3)])]
    config = refresh.run_config(steps)
    assert validate_run_config(refresh_job, config)
    assert config["ops"][REFRESH_OP]["config"]["steps"][1] == {
        "tables": ["nba_precompute.player_daily_cache", "nba_analytics.upcoming_team_game_context"],
        "first_day": "2026-01-02", "last_day": "2026-01-03"}
    # the step's tables run in dependency order whatever the config's order
    (_, _), (tables, days) = _validated(RefreshConfig(**config["ops"][REFRESH_OP]["config"]))
    assert tables == ["nba_analytics.upcoming_team_game_context", "nba_precompute.player_daily_cache"]
    assert days == [D(2026, 1, 2), D(2026, 1, 3)]


def test_the_tables_order_is_a_dependency_order(raw_data_dir, monkeypatch):
    """Every table's upstream tables come before it in ``VERSIONED_TABLES`` (the order the steps run in)."""
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    graph = defs().resolve_asset_graph()
    key_of = {AssetKey(refresh.SPECS[t].asset_key_path): t for t in VERSIONED_TABLES}
    for position, table in enumerate(VERSIONED_TABLES):
        parents = {key_of[k] for k in graph.get(AssetKey(refresh.SPECS[table].asset_key_path)).parent_keys
                   if k in key_of}
        assert parents <= set(VERSIONED_TABLES[:position]), (table, parents - set(VERSIONED_TABLES[:position]))


@pytest.mark.parametrize("step, message", [
    (RefreshStep(tables=["nba_analytics.no_such_table"], first_day="2026-01-01", last_day="2026-01-01"),
     r"refresh step 2026-01-01..2026-01-01: unknown table\(s\) \['nba_analytics.no_such_table'\]; known: "),
    (RefreshStep(tables=["nba_analytics.nba_schedule"], first_day="2026-01-03", last_day="2026-01-01"),
     "refresh step 2026-01-03..2026-01-01: the last day is before the first"),
    (RefreshStep(tables=["nba_analytics.nba_schedule"], first_day="Jan 1", last_day="2026-01-01"),
     "refresh step Jan 1..2026-01-01: not ISO dates"),
    (RefreshStep(tables=[], first_day="2026-01-01", last_day="2026-01-01"),
     "refresh step 2026-01-01..2026-01-01: no tables"),
])
def test_a_malformed_step_is_refused_before_anything_runs(step, message):
    good = RefreshStep(tables=["nba_analytics.nba_schedule"], first_day="2026-01-01", last_day="2026-01-01")
    with pytest.raises(ValueError, match=message):
        _validated(RefreshConfig(steps=[good, step]))  # the good first step is not run either


@pytest.mark.real_data
def test_the_reported_tags_are_those_of_dagsters_own_step(tmp_path, raw_data_dir, monkeypatch):
    """TDZA materialised by its asset step: the tags ``step_data_version_tags`` computes for the same
    dependencies and code version (the run id), the dependencies unchanged since, are the tags on that
    materialisation, with the same event pointers (what the refresh job puts on the materialisations it
    reports). The input data versions are the dependencies' latest ones, where Dagster hashes the versions
    of the mapped partitions for a window under 100 partitions; its stale-status resolver reads only the
    pointers of a partitioned dependency."""
    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    season_copy(raw_data_dir, raw, 2025, D(2025, 11, 1))
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    instance = DagsterInstance.ephemeral()
    plan = refresh.plan_refresh(DuckDBWarehouse(str(db)), raw, game_calendar(raw))
    report(instance, pending_observations(instance, plan.versions, set(game_calendar(raw).partition_days)))
    assert materialize_range("2025-10-21", "2025-10-31", raw_dir=str(raw), duckdb_path=str(db),
                             selection="group:phase3_analytics", instance=instance).success
    tdza = AssetKey(["nba_precompute", "team_defense_zone_analysis"])
    result = materialize_range("2025-10-28", "2025-10-31", raw_dir=str(raw), duckdb_path=str(db),
                               selection=[tdza.to_user_string()], instance=instance)
    event = instance.get_latest_materialization_event(tdza)
    assert event.run_id == result.run_id and event.asset_materialization.partition == "2025-10-31"
    parents = sorted(defs().resolve_asset_graph().get(tdza).parent_keys)
    assert AssetKey(["raw", "season_inputs"]) in parents and len(parents) >= 3
    expected, ours = dict(event.asset_materialization.tags), step_data_version_tags(instance, parents, result.run_id)
    # the same tags: the code version, and per dependency its event pointer - what Dagster's stale-status
    # resolver reads for a partitioned dependency - and an input data version
    assert ours.keys() == expected.keys()
    pointers = {k: v for k, v in expected.items() if k.startswith("dagster/input_event_pointer/")}
    assert len(pointers) == len(parents) and all(v != "NULL" for v in pointers.values())
    assert {k: ours[k] for k in pointers} == pointers
    assert ours["dagster/code_version"] == expected["dagster/code_version"] == result.run_id
