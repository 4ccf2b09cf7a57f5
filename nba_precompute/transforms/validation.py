"""The validation report (replacement of the legacy ``validate_pipeline.py``, reference §11; SPEC §7).

Pure Polars over frames read from the warehouse: per date and Phase 4 table, rows written, entities
expected, INCOMPLETE_DATA, STALE_DATA, true failures (MISSING_DEPENDENCY + PROCESSING_ERROR) and a
status; per season week the incomplete rate against its expected band; and a summary whose **true
failure rate excludes INCOMPLETE_DATA and STALE_DATA**.

Expected entities for D (each table's own universe, derived independently of the table):

* TDZA: teams with >= 1 scheduled regular-season game this season before D;
* PSZA: players with >= 1 played game (``minutes_played > 0``) this season before D;
* PCF, PDC, MLFS: players in ``upcoming_player_game_context`` for D (players in games on D).

Status of a (date, table):

* ``NO_GAMES``: no regular-season game on D and the partition was materialised with 0 rows;
* ``MISSING``: the partition was never materialised (``nba_processing.partition_log``), or it has 0
  rows while entities were expected and not accounted for as INCOMPLETE_DATA / STALE_DATA;
* ``COMPLETE``: rows + INCOMPLETE_DATA + STALE_DATA == expected, and no true failure (entity-level or
  DATE_LEVEL);
* ``PARTIAL``: anything else.

Rates are fractions (0-1): ``true_failure_rate`` = entity-level true failures / expected entities;
``incomplete_rate`` = INCOMPLETE_DATA / expected entities; ``legacy_failure_rate`` = every
precompute_failures entity row / expected - what the legacy pipeline reported as its failure rate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from nba_precompute.schemas import is_regular_season
from nba_precompute.transforms.common import dates_frame, season_calendar, with_season
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    STALE_DATA,
    scheduled_team_games,
)
from nba_precompute.transforms.quality import Band, attach_band, incomplete_rate

COMPLETE, PARTIAL, MISSING, NO_GAMES = "COMPLETE", "PARTIAL", "MISSING", "NO_GAMES"
TEAMS_BEFORE, PLAYERS_BEFORE, UPCOMING_PLAYERS = "teams_before", "players_before", "upcoming_players"


@dataclass(frozen=True)
class ReportTable:
    """A Phase 4 table in the report: qualified name, processor (in precompute_failures), universe
    (:data:`TEAMS_BEFORE`, :data:`PLAYERS_BEFORE` or :data:`UPCOMING_PLAYERS`) and the incomplete-rate
    bands of its ``minimum_games`` check (empty: no band). The caller builds them from the Phase 4
    declarations (``nba_precompute.defs.phase4.tables``)."""

    qualified_name: str
    processor: str
    universe: str
    bands: tuple[Band, ...] = ()


def expected_entities(dates: pl.DataFrame, schedule: pl.DataFrame, player_games: pl.DataFrame,
                      upcoming: pl.DataFrame) -> pl.DataFrame:
    """Expected entity counts per ``analysis_date`` for each universe.

    Args:
        dates: ``analysis_date`` column.
        schedule: ``nba_schedule`` rows of the seasons involved (from opening night).
        player_games: ``player_game_summary`` rows (``player_id``, ``game_date``, ``season_year``,
            ``minutes_played``) from opening night up to the last date.
        upcoming: ``upcoming_player_game_context`` rows (``game_date``, ``player_id``) of the dates.

    Returns ``analysis_date``, ``season_year``, ``season_week`` and one Int64 column per universe
    (``teams_before``, ``players_before``, ``upcoming_players``).
    """
    cal = season_calendar(schedule)
    d = with_season(dates.select("analysis_date"), cal)
    first_team = scheduled_team_games(schedule).group_by("team_abbr", "season_year").agg(
        pl.col("game_date").min().alias("first"))
    first_player = player_games.filter(pl.col("minutes_played").fill_null(0) > 0).group_by(
        "player_id", "season_year").agg(pl.col("game_date").min().alias("first"))

    def before(first: pl.DataFrame, name: str) -> pl.DataFrame:
        return d.select("analysis_date", "season_year").join(first, on="season_year", how="inner").filter(
            pl.col("first") < pl.col("analysis_date")).group_by("analysis_date").agg(
            pl.len().cast(pl.Int64).alias(name))

    up = upcoming.group_by(pl.col("game_date").alias("analysis_date")).agg(
        pl.col("player_id").n_unique().cast(pl.Int64).alias(UPCOMING_PLAYERS))
    out = d.select("analysis_date", "season_year", pl.when(pl.col("season_week") >= 1)
                   .then(pl.col("season_week")).alias("season_week"))
    for frame in (before(first_team, TEAMS_BEFORE), before(first_player, PLAYERS_BEFORE), up):
        out = out.join(frame, on="analysis_date", how="left")
    return out.with_columns(pl.col(TEAMS_BEFORE, PLAYERS_BEFORE, UPCOMING_PLAYERS).fill_null(0)).sort("analysis_date")


def per_date_report(start: dt.date, end: dt.date, schedule: pl.DataFrame, expected: pl.DataFrame,
                    partition_log: pl.DataFrame, failures: pl.DataFrame, tables: Sequence[ReportTable],
                    existing: set[str] | None = None,
                    partition_days: Sequence[dt.date] | None = None) -> pl.DataFrame:
    """One row per (date, table) of [start, end].

    Args:
        expected: from :func:`expected_entities`.
        partition_log: ``table_name``, ``partition_date``, ``row_count`` (``nba_processing.partition_log``).
        failures: ``precompute_failures`` rows of the dates (every processor).
        existing: qualified names of the tables present in the warehouse (None = assume all); a table
            that does not exist is reported ``MISSING`` with ``table_exists = false``.
        partition_days: the partitions (game dates) to report; None = every day of [start, end].

    Returns ``date``, ``table``, ``table_exists``, ``season_year`` (from ``expected``; NULL when it has
    none), ``season_week``, ``has_games``, ``materialized``,
    ``rows_written``, ``expected``, ``incomplete_data``, ``stale_data``, ``true_failures`` (entity rows),
    ``date_level_failures``, ``status``.
    """
    games = set(schedule.filter(is_regular_season(pl.col("game_id"))).get_column("game_date").to_list())
    days = dates_frame(start, end).with_columns(pl.col("analysis_date").is_in(list(games)).alias("has_games"))
    if partition_days is not None:
        days = days.filter(pl.col("analysis_date").is_in(list(partition_days)))
    tab = pl.DataFrame({
        "table": [t.qualified_name for t in tables], "processor": [t.processor for t in tables],
        "universe": [t.universe for t in tables],
        "table_exists": [existing is None or t.qualified_name in existing for t in tables],
    })
    grid = days.join(tab, how="cross").join(expected, on="analysis_date", how="left").with_columns(
        pl.when(pl.col("universe") == TEAMS_BEFORE).then(pl.col(TEAMS_BEFORE))
        .when(pl.col("universe") == PLAYERS_BEFORE).then(pl.col(PLAYERS_BEFORE))
        .otherwise(pl.col(UPCOMING_PLAYERS)).fill_null(0).alias("expected"))
    log = partition_log.select(pl.col("table_name").alias("table"), pl.col("partition_date").alias("analysis_date"),
                               pl.col("row_count").alias("rows_written"), pl.lit(True).alias("materialized"))
    is_date = pl.col("entity_id") == "DATE_LEVEL"
    fail = failures.group_by("processor", "analysis_date").agg(
        ((pl.col("failure_category") == INCOMPLETE_DATA) & ~is_date).sum().cast(pl.Int64).alias("incomplete_data"),
        ((pl.col("failure_category") == STALE_DATA) & ~is_date).sum().cast(pl.Int64).alias("stale_data"),
        (pl.col("is_failure") & ~is_date).sum().cast(pl.Int64).alias("true_failures"),
        (pl.col("is_failure") & is_date).sum().cast(pl.Int64).alias("date_level_failures"),
    )
    if "season_year" not in grid.columns:
        grid = grid.with_columns(pl.lit(None, pl.Int64).alias("season_year"))
    out = grid.join(log, on=["table", "analysis_date"], how="left").join(
        fail, on=["processor", "analysis_date"], how="left").with_columns(
        pl.col("materialized").fill_null(False) & pl.col("table_exists"),
        pl.col("rows_written", "incomplete_data", "stale_data", "true_failures", "date_level_failures").fill_null(0),
    )
    accounted = pl.col("rows_written") + pl.col("incomplete_data") + pl.col("stale_data")
    clean = (pl.col("true_failures") == 0) & (pl.col("date_level_failures") == 0)
    status = (
        pl.when(~pl.col("materialized")).then(pl.lit(MISSING))
        .when(~pl.col("has_games") & (pl.col("rows_written") == 0)
              & (pl.col("incomplete_data") + pl.col("stale_data") == 0) & clean).then(pl.lit(NO_GAMES))
        .when((accounted == pl.col("expected")) & clean).then(pl.lit(COMPLETE))
        .when((pl.col("rows_written") == 0) & (pl.col("expected") > 0)).then(pl.lit(MISSING))
        .otherwise(pl.lit(PARTIAL))
    )
    return out.with_columns(status.alias("status")).select(
        pl.col("analysis_date").alias("date"), "table", "table_exists", "season_year", "season_week", "has_games",
        "materialized", "rows_written", "expected", "incomplete_data", "stale_data", "true_failures",
        "date_level_failures", "status",
    ).sort("date", "table")


def weekly_incomplete(per_date: pl.DataFrame, tables: Sequence[ReportTable]) -> pl.DataFrame:
    """Incomplete rate (0-1) per table, season and season week of the materialised dates, with the
    expected band: ``table``, ``season_year``, ``season_week``, ``dates``, ``expected``,
    ``incomplete_data``, ``incomplete_rate``, ``band_upper``, ``band_label``, ``within_band`` (NULL when
    the table has no band)."""
    band_map: Mapping[str, Sequence[Band]] = {t.qualified_name: t.bands for t in tables}
    # one row per season and week: week n of two seasons are two rows (pooled, one season's rate would
    # hide the other's against the band)
    agg = per_date.filter(pl.col("materialized") & pl.col("season_week").is_not_null()).group_by(
        "table", "season_year", "season_week").agg(
        pl.len().cast(pl.Int64).alias("dates"), pl.col("expected").sum(), pl.col("incomplete_data").sum(),
    ).with_columns(
        incomplete_rate(pl.col("incomplete_data"), pl.col("expected")).alias("incomplete_rate"),
    ).sort("table", "season_year", "season_week")
    parts = []
    for name in agg.get_column("table").unique(maintain_order=True).to_list():  # one per table (<= 5)
        part = attach_band(agg.filter(pl.col("table") == name), band_map.get(name, ()))
        parts.append(part)
    if not parts:
        return agg.with_columns(pl.lit(None, pl.Float64).alias("band_upper"), pl.lit(None, pl.String).alias("band_label"),
                                pl.lit(None, pl.Boolean).alias("within_band"))
    out = pl.concat(parts)
    return out.with_columns(
        pl.when(pl.col("band_upper").is_not_null())
        .then(pl.col("incomplete_rate") <= pl.col("band_upper")).alias("within_band"))


def summary(per_date: pl.DataFrame) -> dict[str, object]:
    """Totals over the materialised (date, table) pairs, rates as fractions (0-1); ``status_counts``
    over the tables present in the warehouse."""
    m = per_date.filter(pl.col("materialized"))
    tot = {c: int(m.get_column(c).sum()) for c in
           ("rows_written", "expected", "incomplete_data", "stale_data", "true_failures", "date_level_failures")}
    exp = tot["expected"]

    def rate(n: int) -> float:
        return n / exp if exp else 0.0

    counts = per_date.filter(pl.col("table_exists")).group_by("status").len()
    return {
        **tot,
        "true_failure_rate": rate(tot["true_failures"]),
        "incomplete_rate": rate(tot["incomplete_data"]),
        "stale_rate": rate(tot["stale_data"]),
        "legacy_failure_rate": rate(tot["true_failures"] + tot["incomplete_data"] + tot["stale_data"]),
        "status_counts": {s: int(n) for s, n in counts.iter_rows()},
        "dates": per_date.get_column("date").n_unique(),
        "tables_missing_from_warehouse": sorted(
            per_date.filter(~pl.col("table_exists")).get_column("table").unique().to_list()),
    }
