"""The whole code location loads, validates, and every asset shares one partitions definition."""

import datetime as dt

import polars as pl
from dagster import AssetKey, BackfillPolicy, Definitions

from nba_precompute.partitions import HISTORY_PARTITIONS, daily_partitions, game_calendar
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
        assert node.partitions_def == daily_partitions(), key
        assert node.backfill_policy == BackfillPolicy.single_run(), key


def test_lineage_raw_to_phase3_to_phase4():
    graph = loaded_definitions().resolve_asset_graph()
    psza = graph.get(AssetKey(["nba_precompute", "player_shot_zone_analysis"]))
    assert AssetKey(["nba_analytics", "player_game_summary"]) in psza.parent_keys
    pgs = graph.get(AssetKey(["nba_analytics", "player_game_summary"]))
    assert AssetKey(["raw", "nba_shots"]) in pgs.parent_keys
    tdza = graph.get(AssetKey(["nba_precompute", "team_defense_zone_analysis"]))
    assert AssetKey(["nba_analytics", "team_defense_game_summary"]) in tdza.parent_keys


def test_partitions_are_the_game_dates_of_every_season_in_the_raw_data(raw_data_dir):
    schedule = read_schedule(raw_data_dir).filter(pl.col("game_id").str.starts_with("002"))
    hoopr = {d.isoformat() for d in schedule.get_column("game_date").to_list()}
    logs = pl.read_csv(raw_data_dir / "boxscores/nba-lineup-analyzer/team_game_logs_2020-21.csv")
    trimmed = set(logs.filter(pl.col("SEASON_TYPE") == "Regular Season").get_column("GAME_DATE").to_list())
    keys = daily_partitions(raw_data_dir).get_partition_keys()
    # every game date of every season, up to the newest day whose games are all in (the season in
    # progress: 2026-02-09); its later scheduled dates become partitions when their box scores arrive
    assert keys == sorted(d for d in hoopr | trimmed if d <= "2026-02-09")
    assert len(keys) == 736 and len(hoopr | trimmed) == 791
    cal = season_calendar(schedule)
    opening = {r["season_year"]: r["season_start_date"] for r in cal.iter_rows(named=True)}
    assert opening[2022] == dt.date(2022, 10, 18) and opening[2023] == dt.date(2023, 10, 24)
    assert keys[0] == "2020-12-22"  # 2020-21 opening night, from its trimmed source
    assert "2026-02-09" == keys[-1]
    assert "2023-07-01" not in keys and "2023-02-17" not in keys  # off-season, All-Star break
    seasons = game_calendar(raw_data_dir).seasons
    assert seasons.get_column("season_year").to_list() == [2020, 2022, 2023, 2024, 2025]
    # Dagster's declared history window (in partitions) covers a whole season of game dates
    assert seasons.get_column("game_dates").max() <= HISTORY_PARTITIONS


def test_a_date_that_is_not_a_partition_is_explained_in_one_line(raw_data_dir):
    cal = game_calendar(raw_data_dir)
    assert cal.explain(dt.date(2023, 2, 1)) is None
    assert cal.explain(dt.date(2023, 7, 1)) == ("2023-07-01 is not a partition: no NBA regular season that day; "
                                                "nearest game dates: 2023-04-09 and 2023-10-24")
    assert cal.explain(dt.date(2023, 2, 18)) == ("2023-02-18 is not a partition: no regular-season game that day "
                                                 "(2022-23 season); nearest game dates: 2023-02-16 and 2023-02-23")
    assert cal.explain(dt.date(2030, 1, 1)).endswith("nearest game dates: 2026-02-09")
    assert cal.explain(dt.date(2026, 2, 11)) == (
        "2026-02-11 is not a partition: its games are scheduled but not in the raw box scores yet (they end at "
        "2026-02-09); it becomes a partition when they arrive; nearest game dates: 2026-02-09")


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
