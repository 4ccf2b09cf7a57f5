"""Raw files (external assets) and the Phase 3 ``nba_analytics`` assets built from them."""

import datetime as dt

import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetSpec,
    MaterializeResult,
    asset,
)

from nba_precompute.defs.common import (
    dates_without_games,
    partition_dates,
    partitioned_asset_kwargs,
    range_metadata,
    read_season_schedule,
)
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import history_through_d
from nba_precompute.raw import readers
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
    TableSpec,
)
from nba_precompute.transforms import phase3
from nba_precompute.warehouse.base import PartitionWrite

GROUP = "phase3_analytics"
# The storage kind shown in the UI follows NBA_PRECOMPUTE_WAREHOUSE (duckdb by default, or bigquery).

RAW_SCHEDULE = AssetSpec(
    key=["raw", "nba_schedule"], group_name="raw", kinds={"csv"},
    description=f"NBA schedule, every game type (hoopR). File: <NBA_RAW_DATA_DIR>/{readers.SCHEDULE_FILE}",
)
RAW_PLAYER_BOXSCORES = AssetSpec(
    key=["raw", "player_boxscores"], group_name="raw", kinds={"csv"},
    description="Player box scores incl. DNP rows (NBA boxscoretraditionalv3 via hoopR). File: "
    f"<NBA_RAW_DATA_DIR>/{readers.PLAYER_BOXSCORE_FILE}",
)
RAW_TEAM_GAME_LOGS = AssetSpec(
    key=["raw", "team_game_logs"], group_name="raw", kinds={"csv"},
    description=f"Team box scores (NBA.com team game logs). File: <NBA_RAW_DATA_DIR>/{readers.TEAM_GAME_LOG_FILE}",
)
RAW_SHOTS = AssetSpec(
    key=["raw", "nba_shots"], group_name="raw", kinds={"csv"},
    description="Every field-goal attempt with zone and distance (NBA.com shotchartdetail). Files: "
    f"<NBA_RAW_DATA_DIR>/{readers.SHOTS_FILE}",
)
RAW_ASSETS = [RAW_SCHEDULE, RAW_PLAYER_BOXSCORES, RAW_TEAM_GAME_LOGS, RAW_SHOTS]

def _asset_kwargs(table: TableSpec, deps: list) -> dict:
    return partitioned_asset_kwargs(table, deps, GROUP)

def write_range(context: AssetExecutionContext, warehouse: WarehouseResource, table: TableSpec,
                rows: pl.DataFrame, start: dt.date, end: dt.date, schedule: pl.DataFrame,
                extra_writes: list[PartitionWrite] | None = None,
                extra_metadata: dict | None = None) -> MaterializeResult:
    """Replace the partitions [start, end] of ``table`` (and ``extra_writes``) atomically; log and
    return the materialisation metadata."""
    writes = [PartitionWrite(table, rows), *(extra_writes or [])]
    warehouse.get().replace_partitions(writes, start, end, run_id=context.run.run_id)
    no_games = dates_without_games(schedule, start, end)
    meta = range_metadata(start, end, rows, table.partition_column, no_games)
    meta.update(extra_metadata or {})
    context.log.info(
        f"{table.qualified_name}: wrote {rows.height} rows for {start}..{end} "
        f"({(end - start).days + 1} partition(s), {len(no_games)} without games)"
    )
    return MaterializeResult(metadata=meta)

# Every asset below that reads raw files takes them from ``raw_data.phase3_inputs``, which checks *all*
# raw inputs of the run against the domain rules before returning: a violation fails each of these
# steps before its write, so nothing of the run's Phase 3 is written (RawDataResource explains why).

@asset(**_asset_kwargs(NBA_SCHEDULE, [RAW_SCHEDULE.key]))
def nba_schedule(context: AssetExecutionContext, warehouse: WarehouseResource,
                 raw_data: RawDataResource) -> MaterializeResult:
    start, end = partition_dates(context)
    schedule = raw_data.phase3_inputs(start, end).schedule
    rows = phase3.build_schedule(schedule, start, end)
    return write_range(context, warehouse, NBA_SCHEDULE, rows, start, end, schedule)

@asset(**_asset_kwargs(PLAYER_GAME_SUMMARY, [RAW_SCHEDULE.key, RAW_PLAYER_BOXSCORES.key,
                                             RAW_TEAM_GAME_LOGS.key, RAW_SHOTS.key]))
def player_game_summary(context: AssetExecutionContext, warehouse: WarehouseResource,
                        raw_data: RawDataResource) -> MaterializeResult:
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end)
    schedule, box, logs, shots = raw.schedule, raw.player_boxscores, raw.team_game_logs, raw.shots
    rows = phase3.build_player_game_summary(box, logs, schedule, shots, start, end)
    flagged = rows.filter(~pl.col("has_complete_shot_zones"))
    if flagged.height:
        context.log.warning(
            f"{flagged.height} player-game(s) where the shot chart and the box score disagree (kept, "
            f"has_complete_shot_zones = false): "
            + "; ".join(f"{r['game_id']} {r['player_lookup']}: {', '.join(r['data_quality_issues'])}"
                        for r in flagged.head(5).iter_rows(named=True))
        )
    return write_range(context, warehouse, PLAYER_GAME_SUMMARY, rows, start, end, schedule, extra_metadata={
        "dnp_rows": int(rows.get_column("is_dnp").sum()),
        "shot_zone_disagreements": flagged.height,
    })

@asset(**_asset_kwargs(TEAM_OFFENSE_GAME_SUMMARY, [RAW_SCHEDULE.key, RAW_TEAM_GAME_LOGS.key]))
def team_offense_game_summary(context: AssetExecutionContext, warehouse: WarehouseResource,
                              raw_data: RawDataResource) -> MaterializeResult:
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end)
    schedule, logs = raw.schedule, raw.team_game_logs
    rows = phase3.build_team_offense_game_summary(logs, schedule, start, end)
    return write_range(context, warehouse, TEAM_OFFENSE_GAME_SUMMARY, rows, start, end, schedule)

@asset(**_asset_kwargs(TEAM_DEFENSE_GAME_SUMMARY, [RAW_SCHEDULE.key, RAW_TEAM_GAME_LOGS.key, RAW_SHOTS.key]))
def team_defense_game_summary(context: AssetExecutionContext, warehouse: WarehouseResource,
                              raw_data: RawDataResource) -> MaterializeResult:
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end)
    schedule, logs, shots = raw.schedule, raw.team_game_logs, raw.shots
    rows = phase3.build_team_defense_game_summary(logs, schedule, shots, start, end)
    return write_range(context, warehouse, TEAM_DEFENSE_GAME_SUMMARY, rows, start, end, schedule)

@asset(**_asset_kwargs(UPCOMING_TEAM_GAME_CONTEXT, [AssetDep(NBA_SCHEDULE.asset_key_path,
                                                             partition_mapping=history_through_d())]))
def upcoming_team_game_context(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    schedule, _ = read_season_schedule(warehouse.get(), start, end)
    rows = phase3.build_upcoming_team_game_context(schedule, start, end)
    return write_range(context, warehouse, UPCOMING_TEAM_GAME_CONTEXT, rows, start, end, schedule)

@asset(**_asset_kwargs(UPCOMING_PLAYER_GAME_CONTEXT, [
    AssetDep(PLAYER_GAME_SUMMARY.asset_key_path, partition_mapping=history_through_d()),
    AssetDep(TEAM_OFFENSE_GAME_SUMMARY.asset_key_path, partition_mapping=history_through_d()),
    AssetDep(NBA_SCHEDULE.asset_key_path, partition_mapping=history_through_d()),
]))
def upcoming_player_game_context(context: AssetExecutionContext,
                                 warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    player_games = wh.read(PLAYER_GAME_SUMMARY, history_start, end)
    team_offense = wh.read(TEAM_OFFENSE_GAME_SUMMARY, history_start, end)
    rows = phase3.build_upcoming_player_game_context(player_games, team_offense, schedule, start, end)
    return write_range(context, warehouse, UPCOMING_PLAYER_GAME_CONTEXT, rows, start, end, schedule)

PHASE3_ASSETS = [nba_schedule, player_game_summary, team_offense_game_summary, team_defense_game_summary,
                 upcoming_team_game_context, upcoming_player_game_context]
