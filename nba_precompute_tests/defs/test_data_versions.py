"""Dagster knows the data versions (issue 18): after a correction is observed, Dagster's own stale-status
resolver calls exactly the partitions `refresh` plans stale, with the version asset as cause, and so does
the webserver's GraphQL ``staleStatus(partition:)`` / ``staleCauses(partition:)`` (what the UI's partition
view asks); after the refresh, none.

The copy holds 2024-25's schedule too, so that Dagster's partitions start a season before the one built:
as on the real instance, every history edge between the tables then maps to 100 or more partitions and
Dagster leaves it out of its comparison (README *Corrections and data versions*: the first 100 days of
the partitions definition)."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import AssetKey, DagsterInstance
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._time import get_current_datetime

from nba_precompute import refresh
from nba_precompute.definitions import defs
from nba_precompute.defs.data_versions import VERSION_KEYS, observe, pending_observations, report
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.raw.versions import (
    BOX_SCORE,
    CROSS_SEASON,
    KIND_OF_TABLE,
    OPPONENT_WINDOW,
    SEASON_PRE_GAME,
    VERSIONED_TABLES,
)
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse
from nba_precompute_tests.conftest import PHASE4_SELECTION
from nba_precompute_tests.dagster_helpers import execute_refresh_plan
from nba_precompute_tests.raw_copies import correct_made_two, season_copy
from nba_precompute_tests.ui.services import DagsterServices, prepare_home

D = dt.date
pytestmark = pytest.mark.real_data
PHASE3, PHASE4, NIGHT = ("2025-10-21", "2025-11-20"), ("2025-11-14", "2025-11-20"), D(2025, 11, 17)


def resolver(instance: DagsterInstance) -> CachingStaleStatusResolver:
    """A fresh resolver (it caches per request, as the webserver's does per GraphQL request)."""
    graph = defs().resolve_asset_graph()
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=graph, loading_context=view)


def dagster_stale(instance: DagsterInstance, days: set[str] | None = None) -> dict[tuple[str, dt.date], list]:
    """Every materialised table partition (of ``days``, default all) Dagster calls stale, with its causes."""
    r, out = resolver(instance), {}
    for table in VERSIONED_TABLES:
        key = AssetKey(refresh.SPECS[table].asset_key_path)
        for partition in sorted(instance.get_materialized_partitions(key) & (days or set()) if days
                                else instance.get_materialized_partitions(key)):
            if r.get_status(key, partition) == StaleStatus.STALE:
                out[(table, D.fromisoformat(partition))] = r.get_stale_causes(key, partition)
    return out


STALE_QUERY = """query($key: AssetKeyInput!, $partition: String!) { assetNodeOrError(assetKey: $key) {
  ... on AssetNode { staleStatus(partition: $partition)
                     staleCauses(partition: $partition) { key { path } partitionKey reason category } } } }"""


def ui_stale(services: DagsterServices, key: list[str], partition: str) -> tuple[str, list]:
    """The webserver's answer to the UI's ``AssetPartitionStaleQuery`` (its partition view; the causes are
    Dagster's root causes, ``CachingStaleStatusResolver.get_stale_root_causes``)."""
    node = services.graphql(STALE_QUERY, {"key": {"path": list(key)}, "partition": partition})["assetNodeOrError"]
    return node["staleStatus"], node["staleCauses"]


def test_the_ui_shows_exactly_the_partitions_refresh_rewrites_and_why(tmp_path, raw_data_dir, monkeypatch):
    raw, db = tmp_path / "raw", tmp_path / "warehouse.duckdb"
    season_copy(raw_data_dir, raw, (2024, 2025), D(2025, 11, 21))
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))
    home = prepare_home(tmp_path / "home")  # the project's instance configuration (its event-log storage)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    instance, warehouse = DagsterInstance.from_config(str(home)), DuckDBWarehouse(str(db))

    def wh_plan() -> refresh.RefreshPlan:
        return refresh.plan_refresh(warehouse, raw, game_calendar(raw))

    # the versions go to Dagster before the first run (`refresh` on an empty warehouse, the sensor's first tick)
    first = wh_plan()
    assert first.up_to_date and first.versions is not None
    days = game_calendar(raw).partition_days
    assert len(pending_observations(instance, first.versions, set(days))) == 4 * len(days)
    assert observe(first, str(home)) == (
        "data versions recorded in Dagster: " + ", ".join(f"raw/{k}_inputs {len(days)} partition(s)"
                                                          for k in ("box_score", "season", "cross_season",
                                                                    "opponent_window")))
    for (start, end), selection in ((PHASE3, "group:phase3_analytics"), (PHASE4, PHASE4_SELECTION)):
        assert materialize_range(start, end, duckdb_path=str(db), raw_dir=str(raw), selection=selection,
                                 instance=instance).success
    assert dagster_stale(instance) == {}
    # observing again records nothing: the versions did not change
    assert pending_observations(instance, wh_plan().versions, set(days)) == []

    correct_made_two(raw, NIGHT)
    plan = wh_plan()
    changed = pending_observations(instance, plan.versions, set(days))
    # the corrected night's own rows; every later day of the season for the three pre-game kinds
    later = {d.isoformat() for d in days if d > NIGHT}
    assert {(o.asset_key, o.partition) for o in changed} == (
        {(VERSION_KEYS[BOX_SCORE], NIGHT.isoformat())}
        | {(VERSION_KEYS[k], d) for k in (SEASON_PRE_GAME, CROSS_SEASON, OPPONENT_WINDOW) for d in later})
    assert dagster_stale(instance) == {}  # not observed yet: Dagster does not know
    report(instance, changed)

    stale = dagster_stale(instance)
    planned = {(t, d) for t, d in plan.stale.select("table_name", "partition_date").iter_rows()}
    assert set(stale) == planned and len(planned) == 4 + 7 * 3
    for (table, day), causes in stale.items():
        assert [(c.category.name, c.reason, c.dependency) for c in causes] == [
            ("DATA", "has a new dependency data version",
             AssetKeyPartitionKey(VERSION_KEYS[KIND_OF_TABLE[table]], day.isoformat()))], (table, day)
    # what the UI's partition view asks the webserver (GraphQL), for a stale and an up-to-date partition
    services = DagsterServices(home, {"NBA_RAW_DATA_DIR": str(raw), "NBA_PRECOMPUTE_DUCKDB_PATH": str(db),
                                      "NBA_PRECOMPUTE_WAREHOUSE": "duckdb"}, tmp_path / "logs", daemon=False)
    services.start()
    try:
        pdc = refresh.SPECS["nba_precompute.player_daily_cache"].asset_key_path
        # the root cause, as the UI lists it: the version asset's partition of that day has a new version
        assert ui_stale(services, pdc, "2025-11-18") == ("STALE", [
            {"key": {"path": ["raw", "cross_season_inputs"]}, "partitionKey": "2025-11-18",
             "reason": "has a new data version", "category": "DATA"}])
        assert ui_stale(services, pdc, NIGHT.isoformat()) == ("FRESH", [])
        execute_refresh_plan(plan, raw, str(db), instance=instance)
        assert ui_stale(services, pdc, "2025-11-18") == ("FRESH", [])
    finally:
        services.stop()
    assert wh_plan().up_to_date
    assert dagster_stale(instance) == {}
    # the refresh was one run, and its materialisations carry Dagster's data-version provenance: a second
    # correction, of a later night, marks the partitions it rewrote Unsynced again, with the same cause
    runs = {instance.get_latest_materialization_event(AssetKey(refresh.SPECS[t].asset_key_path)).run_id
            for t, _ in planned}
    assert len(runs) == 1 and instance.get_run_by_id(runs.pop()).job_name == "nba_refresh"
    second = D(2025, 11, 19)
    correct_made_two(raw, second)
    plan = wh_plan()
    report(instance, pending_observations(instance, plan.versions, set(days)))
    stale = dagster_stale(instance)
    assert set(stale) == {(t, d) for t, d in plan.stale.select("table_name", "partition_date").iter_rows()}
    assert [c.reason for c in stale[("nba_precompute.player_daily_cache", D(2025, 11, 20))]] == [
        "has a new dependency data version"]
    execute_refresh_plan(plan, raw, str(db), instance=instance)
    assert dagster_stale(instance) == {}
