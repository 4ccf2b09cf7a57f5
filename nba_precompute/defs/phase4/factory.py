"""Build a Phase 4 asset from its declaration (:class:`~nba_precompute.defs.phase4.tables.Phase4Table`).

The asset of a declaration, for a run over the partitions [start, end]:

1. reads the season schedule (from the opening night of the season containing ``start``) and every
   declared upstream over its window: ``same_day`` -> [start, end], ``before`` / ``through`` ->
   [opening night, end] (the transform applies the as-of rule ``game_date < D`` itself), or from
   ``lookback_days`` before ``start`` when the declaration asks for more than the season;
2. calls the transform once for the whole range (one vectorised Polars pass);
3. withholds rows that break a value rule (``PROCESSING_ERROR``), adds ``MISSING_DEPENDENCY``
   DATE_LEVEL rows for upstream partitions the window needs that were never materialised or were
   changed since written, and withholds the rows whose team has a game missing upstream;
4. replaces the range of the table and of its ``precompute_failures`` rows in one transaction and
   attaches each day's own counts to that day's materialisation.

Failures live in one layer: every ``precompute_failures`` row is built by the pure transforms
(the table's transform, ``transforms.quality`` for ``PROCESSING_ERROR``, ``transforms.coverage`` for
``MISSING_DEPENDENCY``). This module only reads what they need from the warehouse (partition log, row
counts, the team-games present upstream), calls them, logs their summary and writes their rows; the
blocking asset checks then fail on those rows.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl
from dagster import (
    AssetDep,
    AssetExecutionContext,
    AssetsDefinition,
    MaterializeResult,
    PartitionsDefinition,
    TimeWindowPartitionMapping,
    asset,
)

from nba_precompute.defs.common import (
    game_dates,
    partition_dates,
    partition_days,
    read_season_schedule,
    require_ready,
    table_asset_kwargs,
    write_range,
)
from nba_precompute.defs.phase4.tables import BEFORE, SAME_DAY, THROUGH, Phase4Table
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import history_before_d, history_through_d
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    empty_failures,
)
from nba_precompute.transforms.common import season_calendar, with_season
from nba_precompute.transforms.coverage import (
    CATEGORIES,
    missing_team_games,
    one_date_level_row_per_upstream,
    partition_gaps,
    upstream_gap_failures,
    withhold_blocked,
)
from nba_precompute.transforms.quality import daily_check_results, range_rules, split_invalid_rows
from nba_precompute.warehouse.base import PartitionWrite, Warehouse


def partition_mapping(window: str, lookback_days: int | None = None) -> TimeWindowPartitionMapping | None:
    """Dagster's partition mapping of an upstream window (identity for ``same_day``); a ``before`` window
    that reads ``lookback_days`` before the run declares them too."""
    if window == BEFORE:
        return history_before_d(lookback_days or 0)
    return {SAME_DAY: None, THROUGH: history_through_d()}[window]


def upstream_deps(table: Phase4Table) -> list[AssetDep]:
    """The declared upstreams as Dagster dependencies with their partition mappings."""
    return [AssetDep(u.table.asset_key_path, partition_mapping=partition_mapping(u.window, u.lookback_days))
            for u in table.upstream]


def read_inputs(wh: Warehouse, table: Phase4Table, schedule: pl.DataFrame, history_start: dt.date,
                start: dt.date, end: dt.date) -> dict[str, pl.DataFrame]:
    """The transform's keyword arguments: each declared upstream read over its window."""
    inputs: dict[str, pl.DataFrame] = {}
    for u in table.upstream:
        if u.param is None:
            continue
        if u.table == NBA_SCHEDULE:
            inputs[u.param] = schedule
            continue
        first = start if u.window == SAME_DAY else history_start
        if u.window != SAME_DAY and u.lookback_days is not None:
            first = min(first, start - dt.timedelta(days=u.lookback_days))
        inputs[u.param] = wh.read(u.table, first, end, columns=list(u.columns) if u.columns else None)
    return inputs


# game-grained Phase 3 tables: the column naming the team whose game a row belongs to
GAME_TEAM_COLUMNS = {
    PLAYER_GAME_SUMMARY.qualified_name: "team_abbr",
    TEAM_OFFENSE_GAME_SUMMARY.qualified_name: "team_abbr",
    TEAM_DEFENSE_GAME_SUMMARY.qualified_name: "defending_team_abbr",
}


@dataclass
class UpstreamGaps:
    """What the upstream of a range lacks (see :func:`upstream_gaps`)."""

    date_level: pl.DataFrame  # DATE_LEVEL MISSING_DEPENDENCY failure rows, one per (D, upstream table)
    same_day_bad: set  # days D whose same-day upstream partition is missing or altered: nothing of D is trusted
    team_gaps: list  # (window, frame of missing team-games: season_year, team_abbr, game_date, game_id, table)


def _window_days(window: str, history_start: dt.date, end: dt.date, run_days: Sequence[dt.date]) -> list[dt.date]:
    """The upstream partitions a window needs: the run's own days (``same_day``), else every day from
    the season's opening night to D - 1 (``before``) or D (``through``), days without games included
    (they are materialised as empty partitions)."""
    if window == SAME_DAY:
        return list(run_days)
    last = end - dt.timedelta(days=1) if window == BEFORE else end
    return [history_start + dt.timedelta(days=i) for i in range((last - history_start).days + 1)]


def upstream_gaps(wh: Warehouse, table: Phase4Table, schedule: pl.DataFrame,
                  run_days: Sequence[dt.date], history_start: dt.date, start: dt.date, end: dt.date) -> UpstreamGaps:
    """Check every declared upstream over its window, from the partition log AND the data itself.

    * A partition the window needs (every day of the window) that was never materialised,
      or whose row count differs from the count the partition log recorded (rows deleted or added behind
      the platform's back) -> a DATE_LEVEL ``MISSING_DEPENDENCY`` row for each D it affects, naming the
      days and the command that materialises them.
    * Game-grained Phase 3 tables (player / team game summaries): every team-game the schedule says was
      played must have its rows -> the missing team-games, so that the entities of those teams can be
      withheld (``coverage.withhold_blocked``).
    """
    dates = pl.DataFrame({"analysis_date": list(run_days)}, schema={"analysis_date": pl.Date})
    frames, same_day_bad, team_gaps = [empty_failures()], set(), []
    for u in table.upstream:
        days = _window_days(u.window, history_start, end, run_days)
        if not days:
            continue
        first, last = min(days), max(days)
        actual = wh.row_counts(u.table, first, last).rename({"row_count": "rows"})
        gaps = partition_gaps(days, wh.partition_log(u.table, first, last), actual)
        if gaps.height:
            frames.append(upstream_gap_failures(dates, gaps, u.table.qualified_name, "/".join(u.table.asset_key_path),
                                                u.window, table.processor))
            if u.window == SAME_DAY:
                same_day_bad |= set(gaps.get_column("partition_date").to_list())
        team_col = GAME_TEAM_COLUMNS.get(u.table.qualified_name)
        if team_col and u.window != SAME_DAY:
            present = wh.read(u.table, first, last, columns=["game_id", team_col]).rename({team_col: "team_abbr"})
            expected = schedule.filter(pl.col("game_date").is_between(first, last))
            missing = missing_team_games(expected, present)
            if missing.height:
                team_gaps.append((u.window, missing.with_columns(pl.lit(u.table.qualified_name).alias("table"))))
    return UpstreamGaps(pl.concat(frames), same_day_bad, team_gaps)


def daily_counts(table: Phase4Table, rows: pl.DataFrame, failures: pl.DataFrame, schedule: pl.DataFrame,
                 days: Sequence[dt.date]) -> pl.DataFrame:
    """Per partition day: the numbers of that day's materialisation metadata (``day``,
    ``entities_total``, ``entities_below_minimum``, ``incomplete_rate`` 0-1, ``incomplete_rate_band_upper``
    (the upper edge 0-1 of the expected band for the day's season week; NULL, so not recorded, when the
    table has no band), ``incomplete_rate_over_band`` (rate minus that edge, in rate units: above 0
    exactly on the days ``incomplete_rate_within_band`` warns; NULL without a band or without entities,
    such as a day without games, so the plot has a gap there rather than a dip), ``season_week``,
    ``failures_<category>``, ``true_failures``), with the formulas of the ``minimum_games`` /
    ``incomplete_rate_within_band`` checks. The rates are Float64, so each day's materialisation records
    them as float metadata and the asset's Plots view draws them across partitions (one chart per
    label: Dagster cannot overlay two, so the distance to the band is its own chart)."""
    part = table.spec.partition_column
    frame = with_season(pl.DataFrame({"analysis_date": list(days)}, schema={"analysis_date": pl.Date}),
                        season_calendar(schedule)).join(
        rows.group_by(pl.col(part).alias("analysis_date")).agg(pl.len().cast(pl.Int64).alias("rows_written")),
        on="analysis_date", how="left",
    ).select("analysis_date", "season_week", pl.lit(True).alias("materialized"),
             pl.col("rows_written").fill_null(0))
    no_invalid = pl.DataFrame(schema={"analysis_date": pl.Date, "entity_id": pl.String,
                                      "violations": pl.List(pl.String)})
    res = daily_check_results(frame, failures, no_invalid, table.bands)
    per_cat = failures.group_by("analysis_date", "failure_category").len().pivot(
        on="failure_category", index="analysis_date", values="len")
    res = res.join(per_cat, on="analysis_date", how="left")
    return res.select(
        pl.col("analysis_date").alias("day"),
        pl.col("season_week"),
        pl.col("entities_total"),
        pl.col("incomplete").alias("entities_below_minimum"),
        pl.col("incomplete_rate").cast(pl.Float64),
        pl.col("band_upper").cast(pl.Float64).alias("incomplete_rate_band_upper"),
        pl.when(pl.col("entities_total") > 0).then(pl.col("incomplete_rate") - pl.col("band_upper"))
        .cast(pl.Float64).alias("incomplete_rate_over_band"),
        *[(pl.col(c) if c in res.columns else pl.lit(None, pl.UInt32)).fill_null(0).cast(pl.Int64)
          .alias(f"failures_{c.lower()}") for c in CATEGORIES],
        (pl.col("missing_dependency_entities") + pl.col("missing_dependency_date_level")
         + pl.col("processing_errors")).alias("true_failures"),
    )


def compute_phase4(table: Phase4Table, context, warehouse: WarehouseResource,
                   raw_data: RawDataResource) -> MaterializeResult:
    """Compute and write ``table`` over the context's partition range (steps 1-4 of the module
    docstring). ``context``: the asset's execution context, or the refresh job's stand-in for it
    (``defs.common.OpTableContext``).

    Raises:
        dagster.Failure: a partition the raw data cannot serve or that reads a quarantined raw row
            (``defs.common.require_ready``).
        WarehouseError: the warehouse cannot be read or written (nothing of the range is written).
    """
    spec = table.spec
    rules = range_rules(spec, table.ranges)
    require_ready(context, raw_data)
    start, end = partition_dates(context)
    wh = warehouse.get()
    schedule, history_start = read_season_schedule(wh, start, end)
    days = partition_days(context)
    # the transform computes game dates only: a day without games (All-Star break, off-season) is
    # written as an empty partition with no_games: true
    on_game_days = sorted(set(days) & game_dates(schedule))
    rows, failures = table.transform(**read_inputs(wh, table, schedule, history_start, start, end),
                                     start=start, end=end, dates=on_game_days)
    rows, invalid = split_invalid_rows(rows, spec, table.processor, rules)  # withheld, recorded
    if invalid.height:
        context.log.error(f"{table.processor}: {invalid.height} row(s) with invalid values withheld "
                          "(PROCESSING_ERROR): " + " | ".join(invalid.get_column("reason").head(3).to_list()))
    gaps = upstream_gaps(wh, table, schedule, days, history_start, start, end)
    rows, held = withhold_blocked(rows, spec, table.processor, table.minimum_games, schedule,
                                  gaps.same_day_bad, gaps.team_gaps)
    if gaps.date_level.height or held.height:
        reasons = gaps.date_level.get_column("reason").unique().sort().head(2).to_list()
        context.log.error(
            f"{table.processor}: MISSING_DEPENDENCY on {gaps.date_level.get_column('analysis_date').n_unique()} "
            f"date(s), {held.height} row(s) withheld" + (": " + " | ".join(reasons) if reasons else "")
            + (f"; e.g. {held.item(0, 'reason')}" if held.height else ""))
    failures = pl.concat([one_date_level_row_per_upstream(failures, gaps.date_level), gaps.date_level, held,
                          invalid]).sort(
        "analysis_date", "failure_category", "entity_id", "entity_name")
    daily = daily_counts(table, rows, failures, schedule, days)
    below = int(daily.get_column("entities_below_minimum").sum())
    true_failures = int(daily.get_column("true_failures").sum())
    minimum = (f"the {table.minimum_games}-game minimum" if table.minimum_games is not None
               else "an upstream minimum")
    return write_range(
        context, warehouse, spec, rows, start, end, schedule,
        extra_writes=[PartitionWrite(PRECOMPUTE_FAILURES, failures, scope={"processor": table.processor})],
        daily_metadata=daily,
        summary=f"; {below} entity-days below {minimum} (INCOMPLETE_DATA, expected), "
                f"{true_failures} true failures",
    )


def build_phase4_asset(table: Phase4Table, partitions_def: PartitionsDefinition,
                       warehouse_kind: str) -> AssetsDefinition:
    """The daily-partitioned, single-run-backfill asset of ``table`` (see the module docstring)."""

    @asset(**table_asset_kwargs(table.spec, deps=upstream_deps(table), group=table.group,
                                partitions_def=partitions_def, warehouse_kind=warehouse_kind))
    def _phase4_asset(context: AssetExecutionContext, warehouse: WarehouseResource,
                      raw_data: RawDataResource) -> MaterializeResult:
        return compute_phase4(table, context, warehouse, raw_data)

    return _phase4_asset
