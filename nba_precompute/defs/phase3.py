"""Raw files (external assets) and the Phase 3 ``nba_analytics`` assets built from them.

:func:`phase3_definitions` is loaded by Dagster (``dg``'s defs folder); :func:`build_phase3_assets`
builds the six assets for a partitions definition and warehouse kind. Each asset reads the raw files
once per run (``RawDataResource``), runs one Phase 3 builder (``transforms.phase3``) over the run's
whole partition range and replaces that range in the warehouse in one transaction.
"""

import datetime as dt

import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetsDefinition,
    AssetSpec,
    Definitions,
    MaterializeResult,
    PartitionsDefinition,
    asset,
    definitions,
)

from nba_precompute import config
from nba_precompute.defs.common import (
    partition_dates,
    read_season_schedule,
    require_ready,
    table_asset_kwargs,
    write_range,
)
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import daily_partitions, history_before_d, history_through_d, season_label
from nba_precompute.raw import readers, season_2020
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
)
from nba_precompute.transforms import phase3
from nba_precompute.transforms.common import shot_zone_disagreement, zone_split_known

GROUP = "phase3_analytics"

RAW_SCHEDULE = AssetSpec(
    key=["raw", "nba_schedule"], group_name="raw", kinds={"csv"},
    description=f"NBA schedule, every game type (hoopR). File: <NBA_RAW_DATA_DIR>/{readers.SCHEDULE_FILE}",
)
RAW_PLAYER_BOXSCORES = AssetSpec(
    key=["raw", "player_boxscores"], group_name="raw", kinds={"csv"},
    description="Player box scores incl. DNP rows (NBA boxscoretraditionalv3 via hoopR). Files: "
    f"<NBA_RAW_DATA_DIR>/{readers.PLAYER_BOXSCORE_FILE}; 2020-21 (trimmed, players who appeared): "
    f"<NBA_RAW_DATA_DIR>/{season_2020.PLAYER_LOG_FILE}",
)
RAW_TEAM_GAME_LOGS = AssetSpec(
    key=["raw", "team_game_logs"], group_name="raw", kinds={"csv"},
    description=f"Team box scores (NBA.com team game logs). Files: <NBA_RAW_DATA_DIR>/{readers.TEAM_GAME_LOG_FILE}; "
    f"2020-21 (trimmed; also its schedule): <NBA_RAW_DATA_DIR>/{season_2020.TEAM_LOG_FILE}",
)
RAW_SHOTS = AssetSpec(
    key=["raw", "nba_shots"], group_name="raw", kinds={"csv"},
    description="Every field-goal attempt with zone and distance (NBA.com shotchartdetail). Files: "
    f"<NBA_RAW_DATA_DIR>/{readers.SHOTS_FILE}",
)
RAW_ASSETS = (RAW_SCHEDULE, RAW_PLAYER_BOXSCORES, RAW_TEAM_GAME_LOGS, RAW_SHOTS)

# the Phase 3 tables built from the raw files (the others are built from Phase 3 tables)
RAW_READING = (NBA_SCHEDULE, PLAYER_GAME_SUMMARY, TEAM_OFFENSE_GAME_SUMMARY, TEAM_DEFENSE_GAME_SUMMARY)


def _consumers(context: AssetExecutionContext) -> tuple[str, list[str]]:
    """This asset and every raw-reading asset of the run (for ``RawDataResource.phase3_inputs``).

    Without a selection to go by - a run whose ``asset_selection`` is empty (Python's ``materialize()``
    stores ``frozenset()`` for its ephemeral job) or ``None`` - every raw-reading asset counts: the
    parsed files are then kept until the last of them has been served (at worst until the run ends),
    never released after the first one and parsed again.
    """
    names = {"/".join(t.asset_key_path) for t in RAW_READING}
    selection = context.run.asset_selection
    in_run = {k.to_user_string() for k in selection} & names if selection else names
    return context.asset_key.to_user_string(), sorted(in_run)


def shot_zone_disagreement_message(flagged: pl.DataFrame, shown: int = 5) -> str:
    """The warning about ``player_game_summary`` rows whose shot chart and box score disagree: how many,
    and each of them (``game_id player_lookup: issues``) when there are at most ``shown``, else the
    first ``shown`` (in game and player order) saying so."""
    first = flagged.sort("game_id", "player_lookup").head(shown)
    listed = "; ".join(f"{r['game_id']} {r['player_lookup']}: {', '.join(r['data_quality_issues'])}"
                       for r in first.iter_rows(named=True))
    return (f"{flagged.height} player-game(s) where the shot chart and the box score disagree (kept, "
            f"has_complete_shot_zones = false)" + (f"; first {shown}: " if flagged.height > shown else ": ") + listed)


# Each computation below first asks require_ready, which refuses the step, before anything is read or
# written, when one of its partitions reads a raw row that breaks a domain rule (the quarantine,
# RawDataResource explains it); the computations that read raw files then take them from
# ``raw_data.phase3_inputs``. ``context``: the asset's execution context, or the refresh job's stand-in
# for it (``defs.common.OpTableContext``); each writes the context's partition range and returns what
# ``write_range`` returns.

def compute_nba_schedule(context, warehouse: WarehouseResource, raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.nba_schedule`` over the context's partition range (``transforms.phase3.build_schedule``)."""
    require_ready(context, raw_data)
    start, end = partition_dates(context)
    schedule = raw_data.phase3_inputs(start, end, *_consumers(context)).schedule
    rows = phase3.build_schedule(schedule, start, end)
    return write_range(context, warehouse, NBA_SCHEDULE, rows, start, end, schedule)


def compute_player_game_summary(context, warehouse: WarehouseResource,
                                raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.player_game_summary`` (``transforms.phase3.build_player_game_summary``); warns
    about player-games whose shot chart and box score disagree."""
    require_ready(context, raw_data, box_scores=True)
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end, *_consumers(context))
    schedule = raw.schedule
    rows = phase3.build_player_game_summary(raw.player_boxscores, raw.team_game_logs, schedule, raw.shots,
                                            start, end, shot_seasons=raw.shot_seasons)
    flagged = rows.filter(shot_zone_disagreement())
    no_chart = rows.filter(~zone_split_known()).get_column("season_year").unique().sort()
    if no_chart.len():
        context.log.info("no shot chart for season(s) " + ", ".join(season_label(y) for y in no_chart)
                         + ": paint and mid-range columns NULL (has_complete_shot_zones = false)")
    if flagged.height:
        context.log.warning(shot_zone_disagreement_message(flagged))
    daily = rows.group_by(pl.col("game_date").alias("day")).agg(
        pl.col("is_dnp").sum().cast(pl.Int64).alias("dnp_rows"),
        shot_zone_disagreement().sum().cast(pl.Int64).alias("shot_zone_disagreements"),
        zone_split_known().all().alias("has_shot_chart"))
    return write_range(context, warehouse, PLAYER_GAME_SUMMARY, rows, start, end, schedule,
                       daily_metadata=daily)


def compute_team_offense_game_summary(context, warehouse: WarehouseResource,
                                      raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.team_offense_game_summary`` (``transforms.phase3.build_team_offense_game_summary``)."""
    require_ready(context, raw_data, box_scores=True)
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end, *_consumers(context))
    schedule = raw.schedule
    rows = phase3.build_team_offense_game_summary(raw.team_game_logs, schedule, start, end)
    return write_range(context, warehouse, TEAM_OFFENSE_GAME_SUMMARY, rows, start, end, schedule)


def compute_team_defense_game_summary(context, warehouse: WarehouseResource,
                                      raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.team_defense_game_summary`` (``transforms.phase3.build_team_defense_game_summary``)."""
    require_ready(context, raw_data, box_scores=True)
    start, end = partition_dates(context)
    raw = raw_data.phase3_inputs(start, end, *_consumers(context))
    schedule = raw.schedule
    rows = phase3.build_team_defense_game_summary(raw.team_game_logs, schedule, raw.shots, start, end,
                                                  shot_seasons=raw.shot_seasons)
    return write_range(context, warehouse, TEAM_DEFENSE_GAME_SUMMARY, rows, start, end, schedule)


def compute_upcoming_team_game_context(context, warehouse: WarehouseResource,
                                       raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.upcoming_team_game_context`` from the warehouse's schedule
    (``transforms.phase3.build_upcoming_team_game_context``)."""
    require_ready(context, raw_data)
    start, end = partition_dates(context)
    schedule, _ = read_season_schedule(warehouse.get(), start, end)
    rows = phase3.build_upcoming_team_game_context(schedule, start, end)
    return write_range(context, warehouse, UPCOMING_TEAM_GAME_CONTEXT, rows, start, end, schedule)


def compute_upcoming_player_game_context(context, warehouse: WarehouseResource,
                                         raw_data: RawDataResource) -> MaterializeResult:
    """``nba_analytics.upcoming_player_game_context``: the pre-game universe (SPEC §2, §4). D reads the
    box-score tables strictly before D (the reads end at D - 1) and the schedule through D (D's games,
    future ones included); from the previous season's opening night, since a team's opening-night
    universe is its roster at the end of the previous season (``transforms.phase3.pregame_universe``)."""
    require_ready(context, raw_data)
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    last_box_score_day = end - dt.timedelta(days=1)
    previous_start = history_start - dt.timedelta(days=phase3.PREVIOUS_SEASON_DAYS)
    rows = phase3.build_upcoming_player_game_context(
        wh.read(PLAYER_GAME_SUMMARY, previous_start, last_box_score_day),
        wh.read(TEAM_OFFENSE_GAME_SUMMARY, history_start, last_box_score_day),
        schedule, start, end)
    # teams scheduled on D whose pre-game universe is empty (opening night, a team's first game):
    # expected, not a failure; counted per day in the materialisation metadata
    scheduled = phase3.build_upcoming_team_game_context(schedule, start, end).select(
        pl.col("game_date").alias("day"), "team_abbr")
    empty = scheduled.join(rows.select(pl.col("game_date").alias("day"), "team_abbr").unique(),
                           on=["day", "team_abbr"], how="anti")
    daily = scheduled.group_by("day").agg(pl.len().cast(pl.Int64).alias("teams_scheduled")).join(
        empty.group_by("day").agg(
            pl.len().cast(pl.Int64).alias("teams_without_pregame_universe"),
            pl.col("team_abbr").sort().str.join(", ").alias("teams_without_players")),
        on="day", how="left").with_columns(pl.col("teams_without_pregame_universe").fill_null(0))
    summary = (f"; {empty.height} scheduled team-game(s) with no pre-game universe (no played game "
               f"in the 30 days before D: opening night, expected)" if empty.height else "")
    return write_range(context, warehouse, UPCOMING_PLAYER_GAME_CONTEXT, rows, start, end, schedule,
                       daily_metadata=daily, summary=summary)


# qualified table name -> its computation (the assets below and the refresh job, ``defs/refresh_job.py``)
PHASE3_COMPUTE = {
    NBA_SCHEDULE.qualified_name: compute_nba_schedule,
    PLAYER_GAME_SUMMARY.qualified_name: compute_player_game_summary,
    TEAM_OFFENSE_GAME_SUMMARY.qualified_name: compute_team_offense_game_summary,
    TEAM_DEFENSE_GAME_SUMMARY.qualified_name: compute_team_defense_game_summary,
    UPCOMING_TEAM_GAME_CONTEXT.qualified_name: compute_upcoming_team_game_context,
    UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: compute_upcoming_player_game_context,
}


def build_phase3_assets(partitions_def: PartitionsDefinition, warehouse_kind: str) -> list[AssetsDefinition]:
    """The six Phase 3 assets for ``partitions_def``, with kinds ``polars`` + ``warehouse_kind``; each
    runs its table's computation (:data:`PHASE3_COMPUTE`) over the run's partition range."""

    def table_asset(table, deps) -> AssetsDefinition:
        compute = PHASE3_COMPUTE[table.qualified_name]

        @asset(**table_asset_kwargs(table, deps=deps, group=GROUP, partitions_def=partitions_def,
                                    warehouse_kind=warehouse_kind))
        def _table(context: AssetExecutionContext, warehouse: WarehouseResource,
                   raw_data: RawDataResource) -> MaterializeResult:
            return compute(context, warehouse, raw_data)

        return _table

    def history(table):
        return AssetDep(table.asset_key_path, partition_mapping=history_through_d())

    def before(table, extra_days=0):
        return AssetDep(table.asset_key_path, partition_mapping=history_before_d(extra_days))

    box = [RAW_SCHEDULE.key, RAW_TEAM_GAME_LOGS.key]
    return [
        table_asset(NBA_SCHEDULE, [RAW_SCHEDULE.key]),
        table_asset(PLAYER_GAME_SUMMARY, [RAW_SCHEDULE.key, RAW_PLAYER_BOXSCORES.key, RAW_TEAM_GAME_LOGS.key,
                                          RAW_SHOTS.key]),
        table_asset(TEAM_OFFENSE_GAME_SUMMARY, box),
        table_asset(TEAM_DEFENSE_GAME_SUMMARY, [*box, RAW_SHOTS.key]),
        table_asset(UPCOMING_TEAM_GAME_CONTEXT, [history(NBA_SCHEDULE)]),
        # the pre-game universe (SPEC §2, §4): the box-score tables strictly before D, the schedule through D
        table_asset(UPCOMING_PLAYER_GAME_CONTEXT, [before(PLAYER_GAME_SUMMARY, phase3.PREVIOUS_SEASON_DAYS),
                                                   before(TEAM_OFFENSE_GAME_SUMMARY), history(NBA_SCHEDULE)]),
    ]


@definitions
def phase3_definitions() -> Definitions:
    """The raw external assets and the Phase 3 assets (kinds follow ``NBA_PRECOMPUTE_WAREHOUSE``)."""
    return Definitions(assets=[*RAW_ASSETS, *build_phase3_assets(daily_partitions(), config.warehouse_kind())])
