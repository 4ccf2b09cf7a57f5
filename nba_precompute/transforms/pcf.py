"""PCF: ``nba_precompute.player_composite_factors`` (reference §6, SPEC §5).

Grain: one row per (player, D) for every player in ``upcoming_player_game_context`` for D (D's
pre-game player universe, SPEC §2: the players whose most recent played game, within the 30 days
before D, was for a team scheduled on D; see ``transforms.phase3.pregame_universe``). No input of a
row for D is read from D's box scores: ``present_games`` is used only strictly before D.

PCF never skips a player for thin history (reference §6.4): missing PSZA / opponent-TDZA rows give a
0.0 mismatch factor and readiness flags false.

The four active factors, on this project's scales (SPEC §3: fractions on 0-1):

* **fatigue** (reference §6.2): ``fatigue_score`` 0-100 (higher = fresher, integer-valued), starting at
  100: back-to-back -15, else days_rest >= 3 +5; games_in_last_7_days >= 4 -10; minutes_in_last_7_days
  > 240 -10; avg_minutes_per_game_last_7 > 35 -8; back_to_backs_last_14_days >= 2 -12, == 1 -5; age >=
  35 -10, >= 30 -5; clamp [0, 100]. Missing inputs take the reference defaults (days_rest 1, b2b
  false, games 3, minutes 200, avg mpg 30, b2bs 0, age 25). ``fatigue_adjustment`` =
  (fatigue_score - 100) / 20 in [-5, 0] is a separate column (legacy bug B3).
* **shot-zone mismatch**: zone = PSZA ``primary_scoring_zone`` (``balanced`` / NULL fall back to the
  paint fields, a reference quirk kept on purpose); ``zone_rate`` = the player's PSZA rate for it (0-1,
  default 0.5); ``d`` = opponent TDZA ``<zone>_defense_vs_league_avg`` x 100 (percentage points,
  default 0); ``w = min(zone_rate / 0.5, 1)`` (SPEC §5); ``m = d x w``; |m| > 5 -> m x 1.2; clamp
  [-10, 10]. 0.0 when the PSZA row or the opponent's TDZA row is missing.
* **pace**: clamp(pace_differential / 2, -3, 3), a missing differential read as 0. The differential is
  in possessions per 48 minutes.
* **usage spike**: ``proj`` = ``projected_usage_rate`` (the season usage average before D, SPEC §5),
  ``base`` = ``avg_usage_rate_last_7_games``, both 0-1 with default 0.25 (the reference's 25.0).
  ``s = (proj - base) x 100 x 0.3`` (the reference's ``x 0.3`` on 0-100 inputs); base 0 -> 0;
  ``s > 0`` with star teammates out: x 1.30 for 2+, x 1.15 for one; clamp [-3, 3].

Deferred factors (referee, look-ahead, travel, opponent strength) are 0.0. ``total_composite_adjustment``
= fatigue_adjustment + mismatch + pace + usage (+ deferred 0), from unrounded components.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.schemas import PLAYER_COMPOSITE_FACTORS, empty_failures
from nba_precompute.transforms.common import on_dates, seasons_with_shot_chart
from nba_precompute.transforms.coverage import (
    PROCESSING_ERROR,
    completeness_columns,
    failure_rows,
    team_coverage,
)

PROCESSOR = PLAYER_COMPOSITE_FACTORS.name  # the failure records' processor = the table name
CALCULATION_VERSION = "v2_4factors_unit_scales"
COMPLETENESS_WINDOW = 10

# fatigue (reference §6.2)
FATIGUE_DEFAULTS = {"days_rest": 1, "back_to_back": False, "games_in_last_7_days": 3,
                    "minutes_in_last_7_days": 200.0, "avg_minutes_per_game_last_7": 30.0,
                    "back_to_backs_last_14_days": 0, "player_age": 25.0}
# shot-zone mismatch
ZONE_RATE_DEFAULT = 0.5
ZONE_RATE_FULL_WEIGHT = 0.5
MISMATCH_AMPLIFY_ABOVE = 5.0
MISMATCH_AMPLIFY = 1.2
MISMATCH_CLAMP = 10.0
# pace
PACE_CLAMP = 3.0
# usage spike
USAGE_DEFAULT = 0.25
USAGE_POINTS_PER_FRACTION = 100.0
USAGE_WEIGHT = 0.3
USAGE_CLAMP = 3.0
STARS_2_BOOST = 1.30
STARS_1_BOOST = 1.15
# context labels
MISMATCH_LABEL_AT = 2.0
PACE_LABEL_AT = 2.0
USAGE_TREND_AT = 0.02  # 2 usage points on the 0-1 scale

# reference §6.4 ranges (warnings; fatigue is critical)
RANGES = {
    "shot_zone_mismatch_score": 15.0,
    "pace_score": 8.0,
    "usage_spike_score": 8.0,
    "referee_favorability_score": 10.0,
    "look_ahead_pressure_score": 5.0,
    "travel_impact_score": 5.0,
    "opponent_strength_score": 10.0,
    "total_composite_adjustment": 30.0,
}
DEFERRED = ("referee_favorability_score", "look_ahead_pressure_score", "travel_impact_score",
            "opponent_strength_score")
ZONE_FIELDS = {"paint": "paint", "mid_range": "mid_range", "perimeter": "three_pt"}


# The columns PCF reads from the same-day tables (its declaration reads only these).
PSZA_INPUT = ("player_id", "analysis_date", "primary_scoring_zone", "paint_rate_last_10", "mid_range_rate_last_10",
              "three_pt_rate_last_10", "is_production_ready")
TDZA_INPUT = ("team_abbr", "analysis_date", "paint_defense_vs_league_avg", "mid_range_defense_vs_league_avg",
              "three_pt_defense_vs_league_avg", "weakest_zone", "is_production_ready")
UPTGC_INPUT = ("team_abbr", "game_date", "is_production_ready")


def _clamp(e: pl.Expr, bound: float) -> pl.Expr:
    return e.clip(-bound, bound)


def add_fatigue(df: pl.DataFrame) -> pl.DataFrame:
    """Add the fatigue factor (reference §6.2) to a frame with the UPCG load columns.

    Input columns: ``days_rest``, ``back_to_back``, ``games_in_last_7_days``, ``minutes_in_last_7_days``,
    ``avg_minutes_per_game_last_7``, ``back_to_backs_last_14_days``, ``player_age`` (NULLs take
    ``FATIGUE_DEFAULTS``). Adds the points of each rule (``fatigue_rest_points``, ``fatigue_games_points``,
    ``fatigue_minutes_points``, ``fatigue_mpg_points``, ``fatigue_b2b_points``, ``fatigue_age_points``;
    score points), ``fatigue_score`` (0-100, INT64) and ``fatigue_adjustment`` ((score - 100) / 20, in
    [-5, 0]).
    """
    d = FATIGUE_DEFAULTS
    rest = pl.col("days_rest").fill_null(d["days_rest"])
    b2b = pl.col("back_to_back").fill_null(d["back_to_back"])
    games7 = pl.col("games_in_last_7_days").fill_null(d["games_in_last_7_days"])
    min7 = pl.col("minutes_in_last_7_days").fill_null(d["minutes_in_last_7_days"])
    mpg7 = pl.col("avg_minutes_per_game_last_7").fill_null(d["avg_minutes_per_game_last_7"])
    b2b14 = pl.col("back_to_backs_last_14_days").fill_null(d["back_to_backs_last_14_days"])
    age = pl.col("player_age").fill_null(d["player_age"])
    parts = {
        "fatigue_rest_points": pl.when(b2b).then(-15).when(rest >= 3).then(5).otherwise(0),
        "fatigue_games_points": pl.when(games7 >= 4).then(-10).otherwise(0),
        "fatigue_minutes_points": pl.when(min7 > 240).then(-10).otherwise(0),
        "fatigue_mpg_points": pl.when(mpg7 > 35).then(-8).otherwise(0),
        "fatigue_b2b_points": pl.when(b2b14 >= 2).then(-12).when(b2b14 == 1).then(-5).otherwise(0),
        "fatigue_age_points": pl.when(age >= 35).then(-10).when(age >= 30).then(-5).otherwise(0),
    }
    out = df.with_columns(*[e.cast(pl.Int64).alias(n) for n, e in parts.items()])
    score = (100 + pl.sum_horizontal(*[pl.col(n) for n in parts])).clip(0, 100).cast(pl.Int64)
    return out.with_columns(score.alias("fatigue_score")).with_columns(
        ((pl.col("fatigue_score") - 100) / 20.0).alias("fatigue_adjustment"))


def add_shot_zone_mismatch(df: pl.DataFrame) -> pl.DataFrame:
    """Add the shot-zone mismatch factor (reference §6.2 on 0-1 inputs, SPEC §5).

    Input columns: ``psza_present`` / ``tdza_present`` (bool), PSZA ``primary_scoring_zone`` and
    ``paint_rate_last_10``, ``mid_range_rate_last_10``, ``three_pt_rate_last_10`` (0-1), and the
    opponent's ``opp_paint_defense_vs_league_avg``, ``opp_mid_range_defense_vs_league_avg``,
    ``opp_three_pt_defense_vs_league_avg`` (0-1 differences). Adds ``shot_zone_mismatch_score``
    (points, [-10, 10]), ``primary_zone_frequency`` (0-1 rate used), ``opponent_defense_vs_league``
    (0-1 difference used), ``shot_zone_mismatch_type`` (favorable > 2, unfavorable < -2, neutral;
    NULL when an input row is missing). With an optional ``season_has_shot_chart`` column false (no
    shot chart was published for the season), the factor and its three companions are NULL: zone
    shares are unknown, so no value is computed (not 0).
    """
    zone = pl.col("primary_scoring_zone")
    chart = (pl.col("season_has_shot_chart").fill_null(True) if "season_has_shot_chart" in df.columns
             else pl.lit(True))

    def pick(field: str) -> pl.Expr:
        return (pl.when(zone == "mid_range").then(pl.col(field.format("mid_range")))
                .when(zone == "perimeter").then(pl.col(field.format("three_pt")))
                .otherwise(pl.col(field.format("paint"))))

    rate = pick("{}_rate_last_10")
    diff = pick("opp_{}_defense_vs_league_avg")
    available = pl.col("psza_present").fill_null(False) & pl.col("tdza_present").fill_null(False)
    d_pp = diff.fill_null(0.0) * 100.0
    w = pl.min_horizontal(rate.fill_null(ZONE_RATE_DEFAULT) / ZONE_RATE_FULL_WEIGHT, pl.lit(1.0))
    m = d_pp * w
    m = pl.when(m.abs() > MISMATCH_AMPLIFY_ABOVE).then(m * MISMATCH_AMPLIFY).otherwise(m)
    score = pl.when(~chart).then(None).when(available).then(_clamp(m, MISMATCH_CLAMP)).otherwise(0.0)
    return df.with_columns(
        score.alias("shot_zone_mismatch_score"),
        pl.when(available & chart).then(rate).alias("primary_zone_frequency"),
        pl.when(available & chart).then(diff).alias("opponent_defense_vs_league"),
    ).with_columns(
        pl.when(~available | ~chart).then(pl.lit(None, pl.String))
        .when(pl.col("shot_zone_mismatch_score") > MISMATCH_LABEL_AT).then(pl.lit("favorable"))
        .when(pl.col("shot_zone_mismatch_score") < -MISMATCH_LABEL_AT).then(pl.lit("unfavorable"))
        .otherwise(pl.lit("neutral")).alias("shot_zone_mismatch_type"),
    )


def add_pace(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``pace_score`` = clamp(pace_differential / 2, -3, 3) (NULL differential -> 0) and
    ``pace_environment`` (fast > 2, slow < -2, else normal; differential in possessions per 48)."""
    diff = pl.col("pace_differential").fill_null(0.0)
    return df.with_columns(
        _clamp(diff / 2.0, PACE_CLAMP).alias("pace_score"),
        pl.when(diff > PACE_LABEL_AT).then(pl.lit("fast")).when(diff < -PACE_LABEL_AT).then(pl.lit("slow"))
        .otherwise(pl.lit("normal")).alias("pace_environment"),
    )


def add_usage_spike(df: pl.DataFrame) -> pl.DataFrame:
    """Add the usage-spike factor (reference §6.2 on 0-1 usage shares, legacy bug B4 fixed).

    Input columns: ``projected_usage_rate``, ``avg_usage_rate_last_7_games`` (0-1, NULL -> 0.25) and
    ``star_teammates_out``. Adds ``usage_differential`` (proj - base, 0-1 difference),
    ``usage_spike_score`` (points, [-3, 3]) and ``usage_trend`` (spike > 0.02, drop < -0.02, stable).
    """
    proj = pl.col("projected_usage_rate").fill_null(USAGE_DEFAULT)
    base = pl.col("avg_usage_rate_last_7_games").fill_null(USAGE_DEFAULT)
    stars = pl.col("star_teammates_out").fill_null(0)
    s = (proj - base) * USAGE_POINTS_PER_FRACTION * USAGE_WEIGHT
    s = (pl.when((s > 0) & (stars >= 2)).then(s * STARS_2_BOOST)
         .when((s > 0) & (stars == 1)).then(s * STARS_1_BOOST).otherwise(s))
    diff = proj - base
    return df.with_columns(
        diff.alias("usage_differential"),
        pl.when(base == 0).then(0.0).otherwise(_clamp(s, USAGE_CLAMP)).alias("usage_spike_score"),
        pl.when(diff > USAGE_TREND_AT).then(pl.lit("spike")).when(diff < -USAGE_TREND_AT).then(pl.lit("drop"))
        .otherwise(pl.lit("stable")).alias("usage_trend"),
    )


def _string_list(items: list[tuple[pl.Expr, str]]) -> pl.Expr:
    """A list of the labels whose condition holds (NULL conditions count as false)."""
    return pl.concat_list(
        [pl.when(cond.fill_null(False)).then(pl.lit(label)).otherwise(pl.lit(None, pl.String))
         for cond, label in items]
    ).list.drop_nulls()


def add_totals_and_flags(df: pl.DataFrame) -> pl.DataFrame:
    """Deferred factors (0.0), ``total_composite_adjustment``, completeness, warnings and range issues.

    Needs the four factor columns plus ``days_rest``, ``projected_usage_rate``, ``pace_differential``,
    ``psza_present`` and ``tdza_present``. ``data_completeness_pct`` is 0.2 per present input (0-1;
    the reference's 20 points each). A NULL mismatch (no shot chart) counts 0 in the total and is named in
    ``missing_data_fields``. Warnings: EXTREME_FATIGUE (score < 50), EXTREME_MATCHUP
    (|mismatch| > 8), EXTREME_ADJUSTMENT (|total| > 12).
    """
    chart = (pl.col("season_has_shot_chart").fill_null(True) if "season_has_shot_chart" in df.columns
             else pl.lit(True))
    present = {
        "days_rest": pl.col("days_rest").is_not_null(),
        "projected_usage_rate": pl.col("projected_usage_rate").is_not_null(),
        "pace_differential": pl.col("pace_differential").is_not_null(),
        "player_shot_zone_analysis": pl.col("psza_present").fill_null(False),
        "opponent_team_defense_zone_analysis": pl.col("tdza_present").fill_null(False),
    }
    out = df.with_columns(*[pl.lit(0.0).alias(c) for c in DEFERRED]).with_columns(
        (pl.col("fatigue_adjustment") + pl.col("shot_zone_mismatch_score").fill_null(0.0) + pl.col("pace_score")
         + pl.col("usage_spike_score") + pl.sum_horizontal(*[pl.col(c) for c in DEFERRED]))
        .alias("total_composite_adjustment"),
        (pl.sum_horizontal(*[e.cast(pl.Int64) for e in present.values()]) / len(present))
        .alias("data_completeness_pct"),
        pl.concat_list(
            _string_list([(~e, name) for name, e in present.items()]),
            _string_list([(~chart, "shot_zones (no shot chart for the season)")]),
        ).alias("missing_data_fields"),
    )
    warnings = _string_list([
        (pl.col("fatigue_score") < 50, "EXTREME_FATIGUE"),
        (pl.col("shot_zone_mismatch_score").abs() > 8, "EXTREME_MATCHUP"),
        (pl.col("total_composite_adjustment").abs() > 12, "EXTREME_ADJUSTMENT"),
    ])
    range_issues = _string_list([
        (pl.col(c).abs() > bound, f"WARNING: {c} outside +/-{bound:g}") for c, bound in RANGES.items()
    ])
    return out.with_columns(warnings.alias("warning_details"), range_issues.alias("__range_issues")).with_columns(
        (pl.col("warning_details").list.len() > 0).alias("has_warnings"))


def build_player_composite_factors(upcg: pl.DataFrame, psza: pl.DataFrame, tdza: pl.DataFrame,
                                   uptgc: pl.DataFrame, present_games: pl.DataFrame, schedule: pl.DataFrame,
                                   start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PCF rows and failure rows for every D in [start, end].

    Args:
        upcg: ``upcoming_player_game_context`` rows for D in [start, end] (the universe).
        psza: ``player_shot_zone_analysis`` rows for the same dates (matched on player_id and D).
        tdza: ``team_defense_zone_analysis`` rows for the same dates (matched on the **opponent** and D).
        uptgc: ``upcoming_team_game_context`` rows for the same dates (the opponent's readiness flag).
        present_games: ``player_game_summary`` rows before D with at least ``game_id`` and ``team_abbr``,
            for the own-completeness columns (team's last 10 scheduled games present upstream); with
            ``season_year`` and ``paint_attempts`` also, a season whose games have no zone split (no shot
            chart) gets a NULL shot-zone mismatch.
        schedule: ``nba_schedule`` rows of the season(s).

    Returns ``(rows, failures)``. A row whose ``fatigue_score`` falls outside 0-100 (impossible by
    construction, checked anyway: reference §6.4 makes it critical) is dropped and reported as
    ``PROCESSING_ERROR``. Other out-of-range factors add ``WARNING:`` entries to
    ``data_quality_issues``.
    """
    u = upcg.filter(on_dates("game_date", start, end, dates))
    p = psza.select(
        "player_id", pl.col("analysis_date").alias("game_date"), "primary_scoring_zone",
        "paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10",
        pl.lit(True).alias("psza_present"), pl.col("is_production_ready").alias("psza_ready"),
    )
    t = tdza.select(
        pl.col("team_abbr").alias("opponent_team_abbr"), pl.col("analysis_date").alias("game_date"),
        *[pl.col(f"{z}_defense_vs_league_avg").alias(f"opp_{z}_defense_vs_league_avg")
          for z in ("paint", "mid_range", "three_pt")],
        pl.col("weakest_zone").alias("opponent_weak_zone"),
        pl.lit(True).alias("tdza_present"), pl.col("is_production_ready").alias("tdza_ready"),
    )
    tc = uptgc.select(pl.col("team_abbr").alias("opponent_team_abbr"), "game_date",
                      pl.col("is_production_ready").alias("uptgc_ready"))
    df = (u.join(p, on=["player_id", "game_date"], how="left")
          .join(t, on=["opponent_team_abbr", "game_date"], how="left")
          .join(tc, on=["opponent_team_abbr", "game_date"], how="left"))
    if {"season_year", "paint_attempts"} <= set(present_games.columns):
        df = df.join(seasons_with_shot_chart(present_games), on="season_year", how="left")
    df = add_totals_and_flags(add_usage_spike(add_pace(add_shot_zone_mismatch(add_fatigue(df)))))

    # own completeness: the team's last 10 scheduled games before D present in player_game_summary
    keys = df.select("player_id", "team_abbr", "season_year", pl.col("game_date").alias("analysis_date"))
    cov = team_coverage(schedule, present_games, keys, COMPLETENESS_WINDOW).with_columns(
        *completeness_columns()).rename({"is_production_ready": "own_data_ready", "analysis_date": "game_date"})
    df = df.join(cov.drop("team_abbr", "season_year", "scheduled_games_before", "missing_games_before"),
                 on=["player_id", "game_date"], how="left")

    ready = {
        "upstream_player_shot_ready": pl.col("psza_ready").fill_null(False),
        "upstream_team_defense_ready": pl.col("tdza_ready").fill_null(False),
        "upstream_player_context_ready": pl.col("is_production_ready").fill_null(False),
        "upstream_team_context_ready": pl.col("uptgc_ready").fill_null(False),
    }
    df = df.with_columns(*[e.alias(n) for n, e in ready.items()]).with_columns(
        pl.all_horizontal(*[pl.col(n) for n in ready]).alias("all_upstreams_ready"),
    ).with_columns(
        (pl.col("own_data_ready") & pl.col("all_upstreams_ready")).alias("is_production_ready"),
        pl.concat_list(
            _string_list([(~pl.col("own_data_ready"), "own_data_incomplete"),
                          (~pl.col("upstream_player_shot_ready"), "upstream_player_shot_zone_incomplete"),
                          (~pl.col("upstream_team_defense_ready"), "upstream_team_defense_zone_incomplete"),
                          (~pl.col("upstream_player_context_ready"), "upstream_player_context_incomplete"),
                          (~pl.col("upstream_team_context_ready"), "upstream_team_context_incomplete")]),
            pl.col("__range_issues"),
        ).alias("data_quality_issues"),
        pl.col("game_date").alias("analysis_date"),
        pl.lit(CALCULATION_VERSION).alias("calculation_version"),
        pl.col("psza_present").fill_null(False),
        pl.col("tdza_present").fill_null(False),
    )

    bad = df.filter(~pl.col("fatigue_score").is_between(0, 100) | pl.col("fatigue_score").is_null())
    rows = df.filter(pl.col("fatigue_score").is_between(0, 100)).select(PLAYER_COMPOSITE_FACTORS.data_columns).sort("game_date", "player_id")
    failures = failure_rows(
        bad,
        processor=PROCESSOR, entity_type="player", entity_id=pl.col("player_id"),
        entity_name=pl.col("player_lookup"), category=PROCESSING_ERROR,
        reason=pl.format("fatigue_score {} outside 0-100", pl.col("fatigue_score")),
        games_required=None, games_found=pl.lit(None, pl.Int64),
    ) if bad.height else empty_failures()
    return rows, failures
