"""TDZA: ``nba_precompute.team_defense_zone_analysis`` (reference §4, SPEC §5).

Grain: one row per (team, D) for every team with at least ``MIN_GAMES`` (15) games this season
strictly before D; window = the team's last 15 games before D. Zone FG% allowed are 0-1 fractions;
``*_defense_vs_league_avg`` are 0-1 differences (team FG% allowed - league FG%, positive = worse
defense). League averages: per team over [D - 30 days, D) (strictly before D, legacy bug B16), teams
with >= 10 games there, FG% per team, per zone the unweighted mean over the teams with a value; fewer
than 10 such teams -> defaults 0.580 / 0.410 / 0.355.

Seasons without a shot chart (none published for 2024-25 and 2025-26): the paint and mid-range FG%
allowed, attempts and points per game, their vs-league values, league averages and the strongest /
weakest zone are NULL (``has_shot_chart`` false, the reason in ``calculation_notes``); the three-point
columns come from the opponents' box scores. Defensive rating and opponent pace are averaged over the
games that have them (NULL in 2020-21, whose source has no offensive rebounds).

Universe: every team with at least one scheduled regular-season game this season before D. Teams
below the minimum -> ``INCOMPLETE_DATA``; teams with scheduled games missing upstream ->
``MISSING_DEPENDENCY``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.schemas import TEAM_DEFENSE_ZONE_ANALYSIS
from nba_precompute.transforms.common import (
    analysis_dates,
    safe_div,
    season_calendar,
    with_season,
)
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    MISSING_DEPENDENCY,
    completeness_columns,
    failure_rows,
    missing_upstream_dates,
    scheduled_team_games,
    team_coverage,
)
from nba_precompute.transforms.phase3 import no_shot_chart_issue
from nba_precompute.transforms.windows import (
    day_window,
    last_n_window,
    number_games,
    state_before,
)

PROCESSOR = TEAM_DEFENSE_ZONE_ANALYSIS.name  # the failure records' processor = the table name
MIN_GAMES = 15
WINDOW = 15
LEAGUE_WINDOW_DAYS = 30
LEAGUE_MIN_TEAM_GAMES = 10
LEAGUE_MIN_TEAMS = 10
LEAGUE_DEFAULTS = {"paint": 0.580, "mid_range": 0.410, "three_pt": 0.355}
ZONE_LABELS = {"paint": "paint", "mid_range": "mid_range", "three_pt": "perimeter"}
_ZONE_SUMS = ["opp_paint_attempts", "opp_paint_makes", "opp_mid_range_attempts", "opp_mid_range_makes",
              "opp_three_pt_attempts", "opp_three_pt_makes", "zones_known"]
# per-game values averaged over the games that have them (NULL possessions in 2020-21: no ORB)
_MEANS = ["defensive_rating", "opponent_pace"]
_SUMS = [*_ZONE_SUMS, "points_in_paint_allowed", "mid_range_points_allowed", "three_pt_points_allowed",
         "points_allowed", *_MEANS, *[f"{c}_n" for c in _MEANS]]
SPLIT_ZONES = ("paint", "mid_range")  # known only from a shot chart; three-pointers also from the box score


def league_averages(team_defense: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """League zone FG% for each ``analysis_date`` in ``keys`` (reference §4.1, window [D-30, D)).

    ``team_defense`` holds ``team_abbr`` (defending), ``season_year``, ``game_date``, the opponent zone
    counts (paint and mid-range NULL for a game without a zone split); ``keys`` holds ``team_abbr``,
    ``season_year``, ``analysis_date`` (the teams to average over). Each zone's league FG% is the
    unweighted mean of the FG% allowed of the teams with >= 10 games in the window and a value for that
    zone (summed in team order: reproducible to the bit). Fewer than 10 such teams: the reference
    defaults 0.580 / 0.410 / 0.355, except for paint and mid-range in a season without a shot chart,
    which are NULL (unknown, not defaulted). Returns ``analysis_date``, ``league_paint_pct``,
    ``league_mid_range_pct``, ``league_three_pt_pct`` (0-1), ``league_avg_teams`` and
    ``league_avg_is_default``.
    """
    by = ["team_abbr", "season_year"]
    if "zones_known" not in team_defense.columns:
        team_defense = team_defense.with_columns(
            pl.col("opp_paint_attempts").is_not_null().cast(pl.Int64).alias("zones_known"))
    numbered = number_games(team_defense, by, _ZONE_SUMS)
    win = day_window(keys, numbered, by, _ZONE_SUMS, LEAGUE_WINDOW_DAYS, name="league")
    known = pl.col("sum_zones_known_league") == pl.col("games_league")
    per_team = win.filter(pl.col("games_league") >= LEAGUE_MIN_TEAM_GAMES).with_columns(
        (pl.when(known) if z in SPLIT_ZONES else pl.when(True)).then(
            safe_div(pl.col(f"sum_opp_{z}_makes_league"), pl.col(f"sum_opp_{z}_attempts_league"))).alias(z)
        for z in LEAGUE_DEFAULTS
    )
    # the mean of each day is one running sum in team order, then one division: same input, same bits.
    # A group-by mean() (or sum()) adds per chunk or per thread partition and then adds the partial sums,
    # so its last bit depends on the frame's chunking and on the thread pool; a cumulative sum is one
    # sequential pass over the group's rows in their (sorted) order.
    def team_order_mean(z: str) -> pl.Expr:
        values = pl.col(z).drop_nulls()
        return values.cum_sum().last() / values.len()

    agg = per_team.sort("analysis_date", "team_abbr").group_by("analysis_date", maintain_order=True).agg(
        *[team_order_mean(z).alias(f"__{z}") for z in LEAGUE_DEFAULTS],
        *[pl.col(z).count().alias(f"__n_{z}") for z in LEAGUE_DEFAULTS],
        pl.len().cast(pl.Int64).alias("league_avg_teams"),
    )
    season_zones = team_defense.group_by("season_year").agg(
        (pl.col("zones_known") > 0).any().alias("__season_has_zones"))
    days = keys.select("analysis_date", "season_year").unique().join(season_zones, on="season_year", how="left")
    out = days.join(agg, on="analysis_date", how="left").with_columns(
        pl.col("league_avg_teams").fill_null(0), pl.col("__season_has_zones").fill_null(False))
    is_default = pl.col("league_avg_teams") < LEAGUE_MIN_TEAMS

    def league(z: str, default: float) -> pl.Expr:
        unknown = ~pl.col("__season_has_zones") if z in SPLIT_ZONES else pl.lit(False)
        enough = pl.col(f"__n_{z}").fill_null(0) >= LEAGUE_MIN_TEAMS
        return (pl.when(unknown).then(None).when(enough).then(pl.col(f"__{z}"))
                .otherwise(pl.lit(default)).alias(f"league_{z}_pct"))

    return out.select(
        "analysis_date",
        *[league(z, v) for z, v in LEAGUE_DEFAULTS.items()],
        "league_avg_teams",
        is_default.alias("league_avg_is_default"),
    )


def _zone_extreme(values: dict[str, pl.Expr], pick_min: bool) -> pl.Expr:
    """Label of the zone with the min (or max) non-NULL value; ties go to paint, mid_range, perimeter."""
    agg = pl.min_horizontal if pick_min else pl.max_horizontal
    best = agg(*values.values())
    expr = pl.lit(None, pl.String)
    for zone in reversed(list(values)):
        expr = pl.when(values[zone].is_not_null() & (values[zone] == best)).then(
            pl.lit(ZONE_LABELS[zone])).otherwise(expr)
    return expr


def build_team_defense_zone_analysis(team_defense: pl.DataFrame, schedule: pl.DataFrame,
                                     start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """TDZA rows and failure rows for every D in [start, end].

    Args:
        team_defense: ``team_defense_game_summary`` rows from the season start up to ``end``.
        schedule: ``nba_schedule`` rows of those seasons.

    Returns ``(rows, failures)`` (rows without ``processed_at``; failures with FAILURE_COLUMNS).
    """
    cal = season_calendar(schedule)
    dates = with_season(analysis_dates(start, end, dates), cal).filter(pl.col("season_year").is_not_null())
    td = team_defense.rename({"defending_team_abbr": "team_abbr"}).filter(pl.col("game_date") < end).with_columns(
        pl.col("opp_paint_attempts").is_not_null().cast(pl.Int64).alias("zones_known"),
        *[pl.col(c).is_not_null().cast(pl.Int64).alias(f"{c}_n") for c in _MEANS],
    )
    by = ["team_abbr", "season_year"]
    numbered = number_games(td, by, _SUMS)

    sched = scheduled_team_games(schedule).filter(pl.col("game_date") < end)
    first_game = sched.group_by(by).agg(pl.col("game_date").min().alias("__first"))
    keys = dates.select("analysis_date", "season_year").join(first_game, on="season_year", how="inner").filter(
        pl.col("__first") < pl.col("analysis_date")).drop("__first")
    st = state_before(keys, numbered, by, _SUMS)
    st = last_n_window(st, numbered, by, _SUMS, WINDOW)
    st = team_coverage(schedule, td.select("game_id", "team_abbr"), st, WINDOW)
    league = league_averages(td, st.select(*by, "analysis_date"))

    missing = st.filter(pl.col("missing_games_before") > 0)
    ok = st.filter(pl.col("missing_games_before") == 0)
    below = ok.filter(pl.col("game_number") < MIN_GAMES)
    rows_in = ok.filter(pl.col("game_number") >= MIN_GAMES).join(league, on="analysis_date", how="left")

    g = pl.col("games_last_15")

    def s(col: str) -> pl.Expr:
        return pl.col(f"sum_{col}_last_15")

    known = s("zones_known") == g  # every game of the window has its zone split (a shot chart)

    def split(e: pl.Expr, z: str) -> pl.Expr:
        return pl.when(known).then(e) if z in SPLIT_ZONES else e

    pct = {z: split(safe_div(s(f"opp_{z}_makes"), s(f"opp_{z}_attempts")), z) for z in LEAGUE_DEFAULTS}
    vs = {z: pct[z] - pl.col(f"league_{z}_pct") for z in LEAGUE_DEFAULTS}
    notes = pl.concat_list([
        pl.when(known & (s("opp_paint_attempts") == 0)).then(pl.lit("No paint attempts")),
        pl.when(known & (s("opp_mid_range_attempts") == 0)).then(pl.lit("No mid-range attempts")),
        pl.when(s("opp_three_pt_attempts") == 0).then(pl.lit("No three-point attempts")),
        pl.when(~known).then(no_shot_chart_issue(pl.col("season_year"))),
    ]).list.drop_nulls()
    rows = rows_in.with_columns(
        pct["paint"].alias("paint_pct_allowed_last_15"),
        split(safe_div(s("opp_paint_attempts"), g), "paint").alias("paint_attempts_allowed_per_game"),
        split(safe_div(s("points_in_paint_allowed"), g), "paint").alias("paint_points_allowed_per_game"),
        pl.lit(None, pl.Float64).alias("paint_blocks_per_game"),
        vs["paint"].alias("paint_defense_vs_league_avg"),
        pct["mid_range"].alias("mid_range_pct_allowed_last_15"),
        split(safe_div(s("opp_mid_range_attempts"), g), "mid_range").alias("mid_range_attempts_allowed_per_game"),
        split(safe_div(s("mid_range_points_allowed"), g), "mid_range").alias("mid_range_points_allowed_per_game"),
        pl.lit(None, pl.Float64).alias("mid_range_blocks_per_game"),
        vs["mid_range"].alias("mid_range_defense_vs_league_avg"),
        pct["three_pt"].alias("three_pt_pct_allowed_last_15"),
        safe_div(s("opp_three_pt_attempts"), g).alias("three_pt_attempts_allowed_per_game"),
        safe_div(s("three_pt_points_allowed"), g).alias("three_pt_points_allowed_per_game"),
        pl.lit(None, pl.Float64).alias("three_pt_blocks_per_game"),
        vs["three_pt"].alias("three_pt_defense_vs_league_avg"),
        safe_div(s("defensive_rating"), s("defensive_rating_n")).alias("defensive_rating_last_15"),
        safe_div(s("points_allowed"), g).alias("opponent_points_per_game"),
        safe_div(s("opponent_pace"), s("opponent_pace_n")).alias("opponent_pace"),
        g.alias("games_in_sample"),
        pl.when(known).then(_zone_extreme(vs, pick_min=True)).alias("strongest_zone"),
        pl.when(known).then(_zone_extreme(vs, pick_min=False)).alias("weakest_zone"),
        pl.when(g >= 15).then(pl.lit("high")).when(g >= 10).then(pl.lit("medium")).otherwise(pl.lit("low"))
        .alias("data_quality_tier"),
        known.alias("has_shot_chart"),
        pl.when(notes.list.len() > 0).then(notes.list.join("; ")).alias("calculation_notes"),
        *completeness_columns(),
    ).select(TEAM_DEFENSE_ZONE_ANALYSIS.data_columns).sort("analysis_date", "team_abbr")

    failures = pl.concat([
        failure_rows(
            below, processor=PROCESSOR, entity_type="team", entity_id=pl.col("team_abbr"),
            entity_name=pl.col("team_abbr"), category=INCOMPLETE_DATA,
            reason=pl.format("{} games this season before D, need {}", pl.col("game_number"),
                             pl.lit(MIN_GAMES)),
            games_required=MIN_GAMES, games_found=pl.col("game_number"),
        ),
        failure_rows(
            missing, processor=PROCESSOR, entity_type="team", entity_id=pl.col("team_abbr"),
            entity_name=pl.col("team_abbr"), category=MISSING_DEPENDENCY,
            reason=pl.format("{} scheduled game(s) before D missing from team_defense_game_summary",
                             pl.col("missing_games_before")),
            games_required=MIN_GAMES, games_found=pl.col("game_number"),
        ),
        missing_upstream_dates(schedule, team_defense.get_column("game_date").unique(), dates, PROCESSOR,
                               "nba_analytics.team_defense_game_summary"),
    ])
    return rows, failures.sort("analysis_date", "failure_category", "entity_id")
