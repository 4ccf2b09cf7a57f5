"""Upstream coverage against the schedule, and precompute_failures rows (SPEC §6).

An entity whose team has a scheduled regular-season game before D that is absent upstream cannot be
trusted: it becomes ``MISSING_DEPENDENCY`` (a real failure). An entity below the asset's minimum
whose upstream is complete is ``INCOMPLETE_DATA`` (expected, not a failure).
"""

from __future__ import annotations

import polars as pl

from nba_precompute.schemas import empty_failures
from nba_precompute.transforms.common import expected_games
from nba_precompute.transforms.windows import last_n_window, number_games, state_before

INCOMPLETE_DATA = "INCOMPLETE_DATA"
STALE_DATA = "STALE_DATA"
MISSING_DEPENDENCY = "MISSING_DEPENDENCY"
PROCESSING_ERROR = "PROCESSING_ERROR"
CATEGORIES = (INCOMPLETE_DATA, STALE_DATA, MISSING_DEPENDENCY, PROCESSING_ERROR)
TRUE_FAILURES = (MISSING_DEPENDENCY, PROCESSING_ERROR)



def scheduled_team_games(schedule: pl.DataFrame) -> pl.DataFrame:
    """Regular-season schedule as team-games: ``game_id``, ``game_date``, ``season_year``, ``team_abbr``
    (postponed games left out: nothing upstream can hold them)."""
    games = expected_games(schedule)
    return pl.concat([
        games.select("game_id", "game_date", "season_year", pl.col("home_team_abbr").alias("team_abbr")),
        games.select("game_id", "game_date", "season_year", pl.col("away_team_abbr").alias("team_abbr")),
    ]).unique()


def team_coverage(schedule: pl.DataFrame, present: pl.DataFrame, keys: pl.DataFrame, n: int,
                  key_date: str = "analysis_date") -> pl.DataFrame:
    """Schedule-expected vs upstream-present team games before each D.

    Args:
        schedule: schedule rows (``game_id``, ``game_date``, ``season_year``, home/away tricodes).
        present: distinct (``game_id``, ``team_abbr``) pairs found in the upstream table.
        keys: rows with ``team_abbr``, ``season_year`` and ``key_date``.
        n: window length in games, for the last-N completeness columns.

    Returns ``keys`` plus ``scheduled_games_before`` and ``missing_games_before`` (whole season before
    D), ``expected_games_count`` (= min(scheduled, n)) and ``actual_games_count`` (present among the
    team's last n scheduled games before D).
    """
    tg = scheduled_team_games(schedule).join(
        present.select("game_id", "team_abbr").unique().with_columns(pl.lit(1).alias("present")),
        on=["game_id", "team_abbr"], how="left",
    ).with_columns(pl.col("present").fill_null(0))
    # one row per team and date (a team never plays twice on a date)
    by = ["team_abbr", "season_year"]
    numbered = number_games(tg, by, ["present"])
    distinct = keys.select(*by, key_date).unique()
    st = state_before(distinct, numbered, by, ["present"], key_date=key_date)
    st = last_n_window(st, numbered, by, ["present"], n)
    cov = st.select(
        *by, key_date,
        pl.col("game_number").alias("scheduled_games_before"),
        (pl.col("game_number") - pl.col("cum_present")).cast(pl.Int64).alias("missing_games_before"),
        pl.col(f"games_last_{n}").alias("expected_games_count"),
        pl.col(f"sum_present_last_{n}").cast(pl.Int64).alias("actual_games_count"),
    )
    return keys.join(cov, on=[*by, key_date], how="left")


def completeness_columns() -> list[pl.Expr]:
    """The shared completeness columns from ``expected_games_count`` / ``actual_games_count``."""
    pct = (pl.when(pl.col("expected_games_count") > 0)
           .then(pl.col("actual_games_count") / pl.col("expected_games_count")).otherwise(1.0))
    return [
        pct.alias("completeness_pct"),
        (pl.col("expected_games_count") - pl.col("actual_games_count")).clip(lower_bound=0)
        .cast(pl.Int64).alias("missing_games_count"),
        (pct >= 0.7).alias("is_production_ready"),
    ]


def missing_upstream_dates(schedule: pl.DataFrame, present_dates: pl.Series, dates: pl.DataFrame,
                           processor: str, upstream: str) -> pl.DataFrame:
    """DATE_LEVEL ``MISSING_DEPENDENCY`` failure rows: scheduled game dates before D absent upstream.

    ``dates`` has ``analysis_date`` and ``season_year``; ``present_dates`` are the game dates found in
    the upstream table. Returns failure rows (FAILURE_COLUMNS) naming the missing partitions.
    """
    sched = scheduled_team_games(schedule).select("game_date", "season_year").unique()
    missing = sched.filter(~pl.col("game_date").is_in(present_dates.implode()))
    if missing.is_empty():
        return empty_failures()
    per_date = dates.join(missing, on="season_year", how="inner").filter(
        pl.col("game_date") < pl.col("analysis_date")
    ).group_by("analysis_date").agg(pl.col("game_date").sort().alias("missing"))
    return per_date.select(
        pl.lit(processor).alias("processor"), "analysis_date", pl.lit("date").alias("entity_type"),
        pl.lit("DATE_LEVEL").alias("entity_id"), pl.lit(f"{upstream} (scheduled games)").alias("entity_name"),
        pl.lit(MISSING_DEPENDENCY).alias("failure_category"), pl.lit(True).alias("is_failure"),
        pl.format("game dates scheduled before D with no rows in {}: {}", pl.lit(upstream),
                  pl.col("missing").list.eval(pl.element().cast(pl.String)).list.join(", ")).alias("reason"),
        pl.lit(None, pl.Int64).alias("games_required"), pl.lit(None, pl.Int64).alias("games_found"),
    )


def missing_partition_failures(dates: pl.DataFrame, missing: list, upstream: str, processor: str,
                               mode: str = "before") -> pl.DataFrame:
    """DATE_LEVEL ``MISSING_DEPENDENCY`` rows for upstream partitions never materialised.

    ``dates`` has ``analysis_date``; ``missing`` lists the upstream partition dates that were never
    written. ``mode`` says which missing days matter for D: ``before`` (history, days < D),
    ``through`` (days <= D) or ``same_day`` (D itself).
    """
    if not missing:
        return empty_failures()
    miss = pl.DataFrame({"missing_date": missing}, schema={"missing_date": pl.Date})
    cond = {
        "before": pl.col("missing_date") < pl.col("analysis_date"),
        "through": pl.col("missing_date") <= pl.col("analysis_date"),
        "same_day": pl.col("missing_date") == pl.col("analysis_date"),
    }[mode]
    per_date = dates.select("analysis_date").join(miss, how="cross").filter(cond).group_by(
        "analysis_date").agg(pl.col("missing_date").sort().alias("missing"))
    return per_date.select(
        pl.lit(processor).alias("processor"), "analysis_date", pl.lit("date").alias("entity_type"),
        pl.lit("DATE_LEVEL").alias("entity_id"), pl.lit(f"{upstream} (partitions)").alias("entity_name"),
        pl.lit(MISSING_DEPENDENCY).alias("failure_category"), pl.lit(True).alias("is_failure"),
        pl.format("{} partition(s) of {} never materialised: {}", pl.col("missing").list.len(),
                  pl.lit(upstream),
                  pl.col("missing").list.eval(pl.element().cast(pl.String)).list.join(", ")).alias("reason"),
        pl.lit(None, pl.Int64).alias("games_required"), pl.lit(None, pl.Int64).alias("games_found"),
    )


def failure_rows(df: pl.DataFrame, *, processor: str, entity_type: str, entity_id: pl.Expr,
                 entity_name: pl.Expr, category: str, reason: pl.Expr, games_required: int | None,
                 games_found: pl.Expr) -> pl.DataFrame:
    """One precompute_failures row per row of ``df`` (FAILURE_COLUMNS, without run_id/created_at)."""
    return df.select(
        pl.lit(processor).alias("processor"), pl.col("analysis_date"),
        pl.lit(entity_type).alias("entity_type"), entity_id.cast(pl.String).alias("entity_id"),
        entity_name.cast(pl.String).alias("entity_name"), pl.lit(category).alias("failure_category"),
        pl.lit(category in TRUE_FAILURES).alias("is_failure"), reason.alias("reason"),
        pl.lit(games_required, pl.Int64).alias("games_required"), games_found.cast(pl.Int64).alias("games_found"),
    )


def summarize_days(days: list) -> str:
    """``3 day(s): 2022-10-20, 2022-10-21, 2022-10-23`` for a few days; the count, first and last for
    more (a message stays one short line)."""
    days = sorted(days)
    if len(days) <= 3:
        return f"{len(days)} day(s): " + ", ".join(str(d) for d in days)
    return f"{len(days)} days, {days[0]} .. {days[-1]}"


def partition_gaps(expected_days: list, log: pl.DataFrame, actual: pl.DataFrame) -> pl.DataFrame:
    """Upstream partitions that cannot be trusted, from the partition log and the data itself.

    Args:
        expected_days: the upstream partitions (dates) the computation needs.
        log: ``partition_date``, ``row_count`` of the upstream table (``nba_processing.partition_log``).
        actual: ``partition_date``, ``rows``: rows the upstream table holds per day (counted in it).

    Returns ``partition_date``, ``problem`` (``never materialised`` or ``N rows, the partition log says
    M``: rows deleted or added behind the platform's back), one row per bad day.
    """
    days = pl.DataFrame({"partition_date": expected_days}, schema={"partition_date": pl.Date})
    out = days.join(log.select("partition_date", "row_count"), on="partition_date", how="left").join(
        actual.select("partition_date", "rows"), on="partition_date", how="left").with_columns(
        pl.col("rows").fill_null(0))
    return out.filter(pl.col("row_count").is_null() | (pl.col("row_count") != pl.col("rows"))).select(
        "partition_date",
        pl.when(pl.col("row_count").is_null()).then(pl.lit("never materialised"))
        .otherwise(pl.format("{} rows, the partition log says {}", pl.col("rows"), pl.col("row_count")))
        .alias("problem"),
    ).sort("partition_date")


def missing_team_games(schedule: pl.DataFrame, present: pl.DataFrame) -> pl.DataFrame:
    """Team-games the schedule says were played that an upstream game-grained table lacks.

    ``present``: distinct (``game_id``, ``team_abbr``) pairs of the upstream table. Returns
    ``season_year``, ``team_abbr``, ``game_date``, ``game_id`` of every expected team-game (postponed
    games excluded) with no row upstream.
    """
    return scheduled_team_games(schedule).join(
        present.select("game_id", "team_abbr").unique(), on=["game_id", "team_abbr"], how="anti",
    ).select("season_year", "team_abbr", "game_date", "game_id")


def blocked_entities(rows: pl.DataFrame, date_col: str, seasons: pl.DataFrame, team_gaps: pl.DataFrame,
                     window: str) -> pl.DataFrame:
    """Rows (entities with ``team_abbr`` on ``date_col`` = D) whose team has an expected game missing
    upstream inside the window of D: before D (``before``) or on or before D (``through``), same
    season. ``seasons``: ``date_col`` -> ``season_year`` of each D. Returns the blocked rows' keys
    (``date_col``, ``team_abbr``) with ``missing_games`` (count) and ``example`` (a game id and date)."""
    gap = pl.col("__gap_date")
    cond = gap < pl.col(date_col) if window == "before" else gap <= pl.col(date_col)
    keys = rows.select(date_col, "team_abbr").unique().join(seasons, on=date_col, how="inner")
    gaps = team_gaps.select("season_year", "team_abbr", pl.col("game_date").alias("__gap_date"), "game_id")
    hit = keys.join(gaps, on=["season_year", "team_abbr"], how="inner").filter(cond)
    return hit.group_by(date_col, "team_abbr").agg(
        pl.len().alias("missing_games"),
        pl.format("{} on {}", pl.col("game_id"), gap).sort().first().alias("example"),
    )
