"""Upstream coverage against the schedule, and precompute_failures rows (SPEC §6).

An entity whose team has a scheduled regular-season game before D that is absent upstream cannot be
trusted: it becomes ``MISSING_DEPENDENCY`` (a real failure). An entity below the asset's minimum
whose upstream is complete is ``INCOMPLETE_DATA`` (expected, not a failure).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence

import polars as pl

from nba_precompute.schemas import TableSpec, empty_failures
from nba_precompute.transforms.common import expected_games, season_calendar, with_season
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


def date_level_rows(per_date: pl.DataFrame, processor: str, entity_name: str, reason: pl.Expr) -> pl.DataFrame:
    """DATE_LEVEL ``MISSING_DEPENDENCY`` rows (FAILURE_COLUMNS), one per row of ``per_date`` (which has
    ``analysis_date`` and whatever ``reason`` reads): the whole date is affected, not one entity."""
    return per_date.select(
        pl.lit(processor).alias("processor"), "analysis_date", pl.lit("date").alias("entity_type"),
        pl.lit("DATE_LEVEL").alias("entity_id"), pl.lit(entity_name).alias("entity_name"),
        pl.lit(MISSING_DEPENDENCY).alias("failure_category"), pl.lit(True).alias("is_failure"),
        reason.alias("reason"),
        pl.lit(None, pl.Int64).alias("games_required"), pl.lit(None, pl.Int64).alias("games_found"),
    )


def _joined_days(days: pl.Expr) -> pl.Expr:
    """A list of dates as ``2022-11-01, 2022-11-02``."""
    return days.list.eval(pl.element().cast(pl.String)).list.join(", ")


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
    return date_level_rows(per_date, processor, f"{upstream} (scheduled games)", pl.format(
        "game dates scheduled before D with no rows in {}: {}", pl.lit(upstream), _joined_days(pl.col("missing"))))


_DATE_LEVEL_SOURCE = r" \((scheduled games|partitions)\)$"  # the suffix of a DATE_LEVEL row's entity_name


def one_date_level_row_per_upstream(found_in_data: pl.DataFrame, found_in_log: pl.DataFrame) -> pl.DataFrame:
    """``found_in_data`` (a transform's failure rows) without its DATE_LEVEL rows for a (D, upstream)
    that ``found_in_log`` (:func:`upstream_gap_failures` rows) already names: one missing upstream
    partition is then one DATE_LEVEL row per D (the partition log's, whose reason carries the command
    that fixes it), not two. Every other row is kept; both frames have FAILURE_COLUMNS."""
    if found_in_log.is_empty() or found_in_data.is_empty():
        return found_in_data
    upstream = pl.col("entity_name").str.replace(_DATE_LEVEL_SOURCE, "")
    named = found_in_log.select("analysis_date", upstream.alias("__upstream")).unique()
    is_date = pl.col("entity_id") == "DATE_LEVEL"
    dates = found_in_data.filter(is_date).with_columns(upstream.alias("__upstream")).join(
        named, on=["analysis_date", "__upstream"], how="anti").drop("__upstream")
    return pl.concat([found_in_data.filter(~is_date), dates])


def window_condition(day: pl.Expr, analysis_date: pl.Expr, window: str) -> pl.Expr:
    """True where upstream ``day`` lies in the window of ``analysis_date`` (D): ``before`` (day < D, the
    as-of rule), ``through`` (day <= D) or ``same_day`` (day = D), the windows of
    ``nba_precompute.defs.phase4.tables``. Raises ``KeyError`` for another window name."""
    return {"before": day < analysis_date, "through": day <= analysis_date, "same_day": day == analysis_date}[window]


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


def summarize_days(days: pl.Expr) -> pl.Expr:
    """A sorted list-of-dates expression as one short text: ``3 day(s): 2022-10-20, 2022-10-21,
    2022-10-23`` for up to three days; ``58 days, 2022-10-18 .. 2022-12-14`` (count, first, last) for
    more, so that a message stays one line."""
    n = days.list.len()
    text = days.list.eval(pl.element().cast(pl.String))
    return (pl.when(n <= 3).then(pl.format("{} day(s): {}", n, text.list.join(", ")))
            .otherwise(pl.format("{} days, {} .. {}", n, text.list.first(), text.list.last())))


NEVER_MATERIALISED = "never materialised"


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
        pl.when(pl.col("row_count").is_null()).then(pl.lit(NEVER_MATERIALISED))
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
    cond = window_condition(gap, pl.col(date_col), window)
    keys = rows.select(date_col, "team_abbr").unique().join(seasons, on=date_col, how="inner")
    gaps = team_gaps.select("season_year", "team_abbr", pl.col("game_date").alias("__gap_date"), "game_id")
    hit = keys.join(gaps, on=["season_year", "team_abbr"], how="inner").filter(cond)
    return hit.group_by(date_col, "team_abbr").agg(
        pl.len().alias("missing_games"),
        pl.format("{} on {}", pl.col("game_id"), gap).sort().first().alias("example"),
    )


def upstream_gap_failures(dates: pl.DataFrame, gaps: pl.DataFrame, upstream: str, asset_key: str, window: str,
                          processor: str) -> pl.DataFrame:
    """DATE_LEVEL ``MISSING_DEPENDENCY`` rows for the upstream partitions a run cannot trust.

    Args:
        dates: ``analysis_date`` (the run's days D).
        gaps: :func:`partition_gaps` of the upstream table (``partition_date``, ``problem``).
        upstream: the upstream's qualified name (``nba_analytics.player_game_summary``).
        asset_key: its asset key as ``dg`` spells it (``nba_analytics/player_game_summary``).
        window: which gap days matter for D (:func:`window_condition`).
        processor: the failure rows' ``processor``.

    Returns one row per D that a gap day falls in the window of (FAILURE_COLUMNS), in the order of
    ``dates``; its reason names the days never materialised (summarised, with the command that
    materialises them) and the days changed since written (their count, the first one with its problem
    and the command that rematerialises it).
    """
    hit = dates.select("analysis_date").join(gaps, how="cross").filter(
        window_condition(pl.col("partition_date"), pl.col("analysis_date"), window))
    if hit.is_empty():
        return empty_failures()
    is_altered = pl.col("problem") != NEVER_MATERIALISED
    per_date = hit.sort("partition_date").group_by("analysis_date", maintain_order=True).agg(
        pl.col("partition_date").filter(~is_altered).alias("never"),
        is_altered.sum().alias("altered"),
        pl.col("partition_date").filter(is_altered).first().alias("altered_day"),
        pl.col("problem").filter(is_altered).first().alias("altered_problem"),
    ).join(dates.select("analysis_date").with_row_index("__order"), on="analysis_date").sort("__order")
    never = pl.col("never")
    never_part = pl.when(never.list.len() > 0).then(pl.format(
        "{}: {} never materialised; materialise first: dg launch --assets '{}' --partition-range {}...{}",
        pl.lit(upstream), summarize_days(never), pl.lit(asset_key), never.list.first(), never.list.last()))
    altered_part = pl.when(pl.col("altered") > 0).then(pl.format(
        "{}: {} day(s) changed since written, e.g. {}: {}; rematerialise: dg launch --assets '{}' --partition {}",
        pl.lit(upstream), pl.col("altered"), pl.col("altered_day"), pl.col("altered_problem"), pl.lit(asset_key),
        pl.col("altered_day")))
    return date_level_rows(per_date, processor, f"{upstream} (partitions)",
                           pl.concat_str([never_part, altered_part], separator="; ", ignore_nulls=True))


def entity_columns(table: TableSpec) -> tuple[str, str, pl.Expr, pl.Expr]:
    """(entity_type, id column, id expr, name expr) for failure rows of ``table``: ``player`` (keyed by
    ``player_id``, named by ``player_lookup`` when the table has it), ``team`` (``team_abbr``) or ``row``
    (the first key column after the partition column); a NULL id reads ``NULL``, a NULL name the id."""
    key = [k for k in table.key if k != table.partition_column]
    id_col = key[0] if key else table.key[0]
    if "player_id" in key:
        etype, id_col = "player", "player_id"
    elif "team_abbr" in key:
        etype, id_col = "team", "team_abbr"
    else:
        etype = "row"
    name_col = "player_lookup" if etype == "player" and "player_lookup" in table.column_names else id_col
    ident = pl.col(id_col).cast(pl.String).fill_null("NULL")
    return etype, id_col, ident, pl.col(name_col).cast(pl.String).fill_null(ident)


def withhold_blocked(rows: pl.DataFrame, table: TableSpec, processor: str, minimum_games: int | None,
                     schedule: pl.DataFrame, same_day_bad: Collection[dt.date],
                     team_gaps: Sequence[tuple[str, pl.DataFrame]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Withhold the rows of a Phase 4 table that rest on missing upstream data.

    Args:
        rows: the transform's rows (``table``'s columns, with ``team_abbr``).
        table, processor, minimum_games: the table, the failure rows' ``processor`` and
            ``games_required``.
        schedule: schedule rows (``game_id``, ``game_date``, ``season_year``), for each D's season.
        same_day_bad: days D whose same-day upstream partition is missing or altered: every row of D is
            withheld.
        team_gaps: ``(window, missing)`` per game-grained history upstream, ``missing`` the team-games
            it lacks (:func:`missing_team_games` plus a ``table`` column naming the upstream): a row
            whose team has one inside the window of D (:func:`blocked_entities`) is withheld.

    Returns ``(kept_rows, failures)``: the other rows, unchanged and in order, and one
    ``MISSING_DEPENDENCY`` entity row per withheld row saying what is missing ("row withheld: ...").
    """
    part = table.partition_column
    if rows.is_empty() or (not same_day_bad and not team_gaps):
        return rows, empty_failures()
    seasons = with_season(rows.select(pl.col(part).alias("analysis_date")).unique(),
                          season_calendar(schedule)).select(pl.col("analysis_date").alias(part), "season_year")
    blocked = [rows.filter(pl.col(part).is_in(list(same_day_bad))).select(part, "team_abbr").unique()
               .with_columns(pl.lit("a same-day upstream partition is missing or was changed").alias("why"))]
    for window, missing in team_gaps:
        hit = blocked_entities(rows, part, seasons, missing, window)
        blocked.append(hit.select(part, "team_abbr", pl.format(
            "{} game(s) of {} missing from {} before D (e.g. {})", pl.col("missing_games"), pl.col("team_abbr"),
            pl.lit(missing.item(0, "table")), pl.col("example")).alias("why")))
    why = pl.concat(blocked).group_by(part, "team_abbr").agg(pl.col("why").sort().str.join("; "))
    out = rows.join(why, on=[part, "team_abbr"], how="left")
    held = out.filter(pl.col("why").is_not_null())
    if held.is_empty():
        return rows, empty_failures()
    etype, _, ident, name = entity_columns(table)
    failures = failure_rows(
        held.with_columns(pl.col(part).alias("analysis_date")), processor=processor, entity_type=etype,
        entity_id=ident, entity_name=name, category=MISSING_DEPENDENCY,
        reason=pl.format("row withheld: {}", pl.col("why")), games_required=minimum_games,
        games_found=pl.lit(None, pl.Int64))
    return out.filter(pl.col("why").is_null()).drop("why"), failures
