"""Build a Phase 4 asset from its declaration (:class:`~nba_precompute.defs.phase4.tables.Phase4Table`).

The asset of a declaration, for a run over the partitions [start, end]:

1. reads the season schedule (from the opening night of the season containing ``start``) and every
   declared upstream over its window: ``same_day`` -> [start, end], ``before`` / ``through`` ->
   [opening night, end] (the transform applies the as-of rule ``game_date < D`` itself);
2. calls the transform once for the whole range (one vectorised Polars pass);
3. withholds rows that break a value rule (``PROCESSING_ERROR``), adds ``MISSING_DEPENDENCY``
   DATE_LEVEL rows for upstream partitions the window needs that were never materialised;
4. replaces the range of the table and of its ``precompute_failures`` rows in one transaction and
   attaches each day's own counts to that day's materialisation.
"""

import datetime as dt
from collections.abc import Sequence

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
    partition_dates,
    partition_days,
    read_season_schedule,
    table_asset_kwargs,
    write_range,
)
from nba_precompute.defs.phase4.tables import BEFORE, SAME_DAY, THROUGH, Phase4Table
from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.partitions import history_before_d, history_through_d
from nba_precompute.schemas import NBA_SCHEDULE, PRECOMPUTE_FAILURES, empty_failures
from nba_precompute.transforms.common import dates_frame, season_calendar, with_season
from nba_precompute.transforms.coverage import CATEGORIES, missing_partition_failures
from nba_precompute.transforms.quality import daily_check_results, range_rules, split_invalid_rows
from nba_precompute.warehouse.base import PartitionWrite, Warehouse


def partition_mapping(window: str) -> TimeWindowPartitionMapping | None:
    """Dagster's partition mapping of an upstream window (identity for ``same_day``)."""
    return {SAME_DAY: None, BEFORE: history_before_d(), THROUGH: history_through_d()}[window]


def upstream_deps(table: Phase4Table) -> list[AssetDep]:
    """The declared upstreams as Dagster dependencies with their partition mappings."""
    return [AssetDep(u.table.asset_key_path, partition_mapping=partition_mapping(u.window)) for u in table.upstream]


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
        inputs[u.param] = wh.read(u.table, first, end, columns=list(u.columns) if u.columns else None)
    return inputs


def missing_upstream_partitions(wh: Warehouse, table: Phase4Table, partition_days: Sequence[dt.date],
                                history_start: dt.date, start: dt.date, end: dt.date) -> pl.DataFrame:
    """DATE_LEVEL ``MISSING_DEPENDENCY`` rows for every upstream partition the range needs that was
    never materialised (``nba_processing.partition_log``): the partitions (``partition_days``) in
    [opening night, D) for ``before``, [opening night, D] for ``through``, D for ``same_day``."""
    dates = dates_frame(start, end).filter(pl.col("analysis_date").is_in(list(partition_days)))
    expected = set(partition_days)
    frames = [empty_failures()]
    for u in table.upstream:
        first = start if u.window == SAME_DAY else history_start
        last = end - dt.timedelta(days=1) if u.window == BEFORE else end
        if last < first:
            continue
        done = set(wh.partition_log(u.table, first, last).get_column("partition_date").to_list())
        missing = [d for d in pl.date_range(first, last, "1d", eager=True).to_list()
                   if d in expected and d not in done]
        frames.append(missing_partition_failures(dates, missing, u.table.qualified_name, table.processor, u.window))
    return pl.concat(frames)


def daily_counts(table: Phase4Table, rows: pl.DataFrame, failures: pl.DataFrame, schedule: pl.DataFrame,
                 days: Sequence[dt.date]) -> pl.DataFrame:
    """Per partition day: the numbers of that day's materialisation metadata (``day``,
    ``entities_total``, ``entities_below_minimum``, ``incomplete_rate`` 0-1, ``season_week``,
    ``failures_<category>``, ``true_failures``), with the ``minimum_games`` check's formulas."""
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
        pl.col("incomplete_rate"),
        *[(pl.col(c) if c in res.columns else pl.lit(None, pl.UInt32)).fill_null(0).cast(pl.Int64)
          .alias(f"failures_{c.lower()}") for c in CATEGORIES],
        (pl.col("missing_dependency_entities") + pl.col("missing_dependency_date_level")
         + pl.col("processing_errors")).alias("true_failures"),
    )


def build_phase4_asset(table: Phase4Table, partitions_def: PartitionsDefinition,
                       warehouse_kind: str) -> AssetsDefinition:
    """The daily-partitioned, single-run-backfill asset of ``table`` (see the module docstring)."""
    spec = table.spec
    rules = range_rules(spec, table.ranges)

    @asset(**table_asset_kwargs(spec, deps=upstream_deps(table), group=table.group, partitions_def=partitions_def,
                                warehouse_kind=warehouse_kind))
    def _phase4_asset(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        start, end = partition_dates(context)
        wh = warehouse.get()
        schedule, history_start = read_season_schedule(wh, start, end)
        days = partition_days(context)
        rows, failures = table.transform(**read_inputs(wh, table, schedule, history_start, start, end),
                                         start=start, end=end, dates=days)
        rows, invalid = split_invalid_rows(rows, spec, table.processor, rules)  # withheld, recorded
        if invalid.height:
            context.log.error(f"{table.processor}: {invalid.height} row(s) with invalid values withheld "
                              "(PROCESSING_ERROR): " + " | ".join(invalid.get_column("reason").head(3).to_list()))
        missing = missing_upstream_partitions(wh, table, days, history_start, start, end)
        if missing.height:
            context.log.error(
                f"{table.processor}: upstream partitions missing for {missing.get_column('analysis_date').n_unique()}"
                " date(s): " + " | ".join(missing.get_column("reason").unique().sort().head(3).to_list()))
        failures = pl.concat([failures, missing, invalid]).sort(
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

    return _phase4_asset
