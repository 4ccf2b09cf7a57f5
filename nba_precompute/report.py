"""The validation report's numbers, read from the warehouse: :func:`build_report` reads the Phase 3
and Phase 4 tables, their partition logs and the failure records through the
:class:`~nba_precompute.warehouse.base.Warehouse` interface (``read``, ``exists``, ``partition_log``,
``row_counts``), so DuckDB and BigQuery alike, and computes the report frames with the pure Polars
functions of :mod:`nba_precompute.transforms.validation`. The ``nba-precompute validate`` command
selects the partitions and prints the report.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.defs.common import read_season_schedule
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, Phase4Table
from nba_precompute.partitions import BOX_SCORE_TABLES
from nba_precompute.raw.sources import LAST_PUBLISHED_SHOT_CHART_SEASON
from nba_precompute.schemas import (
    PHASE3_TABLES,
    PLAYER_GAME_SUMMARY,
    PRECOMPUTE_FAILURES,
    UPCOMING_PLAYER_GAME_CONTEXT,
    TableSpec,
)
from nba_precompute.transforms.phase3 import PREVIOUS_SEASON_DAYS
from nba_precompute.transforms.validation import (
    Phase3ReportTable,
    ReportTable,
    band_warnings,
    expected_entities,
    fix_commands,
    partitions_frame,
    phase3_report,
    phase4_report,
    problem_groups,
    season_summary,
    shot_chart_coverage,
    slate_readiness,
    summary,
    weekly_incomplete,
)
from nba_precompute.warehouse.base import Warehouse

PHASE3_SELECTION = "group:phase3_analytics"


def report_tables(tables: Sequence[Phase4Table] = PHASE4_TABLES) -> list[ReportTable]:
    """The validation report's view of the Phase 4 declarations."""
    return [ReportTable(t.spec.qualified_name, t.processor, t.universe, t.bands, t.abbreviation) for t in tables]


def phase3_report_tables(tables: Sequence[TableSpec] = PHASE3_TABLES) -> list[Phase3ReportTable]:
    """The Phase 3 tables with the column holding a row's team (``None`` for ``nba_schedule``)."""
    def team_column(spec: TableSpec) -> str | None:
        return next((c for c in ("team_abbr", "defending_team_abbr") if c in spec.column_names), None)

    return [Phase3ReportTable(t.qualified_name, team_column(t)) for t in tables]


def _logs(warehouse: Warehouse, specs: Sequence[TableSpec], start: dt.date, end: dt.date,
          ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(partition log, counted rows) of ``specs`` over [start, end], each with a ``table_name`` column."""
    logs, counts = [], []
    for spec in specs:  # one query per table (11 tables)
        name = pl.lit(spec.qualified_name).alias("table_name")
        logs.append(warehouse.partition_log(spec, start, end).select(name, "partition_date", "row_count"))
        counts.append(warehouse.row_counts(spec, start, end).select(name, "partition_date", "row_count"))
    return pl.concat(logs), pl.concat(counts)


def build_report(warehouse: Warehouse, days: Sequence[dt.date], seasons: pl.DataFrame,
                 chart_seasons: Sequence[int] = (), last_published: int = LAST_PUBLISHED_SHOT_CHART_SEASON,
                 tables: Sequence[Phase4Table] = PHASE4_TABLES,
                 phase3_tables: Sequence[TableSpec] = PHASE3_TABLES,
                 tonight: dt.date | None = None) -> dict[str, object]:
    """Read the warehouse through the :class:`~nba_precompute.warehouse.base.Warehouse` interface and
    compute the report over the partitions ``days``.

    Args:
        days: the partitions to report, game dates (days without games are empty partitions by
            construction and are not reported), non-empty.
        seasons: ``season_year``, ``season_start_date`` of every season (``GameCalendar.seasons``).
        chart_seasons: seasons whose shot-chart file is in the raw data; ``last_published`` the last
            season the shot-chart source published.
        tonight: tonight's slate (``GameCalendar.tonight``): its box-score tables are not expected yet,
            and when it is among ``days`` the report has a ``slate`` frame (:func:`slate_readiness`).

    Returns a dict of frames (``partitions``, ``phase4``, ``phase3``, ``warnings``, ``weekly``,
    ``coverage``, ``seasons``, ``problems``, ``fixes``) and the ``summary`` dict. Raises :class:`WarehouseError`
    (:class:`WarehouseLockedError`) when the warehouse cannot be read.
    """
    if not days:
        raise ValueError("build_report: no partition to report")
    start, end = min(days), max(days)
    report4, report3 = report_tables(tables), phase3_report_tables(phase3_tables)
    parts = partitions_frame(days, seasons)
    schedule, history_start = read_season_schedule(warehouse, start, end)
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, history_start, end, columns=[
        "game_id", "game_date", "season_year", "player_id", "team_abbr", "minutes_played", "paint_attempts"])
    in_range = player_games.filter(pl.col("game_date").is_in(parts.get_column("date").implode()))
    team_rows = [in_range.select(pl.lit(PLAYER_GAME_SUMMARY.qualified_name).alias("table"), "game_id", "team_abbr")]
    for spec, t in zip(phase3_tables, report3):
        if t.team_column is None or spec == PLAYER_GAME_SUMMARY:
            continue
        rows = warehouse.read(spec, start, end, columns=["game_id", t.team_column])
        team_rows.append(rows.select(pl.lit(spec.qualified_name).alias("table"), "game_id",
                                     pl.col(t.team_column).alias("team_abbr")))
    specs = [*phase3_tables, *(t.spec for t in tables)]
    existing = {s.qualified_name for s in specs if warehouse.exists(s)}
    log, counts = _logs(warehouse, specs, start, end)
    failures = warehouse.read(PRECOMPUTE_FAILURES, start, end, columns=[
        "processor", "analysis_date", "entity_id", "entity_name", "failure_category", "is_failure"])

    # a team's opening-night universe is its roster at the end of the previous season (pregame_universe)
    previous = warehouse.read(PLAYER_GAME_SUMMARY, history_start - dt.timedelta(days=PREVIOUS_SEASON_DAYS),
                              history_start - dt.timedelta(days=1), columns=player_games.columns)
    expected = expected_entities(parts, schedule, pl.concat([previous, player_games], how="vertical_relaxed"))
    phase4 = phase4_report(parts, schedule, expected, log, counts, failures, report4, existing)
    phase3 = phase3_report(parts, schedule, pl.concat(team_rows).unique(), log, counts, report3, existing)
    slate = None
    if tonight is not None and tonight in set(days):
        # tonight's box scores are not in yet: its box-score partitions are not expected
        box = [f"{k.replace('/', '.')}" for k in BOX_SCORE_TABLES]
        phase3 = phase3.filter(~((pl.col("date") == tonight) & pl.col("table").is_in(box)))
        upcoming = (warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT, tonight, tonight, columns=["game_date", "team_abbr"])
                    if warehouse.exists(UPCOMING_PLAYER_GAME_CONTEXT) else
                    pl.DataFrame(schema={"game_date": pl.Date, "team_abbr": pl.String}))
        slate = slate_readiness(tonight, schedule, upcoming)
    coverage = shot_chart_coverage(in_range, parts.get_column("season_year").drop_nulls().unique().to_list(),
                                   chart_seasons, last_published)
    labels = {t.qualified_name: t.short for t in report4}
    problems = problem_groups(phase4, phase3, labels, order=[t.qualified_name for t in (*report3, *report4)])
    keys = {t.spec.qualified_name: "/".join(t.spec.asset_key_path) for t in tables}
    return {
        "start": start, "end": end, "partitions": parts, "phase4": phase4, "phase3": phase3,
        "warnings": band_warnings(phase4), "weekly": weekly_incomplete(phase4, report4), "coverage": coverage,
        "seasons": season_summary(phase4, phase3, coverage), "summary": summary(phase4, phase3),
        "problems": problems, "fixes": fix_commands(problems, keys, PHASE3_SELECTION),
        "tonight": tonight if slate is not None else None, "slate": slate,
    }

