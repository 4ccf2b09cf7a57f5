"""The whole code location loads, validates, and every asset shares one partitions definition."""

import datetime as dt

from dagster import AssetKey, BackfillPolicy, Definitions

from nba_precompute.partitions import (
    FIRST_OPENING_NIGHT,
    LAST_PARTITION,
    daily_partitions,
)
from nba_precompute.raw.readers import read_schedule
from nba_precompute.schemas import ALL_TABLES, PRECOMPUTE_FAILURES
from nba_precompute.transforms.common import season_calendar
from nba_precompute_tests.dagster_helpers import loaded_definitions

PHASE3 = ["nba_schedule", "player_game_summary", "team_defense_game_summary", "team_offense_game_summary",
          "upcoming_player_game_context", "upcoming_team_game_context"]


def test_definitions_load_and_validate():
    Definitions.validate_loadable(loaded_definitions())
    graph = loaded_definitions().resolve_asset_graph()
    for name in PHASE3:
        assert graph.has(AssetKey(["nba_analytics", name]))
    for key in (["nba_precompute", "team_defense_zone_analysis"], ["nba_precompute", "player_shot_zone_analysis"]):
        assert graph.has(AssetKey(key))


def test_every_materialisable_asset_is_daily_partitioned_with_single_run_backfills():
    graph = loaded_definitions().resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    assert len(keys) >= 8
    for key in keys:
        node = graph.get(key)
        assert node.partitions_def == daily_partitions, key
        assert node.backfill_policy == BackfillPolicy.single_run(), key


def test_lineage_raw_to_phase3_to_phase4():
    graph = loaded_definitions().resolve_asset_graph()
    psza = graph.get(AssetKey(["nba_precompute", "player_shot_zone_analysis"]))
    assert AssetKey(["nba_analytics", "player_game_summary"]) in psza.parent_keys
    pgs = graph.get(AssetKey(["nba_analytics", "player_game_summary"]))
    assert AssetKey(["raw", "nba_shots"]) in pgs.parent_keys
    tdza = graph.get(AssetKey(["nba_precompute", "team_defense_zone_analysis"]))
    assert AssetKey(["nba_analytics", "team_defense_game_summary"]) in tdza.parent_keys


def test_partitions_start_at_the_first_opening_night_of_the_raw_schedule(raw_data_dir):
    cal = season_calendar(read_schedule(raw_data_dir)).filter(
        season_year=2022).row(0, named=True)
    assert cal["season_start_date"] == dt.date.fromisoformat(FIRST_OPENING_NIGHT)
    assert cal["season_end_date"] == dt.date.fromisoformat(LAST_PARTITION)
    keys = daily_partitions.get_partition_keys()
    assert keys[0] == FIRST_OPENING_NIGHT and keys[-1] == LAST_PARTITION


def test_table_declarations_are_consistent():
    for table in ALL_TABLES:
        assert table.partition_column in table.column_names, table.name
        assert set(table.key) <= set(table.column_names), table.name
        assert "CREATE TABLE IF NOT EXISTS" in table.duckdb_ddl()
    assert PRECOMPUTE_FAILURES.column("is_failure").nullable is False


def test_every_step_that_opens_the_warehouse_is_in_the_warehouse_pool():
    """Assets and asset checks declare the pool the instance limits (one DuckDB writer process)."""
    from nba_precompute.defs.common import WAREHOUSE_POOL

    graph = loaded_definitions().resolve_asset_graph()
    executable = [a for a in graph.assets_defs if a.is_executable]
    assert any(a.check_keys and not a.keys for a in executable)  # the check-only definitions are covered
    for assets_def in executable:
        assert assets_def.node_def.pool == WAREHOUSE_POOL, assets_def.node_def.name
