"""PSZA: ``nba_precompute.player_shot_zone_analysis`` (reference §5, SPEC §3 and §5).

Grain: one row per (player, D) for every player with at least ``MIN_GAMES`` played games
(``minutes_played > 0``) this season strictly before D. Window: the player's last 10 (and 20) played
games before D this season. All fractions on 0-1:

* ``<zone>_rate_last_10`` = zone attempts / (paint + mid-range + three attempts); NULL when 0
* ``<zone>_pct_last_10`` = zone makes / zone attempts; NULL when 0 attempts
* ``<zone>_attempts_per_game`` = zone attempts / games in the window
* ``paint_rate_last_20`` / ``paint_pct_last_20`` only when the 20-game window holds >= 15 games

Seasons without a shot chart (2024-25, 2025-26: none was published): the paint and mid-range rates,
FG% and attempts per game, the 20-game paint columns and ``primary_scoring_zone`` are NULL; the
three-point rate is 3PA / FGA and the three-point FG% 3PM / 3PA of the box score, ``total_shots_last_10``
the box-score FGA; ``has_complete_shot_zones`` is false and ``data_quality_issues`` says why.

Players with 1-9 played games get a ``precompute_failures`` row ``INCOMPLETE_DATA`` (expected, not a
failure); players whose team has scheduled games missing upstream get ``MISSING_DEPENDENCY``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.schemas import PLAYER_SHOT_ZONE_ANALYSIS
from nba_precompute.transforms.common import (
    analysis_dates,
    safe_div,
    season_calendar,
    shot_zone_disagreement,
    with_season,
    zone_split_known,
)
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    MISSING_DEPENDENCY,
    completeness_columns,
    failure_rows,
    missing_upstream_dates,
    team_coverage,
)
from nba_precompute.transforms.phase3 import no_shot_chart_issue
from nba_precompute.transforms.windows import last_n_window, number_games, state_before

PROCESSOR = PLAYER_SHOT_ZONE_ANALYSIS.name  # the failure records' processor = the table name
MIN_GAMES = 10
WINDOW = 10
WINDOW_20 = 20
MIN_GAMES_20 = 15
PRIMARY_PAINT = 0.40
PRIMARY_THREE = 0.40
PRIMARY_MID = 0.35
_COUNTS = ["paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes",
           "three_pt_attempts", "three_pt_makes", "incomplete_zones", "zones_known", "fg_attempts"]


def sample_quality_expr(games: pl.Expr, window: int) -> pl.Expr:
    """excellent (>= window), good (>= floor(0.7 window)), limited (>= floor(0.5 window)), insufficient."""
    return (pl.when(games >= window).then(pl.lit("excellent"))
            .when(games >= int(0.7 * window)).then(pl.lit("good"))
            .when(games >= int(0.5 * window)).then(pl.lit("limited"))
            .otherwise(pl.lit("insufficient")))


def primary_scoring_zone_expr(paint: pl.Expr, mid: pl.Expr, three: pl.Expr) -> pl.Expr:
    """SPEC §5 thresholds on 0-1 rates (NULL read as 0): paint >= 0.40 -> paint, else three >= 0.40 ->
    perimeter, else mid >= 0.35 -> mid_range, else balanced; all zero/NULL -> NULL."""
    p, m, t = paint.fill_null(0), mid.fill_null(0), three.fill_null(0)
    return (pl.when((p == 0) & (m == 0) & (t == 0)).then(pl.lit(None, pl.String))
            .when(p >= PRIMARY_PAINT).then(pl.lit("paint"))
            .when(t >= PRIMARY_THREE).then(pl.lit("perimeter"))
            .when(m >= PRIMARY_MID).then(pl.lit("mid_range"))
            .otherwise(pl.lit("balanced")))


def zone_shares(prefix: str, suffix: str, zones_known: pl.Expr | None = None) -> tuple[pl.Expr, dict[str, pl.Expr]]:
    """The attempt total and each zone's share of it (``paint``, ``mid_range``, ``three_pt``; 0-1) from
    ``{prefix}<col>{suffix}`` window sums.

    ``zones_known`` (default: always) says whether every game of the window has its zone split (a
    season with a shot chart). Where it does not, the total is the box score's FGA
    (``{prefix}fg_attempts{suffix}``), the paint and mid-range shares are NULL and the three-point share
    is 3PA / FGA: what the box score supports.
    """
    def s(col: str) -> pl.Expr:
        return pl.col(f"{prefix}{col}{suffix}")

    known = pl.lit(True) if zones_known is None else zones_known
    total = pl.when(known).then(s("paint_attempts") + s("mid_range_attempts") + s("three_pt_attempts")) \
        .otherwise(s("fg_attempts"))
    shares = {zone: safe_div(s(f"{zone}_attempts"), total) for zone in ("paint", "mid_range", "three_pt")}
    return total, {zone: share if zone == "three_pt" else pl.when(known).then(share)
                   for zone, share in shares.items()}


def zone_metrics(prefix: str, suffix: str, zones_known: pl.Expr | None = None) -> list[pl.Expr]:
    """Rates (:func:`zone_shares`), FG% and the attempt total from ``{prefix}<col>{suffix}`` window sums;
    without the zone split (``zones_known`` false) the paint and mid-range FG% are NULL too."""
    known = pl.lit(True) if zones_known is None else zones_known
    total, rates = zone_shares(prefix, suffix, zones_known)
    out = [total.cast(pl.Int64).alias("total_shots_last_10")]
    for zone, rate in rates.items():
        pct = safe_div(pl.col(f"{prefix}{zone}_makes{suffix}"), pl.col(f"{prefix}{zone}_attempts{suffix}"))
        if zone != "three_pt":
            pct = pl.when(known).then(pct)
        out.append(rate.alias(f"{zone}_rate_last_10"))
        out.append(pct.alias(f"{zone}_pct_last_10"))
    return out


def build_player_shot_zone_analysis(player_games: pl.DataFrame, schedule: pl.DataFrame,
                                    start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PSZA rows and failure rows for every D in [start, end].

    Args:
        player_games: ``player_game_summary`` rows of every season overlapping the range, from the
            season start up to ``end`` (rows on or after D are ignored for D: the as-of rule).
        schedule: ``nba_schedule`` rows covering those seasons (defines the season calendar and the
            games each team should have played).

    Returns ``(rows, failures)``: rows with the PSZA columns (no ``processed_at``), failures with
    ``coverage.FAILURE_COLUMNS``.
    """
    cal = season_calendar(schedule)
    dates = with_season(analysis_dates(start, end, dates), cal).filter(pl.col("season_year").is_not_null())
    played = player_games.filter(
        (pl.col("minutes_played").fill_null(0) > 0) & (pl.col("game_date") < end)
    ).with_columns(
        shot_zone_disagreement().cast(pl.Int64).alias("incomplete_zones"),
        zone_split_known().cast(pl.Int64).alias("zones_known"),
    )
    by = ["player_id", "season_year"]
    numbered = number_games(played, by, _COUNTS)

    players = played.select("player_id", "season_year").unique()
    keys = dates.select("analysis_date", "season_year").join(players, on="season_year", how="inner")
    st = state_before(keys, numbered, by, _COUNTS, extra_cols=["team_abbr", "player_lookup"])
    st = st.filter(pl.col("game_number") >= 1)
    st = last_n_window(st, numbered, by, _COUNTS, WINDOW)
    st = last_n_window(st, numbered, by, _COUNTS, WINDOW_20)

    present = player_games.select("game_id", "team_abbr").unique()
    st = team_coverage(schedule, present, st, WINDOW)

    missing = st.filter(pl.col("missing_games_before") > 0)
    ok = st.filter(pl.col("missing_games_before") == 0)
    below = ok.filter(pl.col("game_number") < MIN_GAMES)
    rows_in = ok.filter(pl.col("game_number") >= MIN_GAMES)

    # games with source disagreements inside each row's 10-game window
    issues = numbered.filter(pl.col("incomplete_zones") == 1).select(
        *by, pl.col("game_number").alias("__issue_no"),
        pl.format("{} {}: ", pl.col("game_id"), pl.col("game_date")).alias("__prefix"),
        pl.col("data_quality_issues").list.join("; ").alias("__text"),
    )
    issue_lists = rows_in.select(*by, "analysis_date", "game_number").join(issues, on=by, how="inner").filter(
        (pl.col("__issue_no") <= pl.col("game_number")) & (pl.col("__issue_no") > pl.col("game_number") - WINDOW)
    ).group_by(*by, "analysis_date").agg(
        (pl.col("__prefix") + pl.col("__text")).sort().alias("data_quality_issues"))

    g10 = pl.col("games_last_10")
    g20 = pl.col("games_last_20")
    known10 = pl.col("sum_zones_known_last_10") == g10
    known20 = pl.col("sum_zones_known_last_20") == g20
    paint20_total = (pl.col("sum_paint_attempts_last_20") + pl.col("sum_mid_range_attempts_last_20")
                     + pl.col("sum_three_pt_attempts_last_20"))
    rows = rows_in.join(issue_lists, on=[*by, "analysis_date"], how="left").with_columns(
        *zone_metrics("sum_", "_last_10", known10),
        pl.when(known10).then(safe_div(pl.col("sum_paint_attempts_last_10"), g10)).alias("paint_attempts_per_game"),
        pl.when(known10).then(safe_div(pl.col("sum_mid_range_attempts_last_10"), g10))
        .alias("mid_range_attempts_per_game"),
        safe_div(pl.col("sum_three_pt_attempts_last_10"), g10).alias("three_pt_attempts_per_game"),
        pl.when((g20 >= MIN_GAMES_20) & known20).then(safe_div(pl.col("sum_paint_attempts_last_20"), paint20_total))
        .alias("paint_rate_last_20"),
        pl.when((g20 >= MIN_GAMES_20) & known20).then(
            safe_div(pl.col("sum_paint_makes_last_20"), pl.col("sum_paint_attempts_last_20")))
        .alias("paint_pct_last_20"),
        g10.alias("games_in_sample_10"),
        g20.alias("games_in_sample_20"),
        sample_quality_expr(g10, WINDOW).alias("sample_quality_10"),
        sample_quality_expr(g20, WINDOW_20).alias("sample_quality_20"),
        pl.lit(None, pl.Float64).alias("assisted_rate_last_10"),
        pl.lit(None, pl.Float64).alias("unassisted_rate_last_10"),
        pl.lit(None, pl.String).alias("player_position"),
        (known10 & (pl.col("sum_incomplete_zones_last_10") == 0)).alias("has_complete_shot_zones"),
        known10.alias("has_shot_chart"),
        pl.when(known10).then(pl.col("data_quality_issues").fill_null(pl.lit([], pl.List(pl.String))))
        .otherwise(pl.concat_list(no_shot_chart_issue(pl.col("season_year")))).alias("data_quality_issues"),
        pl.when(g10 >= MIN_GAMES).then(pl.lit("high")).when(g10 >= 7).then(pl.lit("medium"))
        .otherwise(pl.lit("low")).alias("data_quality_tier"),
        pl.lit("assisted/unassisted makes and player position are not in the sources").alias(
            "calculation_notes"),
        *completeness_columns(),
    ).with_columns(
        pl.when(known10).then(primary_scoring_zone_expr(pl.col("paint_rate_last_10"), pl.col("mid_range_rate_last_10"),
                                                        pl.col("three_pt_rate_last_10"))).alias("primary_scoring_zone"),
    ).select(PLAYER_SHOT_ZONE_ANALYSIS.data_columns).sort("analysis_date", "player_id")

    failures = pl.concat([
        failure_rows(
            below, processor=PROCESSOR, entity_type="player", entity_id=pl.col("player_id"),
            entity_name=pl.col("player_lookup"), category=INCOMPLETE_DATA,
            reason=pl.format("{} played games this season before D, need {}", pl.col("game_number"),
                             pl.lit(MIN_GAMES)),
            games_required=MIN_GAMES, games_found=pl.col("game_number"),
        ),
        failure_rows(
            missing, processor=PROCESSOR, entity_type="player", entity_id=pl.col("player_id"),
            entity_name=pl.col("player_lookup"), category=MISSING_DEPENDENCY,
            reason=pl.format("{} scheduled game(s) of {} before D missing from player_game_summary",
                             pl.col("missing_games_before"), pl.col("team_abbr")),
            games_required=MIN_GAMES, games_found=pl.col("game_number"),
        ),
        missing_upstream_dates(schedule, player_games.get_column("game_date").unique(), dates, PROCESSOR,
                               "nba_analytics.player_game_summary"),
    ])
    return rows, failures.sort("analysis_date", "failure_category", "entity_id")
