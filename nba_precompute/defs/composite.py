"""Phase 4 ``nba_precompute`` composite assets: player_composite_factors (PCF) and player_daily_cache
(PDC). Like the TDZA / PSZA assets, each reads its inputs through the warehouse, runs one Polars
transform over the whole partition range and writes its rows and precompute_failures rows in one
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
    NBA_SCHEDULE,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
)
from nba_precompute.transforms import pcf, pdc

PCF_UPSTREAM: Upstream = (
    (PLAYER_SHOT_ZONE_ANALYSIS, "same_day"), (TEAM_DEFENSE_ZONE_ANALYSIS, "same_day"),
    (UPCOMING_PLAYER_GAME_CONTEXT, "same_day"), (UPCOMING_TEAM_GAME_CONTEXT, "same_day"),
    (PLAYER_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through"),
)
PDC_UPSTREAM: Upstream = (
    (UPCOMING_PLAYER_GAME_CONTEXT, "same_day"), (PLAYER_SHOT_ZONE_ANALYSIS, "same_day"),
    (PLAYER_GAME_SUMMARY, "before"), (TEAM_OFFENSE_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through"),
)


@asset(**_asset_kwargs(PLAYER_COMPOSITE_FACTORS, PCF_UPSTREAM))
def player_composite_factors(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    present = wh.read(PLAYER_GAME_SUMMARY, history_start, end, columns=["game_id", "team_abbr"]).unique()
    rows, failures = pcf.build_player_composite_factors(
        wh.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end), wh.read(PLAYER_SHOT_ZONE_ANALYSIS, start, end),
        wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, start, end), wh.read(UPCOMING_TEAM_GAME_CONTEXT, start, end),
        present, schedule, start, end)
    upstream = upstream_partition_failures(wh, pcf.PROCESSOR, PCF_UPSTREAM, history_start, start, end)
    return _write_phase4(context, warehouse, PLAYER_COMPOSITE_FACTORS, pcf.PROCESSOR, rows, failures, start, end,
                         schedule, 0, upstream)


@asset(**_asset_kwargs(PLAYER_DAILY_CACHE, PDC_UPSTREAM))
def player_daily_cache(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    rows, failures = pdc.build_player_daily_cache(
        wh.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end), wh.read(PLAYER_GAME_SUMMARY, history_start, end),
        wh.read(TEAM_OFFENSE_GAME_SUMMARY, history_start, end), wh.read(PLAYER_SHOT_ZONE_ANALYSIS, start, end),
        schedule, start, end)
    upstream = upstream_partition_failures(wh, pdc.PROCESSOR, PDC_UPSTREAM, history_start, start, end)
    return _write_phase4(context, warehouse, PLAYER_DAILY_CACHE, pdc.PROCESSOR, rows, failures, start, end,
                         schedule, pdc.MIN_GAMES, upstream)


COMPOSITE_ASSETS = [player_composite_factors, player_daily_cache]
