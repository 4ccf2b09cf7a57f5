"""Phase 4 ``nba_precompute`` assets: each reads its Phase 3 history through the warehouse, runs one
Polars transform over the whole partition range, and writes its rows and its precompute_failures rows
in one transaction."""

import datetime as dt
from collections.abc import Sequence

import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    MaterializeResult,
    MetadataValue,
    asset,
)

from nba_precompute.defs.common import (
    partition_dates,
    partitioned_asset_kwargs,
    read_season_schedule,
)
from nba_precompute.defs.phase3 import write_range
from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.partitions import (
    history_before_d,
    history_through_d,
)
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TableSpec,
)
from nba_precompute.transforms import psza, tdza
from nba_precompute.transforms.common import dates_frame
from nba_precompute.transforms.coverage import (
    CATEGORIES,
    INCOMPLETE_DATA,
    empty_failures,
    missing_partition_failures,
)
from nba_precompute.transforms.quality import split_invalid_rows
from nba_precompute.warehouse.base import PartitionWrite, Warehouse

GROUP = "phase4_precompute"

# How a Phase 4 asset reads an upstream table, as (table, mode) pairs: ``same_day`` (partition D),
# ``before`` (the history [D - SEASON_LOOKBACK_DAYS, D - 1], the as-of rule) or ``through`` (the history
# and D itself). One declaration per asset drives both its Dagster dependencies (the partition mapping
# of each mode) and the check that the upstream partitions it needs were materialised.
Upstream = Sequence[tuple[TableSpec, str]]
_MODE_MAPPINGS = {"same_day": lambda: None, "before": history_before_d, "through": history_through_d}


def upstream_deps(upstream: Upstream) -> list[AssetDep]:
    """The ``AssetDep`` of each (table, mode) pair, with the mode's partition mapping (identity for
    ``same_day``). Raises ``KeyError`` for an unknown mode."""
    return [AssetDep(table.asset_key_path, partition_mapping=_MODE_MAPPINGS[mode]()) for table, mode in upstream]


def _asset_kwargs(table: TableSpec, upstream: Upstream, group: str = GROUP) -> dict:
    return partitioned_asset_kwargs(table, upstream_deps(upstream), group)


def failure_metadata(rows: pl.DataFrame, failures: pl.DataFrame, minimum: int) -> dict[str, object]:
    """Counts per failure category, entities below the minimum, and the incomplete rate (0-1)."""
    counts = dict.fromkeys(CATEGORIES, 0)
    for r in failures.group_by("failure_category").len().iter_rows():
        counts[r[0]] = r[1]
    incomplete = counts[INCOMPLETE_DATA]
    total = rows.height + incomplete
    meta: dict[str, object] = {f"failures_{c.lower()}": MetadataValue.int(n) for c, n in counts.items()}
    meta["minimum_games"] = MetadataValue.int(minimum)
    meta["entities_below_minimum"] = MetadataValue.int(incomplete)
    meta["incomplete_rate"] = MetadataValue.float(incomplete / total if total else 0.0)
    meta["true_failures"] = MetadataValue.int(int(failures.get_column("is_failure").sum()))
    return meta

def upstream_partition_failures(wh: Warehouse, processor: str, deps: Upstream,
                                history_start: dt.date, start: dt.date, end: dt.date) -> pl.DataFrame:
    """DATE_LEVEL MISSING_DEPENDENCY rows for every upstream partition the range needs that was never
    materialised (``nba_processing.partition_log``). ``deps`` pairs each upstream table with its mode:
    ``before`` (days [history_start, D)), ``through`` (days [history_start, D]) or ``same_day`` (D)."""
    dates = dates_frame(start, end)
    frames = [empty_failures()]
    for table, mode in deps:
        if mode not in _MODE_MAPPINGS:
            raise ValueError(f"{processor}: unknown upstream mode {mode!r} for {table.qualified_name}")
        first = start if mode == "same_day" else history_start
        last = end - dt.timedelta(days=1) if mode == "before" else end
        if last < first:
            continue
        done = set(wh.partition_log(table, first, last).get_column("partition_date").to_list())
        missing = [d for d in pl.date_range(first, last, "1d", eager=True).to_list() if d not in done]
        frames.append(missing_partition_failures(dates, missing, table.qualified_name, processor, mode))
    return pl.concat(frames)


def _write_phase4(context: AssetExecutionContext, warehouse: WarehouseResource, table: TableSpec,
                  processor: str, rows: pl.DataFrame, failures: pl.DataFrame, start, end,
                  schedule: pl.DataFrame, minimum: int, upstream_failures: pl.DataFrame) -> MaterializeResult:
    rows, invalid = split_invalid_rows(rows, table, processor)  # PROCESSING_ERROR: withheld, recorded
    if invalid.height:
        context.log.error(f"{processor}: {invalid.height} row(s) with invalid values withheld (PROCESSING_ERROR): "
                          + " | ".join(invalid.get_column("reason").head(3).to_list()))
    failures = pl.concat([failures, upstream_failures, invalid]).sort("analysis_date", "failure_category", "entity_id")
    if upstream_failures.height:
        context.log.error(
            f"{processor}: upstream partitions missing for {upstream_failures.get_column('analysis_date').n_unique()}"
            f" date(s): " + " | ".join(upstream_failures.get_column("reason").unique().head(3).to_list())
        )
    meta = failure_metadata(rows, failures, minimum)
    context.log.info(
        f"{processor}: {rows.height} rows, {meta['entities_below_minimum'].value} entities below the "
        f"{minimum}-game minimum (INCOMPLETE_DATA, expected), {meta['true_failures'].value} true failures"
    )
    return write_range(
        context, warehouse, table, rows, start, end, schedule,
        extra_writes=[PartitionWrite(PRECOMPUTE_FAILURES, failures, scope={"processor": processor})],
        extra_metadata=meta,
    )

TDZA_UPSTREAM: Upstream = ((TEAM_DEFENSE_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through"))


@asset(**_asset_kwargs(TEAM_DEFENSE_ZONE_ANALYSIS, TDZA_UPSTREAM))
def team_defense_zone_analysis(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    team_defense = wh.read(TEAM_DEFENSE_GAME_SUMMARY, history_start, end)
    rows, failures = tdza.build_team_defense_zone_analysis(team_defense, schedule, start, end)
    upstream = upstream_partition_failures(wh, tdza.PROCESSOR, TDZA_UPSTREAM, history_start, start, end)
    return _write_phase4(context, warehouse, TEAM_DEFENSE_ZONE_ANALYSIS, tdza.PROCESSOR, rows, failures,
                         start, end, schedule, tdza.MIN_GAMES, upstream)

PSZA_UPSTREAM: Upstream = ((PLAYER_GAME_SUMMARY, "before"), (NBA_SCHEDULE, "through"))


@asset(**_asset_kwargs(PLAYER_SHOT_ZONE_ANALYSIS, PSZA_UPSTREAM))
def player_shot_zone_analysis(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    player_games = wh.read(PLAYER_GAME_SUMMARY, history_start, end)
    rows, failures = psza.build_player_shot_zone_analysis(player_games, schedule, start, end)
    upstream = upstream_partition_failures(wh, psza.PROCESSOR, PSZA_UPSTREAM, history_start, start, end)
    return _write_phase4(context, warehouse, PLAYER_SHOT_ZONE_ANALYSIS, psza.PROCESSOR, rows, failures,
                         start, end, schedule, psza.MIN_GAMES, upstream)

PRECOMPUTE_ASSETS = [team_defense_zone_analysis, player_shot_zone_analysis]
