"""Phase 4 ``nba_predictions`` asset: ml_feature_store_v2 (MLFS), the last step of Phase 4. It reads the
four Phase 4 tables for D (PDC, PCF, PSZA and the opponent's TDZA) and the Phase 3 history for its
fallbacks, runs one Polars transform over the partition range and writes rows and failures in one
transaction."""

from dagster import AssetDep, AssetExecutionContext, MaterializeResult, asset

from nba_precompute.defs.common import partition_dates, read_season_schedule
from nba_precompute.defs.precompute import (
    _asset_kwargs,
    _write_phase4,
    upstream_partition_failures,
)
from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.partitions import history_before_d, history_through_d
from nba_precompute.schemas import (
    ML_FEATURE_STORE_V2,
    NBA_SCHEDULE,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute.transforms import mlfs

GROUP = "phase4_predictions"
_SAME_DAY = (PLAYER_DAILY_CACHE, PLAYER_COMPOSITE_FACTORS, PLAYER_SHOT_ZONE_ANALYSIS, TEAM_DEFENSE_ZONE_ANALYSIS,
             UPCOMING_PLAYER_GAME_CONTEXT)


@asset(**{**_asset_kwargs(ML_FEATURE_STORE_V2, [
    *[AssetDep(t.asset_key_path) for t in _SAME_DAY],
    AssetDep(PLAYER_GAME_SUMMARY.asset_key_path, partition_mapping=history_before_d()),
    AssetDep(TEAM_OFFENSE_GAME_SUMMARY.asset_key_path, partition_mapping=history_before_d()),
    AssetDep(NBA_SCHEDULE.asset_key_path, partition_mapping=history_through_d()),
]), "group_name": GROUP})
def ml_feature_store_v2(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    rows, failures = mlfs.build_ml_feature_store(
        wh.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end), wh.read(PLAYER_DAILY_CACHE, start, end),
        wh.read(PLAYER_COMPOSITE_FACTORS, start, end), wh.read(PLAYER_SHOT_ZONE_ANALYSIS, start, end),
        wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, start, end), wh.read(PLAYER_GAME_SUMMARY, history_start, end),
        wh.read(TEAM_OFFENSE_GAME_SUMMARY, history_start, end), start, end)
    upstream = upstream_partition_failures(
        wh, mlfs.PROCESSOR, [*[(t, "same_day") for t in _SAME_DAY], (PLAYER_GAME_SUMMARY, "before"),
                             (TEAM_OFFENSE_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through")],
        history_start, start, end)
    return _write_phase4(context, warehouse, ML_FEATURE_STORE_V2, mlfs.PROCESSOR, rows, failures, start, end,
                         schedule, 0, upstream)


PREDICTION_ASSETS = [ml_feature_store_v2]
