"""Phase 4 ``nba_predictions`` asset: ml_feature_store_v2 (MLFS), the last step of Phase 4. It reads the
four Phase 4 tables for D (PDC, PCF, PSZA and the opponent's TDZA) and the Phase 3 history for its
fallbacks, runs one Polars transform over the partition range and writes rows and failures in one
transaction."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from nba_precompute.defs.common import partition_dates, read_season_schedule
from nba_precompute.defs.precompute import (
    Upstream,
    _asset_kwargs,
    _write_phase4,
    upstream_partition_failures,
)
from nba_precompute.defs.resources import WarehouseResource
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
MLFS_UPSTREAM: Upstream = (
    *((t, "same_day") for t in (PLAYER_DAILY_CACHE, PLAYER_COMPOSITE_FACTORS, PLAYER_SHOT_ZONE_ANALYSIS,
                                TEAM_DEFENSE_ZONE_ANALYSIS, UPCOMING_PLAYER_GAME_CONTEXT)),
    (PLAYER_GAME_SUMMARY, "before"), (TEAM_OFFENSE_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through"),
)


@asset(**_asset_kwargs(ML_FEATURE_STORE_V2, MLFS_UPSTREAM, group=GROUP))
def ml_feature_store_v2(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    rows, failures = mlfs.build_ml_feature_store(
        wh.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end), wh.read(PLAYER_DAILY_CACHE, start, end),
        wh.read(PLAYER_COMPOSITE_FACTORS, start, end), wh.read(PLAYER_SHOT_ZONE_ANALYSIS, start, end),
        wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, start, end), wh.read(PLAYER_GAME_SUMMARY, history_start, end),
        wh.read(TEAM_OFFENSE_GAME_SUMMARY, history_start, end), start, end)
    upstream = upstream_partition_failures(wh, mlfs.PROCESSOR, MLFS_UPSTREAM, history_start, start, end)
    return _write_phase4(context, warehouse, ML_FEATURE_STORE_V2, mlfs.PROCESSOR, rows, failures, start, end,
                         schedule, 0, upstream)


PREDICTION_ASSETS = [ml_feature_store_v2]
