"""MLFS: ``nba_predictions.ml_feature_store_v2`` (reference §8, SPEC §5).

Grain: one row per (player, D = ``game_date``) for every player in ``upcoming_player_game_context``
for D (D's pre-game player universe, SPEC §2: known before D's games; box-score history is read only
strictly before D).

The 60 features of reference §8.4 (indices 0-59; 60-63 are not built) are stored as **typed, named
FLOAT64 columns with real NULLs** (legacy bug B13), in the order of :data:`FEATURES`, each with a
``<name>_source`` STRING column: ``phase4`` (a Phase 4 table for D), ``phase3`` (computed here from
Phase 3 history or copied from the upcoming context), ``calculated`` (derived from several inputs),
``default`` (the reference default, because the input is missing or too short) or ``missing``
(NULL: no value and no default; every feature without a source in this project).

Resolution (reference §8.3): fallback = Phase 4 -> Phase 3 -> default; nullable = Phase 4 -> Phase 3
-> NULL; calculated features take their default when their inputs are missing or too short. Scales:
every fraction 0-1 (PSZA rates are already 0-1 and are **not** divided by 100: legacy bug B1); the only
0-100 value is ``fatigue_score``. The quality score, category qualities and weights are on 0-1 (the
reference's 0-100 numbers / 100: weights phase4 1.0, phase3 0.87, calculated 1.0, default 0.40,
missing 0; caps 0.49 with >= 5 required defaults and 0.69 with >= 1; tiers gold >= 0.95, silver >=
0.85, bronze >= 0.70, poor >= 0.50, else critical).

Deviations from the reference, on purpose: "last 10 games" windows are the last 10 *played* games this
season (legacy: last 10 rows of any status, or 30 days: B22); ``has_vegas_line`` is 0.0
``calculated`` (there is no line); ``injury_risk`` maps an empty status to 0 as the reference does
(there is no injury source: a universe player may still sit on D, which no morning run can know).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.schemas import (
    FEATURE_NAMES,
    FEATURES,
    ML_FEATURE_STORE_V2,
    OPPONENT_DAYS,
    Feature,
    empty_failures,
)
from nba_precompute.transforms.common import on_dates, safe_div, seasons_with_shot_chart
from nba_precompute.transforms.coverage import (
    PROCESSING_ERROR,
    failure_rows,
)
from nba_precompute.transforms.pdc import (
    PLAYER_BY,
    ols_slope,
    played_games,
    player_history,
    sample_std,
    team_history,
    window_mean,
)
from nba_precompute.transforms.psza import zone_shares
from nba_precompute.transforms.windows import (
    day_window,
    last_n_window,
    number_games,
    state_before,
)

PROCESSOR = ML_FEATURE_STORE_V2.name  # the failure records' processor = the table name
FEATURE_VERSION = "v3_60features_typed"

PHASE4, PHASE3, CALCULATED, DEFAULT, MISSING = "phase4", "phase3", "calculated", "default", "missing"
SOURCE_TAGS = (PHASE4, PHASE3, CALCULATED, DEFAULT, MISSING)
WEIGHTS = {PHASE4: 1.0, PHASE3: 0.87, CALCULATED: 1.0, DEFAULT: 0.40, MISSING: 0.0}
WEIGHT_HUNDREDTHS = {tag: round(w * 100) for tag, w in WEIGHTS.items()}  # exact integer sums (add_quality)
DEFAULTED = (DEFAULT, MISSING)
CAP_MANY_DEFAULTS = 0.49
CAP_ANY_DEFAULT = 0.69
MANY_DEFAULTS = 5
TIERS = ((0.95, "gold"), (0.85, "silver"), (0.70, "bronze"), (0.50, "poor"))
HIGH_DEFAULT_RATE = 0.20
RECENT_DAYS = 60
STRUCTURAL_GAP_DAYS = 14
STRUCTURAL_CAP = 30
# The columns MLFS reads from the Phase 4 tables of D (the key columns first): the declaration of the
# table (defs/phase4/tables.py) reads only these.
PDC_INPUT = ("player_id", "cache_date", "points_avg_last_5", "points_avg_last_10", "points_avg_season",
             "points_std_last_10", "games_in_last_7_days", "team_pace_last_10", "team_off_rating_last_10",
             "minutes_avg_last_10", "paint_rate_last_10", "three_pt_rate_last_10", "is_production_ready",
             "early_season_flag")
PCF_INPUT = ("player_id", "game_date", "fatigue_score", "shot_zone_mismatch_score", "pace_score",
             "usage_spike_score", "is_production_ready")
PSZA_INPUT = ("player_id", "analysis_date", "paint_rate_last_10", "mid_range_rate_last_10",
              "three_pt_rate_last_10", "is_production_ready")
TDZA_INPUT = ("team_abbr", "analysis_date", "defensive_rating_last_15", "opponent_pace", "is_production_ready")
# The played-game windows MLFS reads: window length -> the columns summed over it.
HISTORY_WINDOWS = {
    2: ("points",), 3: ("points",), 5: ("points", "usage_rate", "usage_n"), 7: ("points", "g_points"),
    10: ("points", "points_sq", "minutes_played", "minutes_sq", "ft_makes", "paint_attempts", "mid_range_attempts",
         "three_pt_attempts", "zones_n", "fg_attempts", "ppm", "ppm_n", "g_points"),
}
# features that need a shot chart's zone split: NULL / missing in a season without one
SHOT_CHART_FEATURES = ("shot_zone_mismatch_score", "pct_paint", "pct_mid_range")


CATEGORIES: dict[str, tuple[int, ...]] = {
    "matchup": (5, 6, 7, 8, 13, 14),
    "player_history": (0, 1, 2, 3, 4, *range(29, 38), 43, 44, 45, 46, 48, 49, 54, 55, 56, 58),
    "team_context": (22, 23, 24, 57),
    "vegas": (25, 26, 27, 28),
    "game_context": (9, 10, 11, 12, *range(15, 22), *range(38, 43), 47, 50, 51, 52, 53, 59),
}
INJURY_LEVELS = {"available": 0.0, "probable": 1.0, "questionable": 2.0, "doubtful": 3.0, "out": 3.0}


def _level(x: pl.Expr, big: float, small: float) -> pl.Expr:
    """2 / 1 / 0 / -1 / -2 by thresholds +-big, +-small (>= / <=)."""
    return (pl.when(x >= big).then(2.0).when(x >= small).then(1.0)
            .when(x <= -big).then(-2.0).when(x <= -small).then(-1.0).otherwise(0.0))


def recent_trend_expr(sum_last_2: pl.Expr, sum_last_5: pl.Expr, games_last_5: pl.Expr) -> pl.Expr:
    """Feature 11: d = mean(2 most recent) - mean(next 3) points; NULL below 5 games."""
    d = sum_last_2 / 2.0 - (sum_last_5 - sum_last_2) / 3.0
    return pl.when(games_last_5 >= 5).then(_level(d, 5.0, 2.0))


def minutes_change_expr(minutes_recent: pl.Expr, minutes_season: pl.Expr) -> pl.Expr:
    """Feature 12 from the relative change of minutes; NULL when either input is NULL or 0."""
    ok = minutes_recent.is_not_null() & (minutes_recent != 0) & minutes_season.is_not_null() & (minutes_season != 0)
    return pl.when(ok).then(_level((minutes_recent - minutes_season) / minutes_season, 0.20, 0.10))


def _candidates(w: pl.DataFrame) -> dict[str, list[tuple[str, pl.Expr]]]:
    """Per feature, the candidate values in priority order with their source tags."""
    c = pl.col
    l5 = c("pdc_points_avg_last_5").fill_nan(None).fill_null(c("p3_points_avg_last_5"))
    season = c("pdc_points_avg_season").fill_null(c("p3_points_avg_season"))
    std10 = c("pdc_points_std_last_10").fill_null(c("p3_points_std_last_10"))
    team_pace = c("pdc_team_pace_last_10").fill_null(c("team_pace_last_10"))
    mins10 = c("pdc_minutes_avg_last_10").fill_null(c("p3_minutes_avg_last_10"))
    g10 = c("games_last_10")
    return {
        "points_avg_last_5": [(PHASE4, c("pdc_points_avg_last_5")), (PHASE3, c("p3_points_avg_last_5"))],
        "points_avg_last_10": [(PHASE4, c("pdc_points_avg_last_10")), (PHASE3, c("p3_points_avg_last_10"))],
        "points_avg_season": [(PHASE4, c("pdc_points_avg_season")), (PHASE3, c("p3_points_avg_season"))],
        "points_std_last_10": [(PHASE4, c("pdc_points_std_last_10")), (PHASE3, c("p3_points_std_last_10"))],
        "games_in_last_7_days": [(PHASE4, c("pdc_games_in_last_7_days")), (PHASE3, c("games_in_last_7_days"))],
        "fatigue_score": [(PHASE4, c("pcf_fatigue_score"))],
        "shot_zone_mismatch_score": [(PHASE4, c("pcf_shot_zone_mismatch_score"))],
        "pace_score": [(PHASE4, c("pcf_pace_score"))],
        "usage_spike_score": [(PHASE4, c("pcf_usage_spike_score"))],
        "rest_advantage": [(CALCULATED, (c("days_rest") - c("opponent_days_rest")).clip(-2, 2))],
        "injury_risk": [(CALCULATED, c("player_status").fill_null("").str.to_lowercase().replace_strict(
            INJURY_LEVELS, default=0.0, return_dtype=pl.Float64))],
        "recent_trend": [(CALCULATED, recent_trend_expr(c("sum_points_last_2"), c("sum_points_last_5"),
                                                        c("games_last_5")))],
        "minutes_change": [(CALCULATED, minutes_change_expr(mins10, c("p3_minutes_avg_season")))],
        "opponent_def_rating": [(PHASE4, c("tdza_defensive_rating_last_15"))],
        "opponent_pace": [(PHASE4, c("tdza_opponent_pace"))],
        "home_away": [(PHASE3, c("home_game"))],
        "back_to_back": [(PHASE3, c("back_to_back"))],
        "playoff_game": [(PHASE3, c("season_phase") == "playoffs")],
        "pct_paint": [(PHASE4, c("psza_paint_rate_last_10")), (PHASE4, c("pdc_paint_rate_last_10")),
                      (PHASE3, c("p3_paint_rate_last_10"))],
        "pct_mid_range": [(PHASE4, c("psza_mid_range_rate_last_10")), (PHASE3, c("p3_mid_range_rate_last_10"))],
        "pct_three": [(PHASE4, c("psza_three_pt_rate_last_10")), (PHASE4, c("pdc_three_pt_rate_last_10")),
                      (PHASE3, c("p3_three_pt_rate_last_10"))],
        "pct_free_throw": [(CALCULATED, pl.when((g10 >= 5) & (c("sum_points_last_10") > 0)).then(
            (c("sum_ft_makes_last_10") / c("sum_points_last_10")).clip(0.0, 0.5)))],
        "team_pace": [(PHASE4, c("pdc_team_pace_last_10")), (PHASE3, c("team_pace_last_10"))],
        "team_off_rating": [(PHASE4, c("pdc_team_off_rating_last_10")), (PHASE3, c("team_off_rating_last_10"))],
        "team_win_pct": [(CALCULATED, pl.when(c("team_games_season") >= 5).then(
            c("team_wins_season") / c("team_games_season")))],
        "has_vegas_line": [(CALCULATED, pl.lit(0.0))],
        "avg_points_vs_opponent": [(PHASE3, safe_div(c("sum_points_vs_opp"), c("games_vs_opp"))),
                                   (CALCULATED, season)],
        "games_vs_opponent": [(PHASE3, c("games_vs_opp"))],
        "minutes_avg_last_10": [(PHASE4, c("pdc_minutes_avg_last_10")), (PHASE3, c("p3_minutes_avg_last_10"))],
        "ppm_avg_last_10": [(PHASE3, window_mean("ppm", 10, "ppm_n"))],
        "dnp_rate": [(CALCULATED, pl.when(c("rows_last_10") >= 3).then(c("dnp_last_10") / c("rows_last_10")))],
        "pts_slope_10g": [(CALCULATED, pl.when(g10 >= 5).then(
            ols_slope(c("sum_points_last_10"), c("sum_g_points_last_10"), g10, c("game_number"))))],
        "pts_vs_season_zscore": [(CALCULATED, pl.when(std10 > 0).then(((l5 - season) / std10).clip(-3, 3)))],
        "breakout_flag": [(CALCULATED, pl.when(std10.is_not_null() & l5.is_not_null() & season.is_not_null())
                           .then((l5 > season + 1.5 * std10).cast(pl.Float64)))],
        "star_teammates_out": [(PHASE3, c("star_teammates_out"))],
        "days_rest": [(PHASE3, c("days_rest"))],
        "minutes_load_last_7d": [(PHASE3, c("minutes_in_last_7_days"))],
        "points_avg_last_3": [(PHASE3, window_mean("points", 3))],
        "scoring_trend_slope": [(CALCULATED, pl.when(c("games_last_7") >= 4).then(
            ols_slope(c("sum_points_last_7"), c("sum_g_points_last_7"), c("games_last_7"), c("game_number"))))],
        "deviation_from_avg_last3": [(CALCULATED, safe_div(
            window_mean("points", 3) - c("mean60"),
            pl.when(c("games_recent") == 1).then(5.0).otherwise(c("std60"))))],
        "consecutive_games_below_avg": [(CALCULATED, c("below_avg_streak"))],
        "usage_rate_last_5": [(PHASE3, pl.when(c("sum_usage_n_last_5") >= 3).then(
            window_mean("usage_rate", 5, "usage_n")))],
        "games_since_structural_change": [(CALCULATED, c("games_since_change"))],
        "blowout_minutes_risk": [(CALCULATED, c("team_blowout_share_last_10"))],
        "minutes_volatility_last_10": [(CALCULATED, pl.when(g10 >= 3).then(sample_std(
            c("sum_minutes_played_last_10"), c("sum_minutes_sq_last_10"), g10)))],
        "opponent_pace_mismatch": [(CALCULATED, team_pace - c("tdza_opponent_pace"))],
    }


def resolve_features(w: pl.DataFrame) -> pl.DataFrame:
    """Add every feature column and its ``<name>_source`` to the working frame ``w``.

    For each feature of :data:`FEATURES`, the first non-NULL, non-NaN candidate wins with its tag;
    otherwise the feature's default with tag ``default``, or NULL with tag ``missing`` when it has none.
    Features without candidates are NULL / ``missing`` (or their default). The zone features
    (:data:`SHOT_CHART_FEATURES`) of a season without a shot chart (``season_has_shot_chart`` false) are
    NULL / ``missing``: their source does not exist, so no default stands in for them.
    """
    cands = _candidates(w)
    no_chart = (~pl.col("season_has_shot_chart").fill_null(True) if "season_has_shot_chart" in w.columns
                else pl.lit(False))
    unknown = set(cands) - set(FEATURE_NAMES)
    if unknown:
        raise ValueError(f"candidates for undeclared features: {sorted(unknown)}")
    exprs = []
    for f in FEATURES:
        values = [(tag, e.cast(pl.Float64).fill_nan(None)) for tag, e in cands.get(f.name, [])]
        value = pl.coalesce(*[e for _, e in values], pl.lit(f.default, pl.Float64))
        source = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
        for tag, e in values:
            source = source.when(e.is_not_null()).then(pl.lit(tag))
        source = source.otherwise(pl.lit(DEFAULT if f.default is not None else MISSING))
        if f.name in SHOT_CHART_FEATURES:
            value = pl.when(no_chart).then(None).otherwise(value)
            source = pl.when(no_chart).then(pl.lit(MISSING)).otherwise(source)
        exprs += [value.alias(f.name), source.alias(f"{f.name}_source")]
    return w.with_columns(exprs)


def _src(f: Feature) -> pl.Expr:
    return pl.col(f"{f.name}_source")


def _names_where(cond, features=FEATURES) -> pl.Expr:
    """List of the feature names for which ``cond(feature)`` holds, per row (empty list when none).

    Built as a comma-joined string then split: ten times faster in Polars than a 60-way
    ``concat_list`` of conditional literals (feature names contain no comma)."""
    joined = pl.concat_str([pl.when(cond(f)).then(pl.lit(f.name)) for f in features], separator=",",
                           ignore_nulls=True)
    return pl.when(joined == "").then(pl.lit([], pl.List(pl.String))).otherwise(joined.str.split(","))


def tier_expr(score: pl.Expr) -> pl.Expr:
    """gold >= 0.95, silver >= 0.85, bronze >= 0.70, poor >= 0.50, else critical (0-1 score)."""
    out = pl.when(score >= TIERS[0][0]).then(pl.lit(TIERS[0][1]))
    for at, label in TIERS[1:]:
        out = out.when(score >= at).then(pl.lit(label))
    return out.otherwise(pl.lit("critical"))


def add_quality(df: pl.DataFrame) -> pl.DataFrame:
    """Quality columns of reference §8.5 on the 0-1 scale, from the ``<name>_source`` columns.

    * ``feature_quality_score``: mean source weight over features 0-59, leaving out optional features
      tagged default/missing; capped at 0.49 with >= 5 required defaults, at 0.69 with >= 1 (a required
      feature tagged default or missing). The zone features (:data:`SHOT_CHART_FEATURES`) of a season
      without a shot chart (``season_has_shot_chart`` false) are not applicable: left out of the score,
      the category qualities, the required-default count and the matchup alerts;
    * ``quality_tier``, ``<category>_quality`` (mean weight per category), ``is_quality_ready``,
      ``is_training_ready``, ``quality_alert_level``, ``quality_alerts``, counts per tag, ``data_source``.
    """
    # A zone feature of a season without a shot chart is not applicable: its source does not exist, so
    # it counts neither as a default nor in any mean (2024-25 rows are not "poor" for lacking a chart).
    no_chart = (~pl.col("season_has_shot_chart").fill_null(True) if "season_has_shot_chart" in df.columns
                else pl.lit(False))
    # per-feature weights and inclusion flags are materialised once as temporary columns: referencing
    # them by name keeps the horizontal sums below cheap (one pass each, no repeated expression trees).
    # Weights are exact integers (hundredths): Polars adds the columns of a horizontal sum in a parallel
    # reduction whose grouping depends on the thread pool, so a sum of FLOAT weights could differ in its
    # last bit between runs; integer sums are exact in any order, and each mean is one final division.
    df = df.with_columns(
        *[_src(f).replace_strict(WEIGHT_HUNDREDTHS, return_dtype=pl.Int64).alias(f"__w_{f.name}") for f in FEATURES],
        # only a zone feature can be not applicable: the others need no column
        *[no_chart.alias(f"__na_{name}") for name in SHOT_CHART_FEATURES],
    )
    applicable = {f.name: ~pl.col(f"__na_{f.name}") if f.name in SHOT_CHART_FEATURES else pl.lit(True)
                  for f in FEATURES}
    df = df.with_columns(
        *[((pl.lit(True) if f.required else ~_src(f).is_in(DEFAULTED)) & applicable[f.name])
          .alias(f"__in_{f.name}") for f in FEATURES],
    )
    weight = {f.name: pl.col(f"__w_{f.name}") for f in FEATURES}
    included = {f.name: pl.col(f"__in_{f.name}") for f in FEATURES}
    mean_w = (pl.sum_horizontal(*[pl.when(included[n]).then(weight[n]).otherwise(0) for n in FEATURE_NAMES])
              / (100 * pl.sum_horizontal(*[included[n].cast(pl.Int64) for n in FEATURE_NAMES])))
    req_defaults = pl.sum_horizontal(*[(_src(f).is_in(DEFAULTED) & pl.lit(f.required) & applicable[f.name])
                                       .cast(pl.Int64) for f in FEATURES])
    counts = {tag: pl.sum_horizontal(*[(_src(f) == tag).cast(pl.Int64) for f in FEATURES]) for tag in SOURCE_TAGS}
    n = len(FEATURES)

    def category_quality(idx: tuple[int, ...]) -> pl.Expr:
        names = [FEATURES[i].name for i in idx]
        every = pl.sum_horizontal(*[weight[m] for m in names]) / (100 * len(names))
        if not set(names) & set(SHOT_CHART_FEATURES):
            return every
        # only rows with a not-applicable feature take the narrower mean, so a season with a chart keeps
        # the plain mean to the last bit
        narrow = (pl.sum_horizontal(*[pl.when(applicable[m]).then(weight[m]).otherwise(0) for m in names])
                  / (100 * pl.sum_horizontal(*[applicable[m].cast(pl.Int64) for m in names])))
        return pl.when(pl.any_horizontal(*[~applicable[m] for m in names])).then(narrow).otherwise(every)

    out = df.with_columns(
        req_defaults.alias("required_default_count"),
        *[counts[t].alias(f"{t}_feature_count") for t in SOURCE_TAGS],
        *[category_quality(idx).alias(f"{cat}_quality") for cat, idx in CATEGORIES.items()],
        _names_where(lambda f: _src(f) == DEFAULT).alias("default_features"),
        pl.all_horizontal(*[_src(FEATURES[i]) == PHASE4 for i in (5, 6, 7, 8)]).alias("has_composite_factors"),
        pl.all_horizontal(*[_src(FEATURES[i]) == PHASE4 for i in (13, 14)]).alias("has_opponent_defense"),
    ).with_columns(
        pl.when(pl.col("required_default_count") >= MANY_DEFAULTS).then(pl.min_horizontal(mean_w, CAP_MANY_DEFAULTS))
        .when(pl.col("required_default_count") >= 1).then(pl.min_horizontal(mean_w, CAP_ANY_DEFAULT))
        .otherwise(mean_w).alias("feature_quality_score"),
    )
    score, matchup = pl.col("feature_quality_score"), pl.col("matchup_quality")
    tier = pl.col("quality_tier")
    default_rate = pl.col("default_feature_count") / n
    matchup_defaulted = [_src(FEATURES[i]).is_in(DEFAULTED) & applicable[FEATURES[i].name]
                         for i in CATEGORIES["matchup"]]
    all_matchup_defaulted = pl.all_horizontal(*[_src(FEATURES[i]).is_in(DEFAULTED) | ~applicable[FEATURES[i].name]
                                                for i in CATEGORIES["matchup"]])
    return out.with_columns(tier_expr(score).alias("quality_tier")).with_columns(
        (tier.is_in(["gold", "silver", "bronze"]) & (score >= 0.70) & (matchup >= 0.50)
         & (pl.col("required_default_count") == 0)).alias("is_quality_ready"),
        (tier.is_in(["gold", "silver"]) & (matchup >= 0.70) & (pl.col("player_history_quality") >= 0.80))
        .alias("is_training_ready"),
        pl.when((matchup < 0.50) | (score < 0.50)).then(pl.lit("red"))
        .when((pl.col("required_default_count") > 0) | (score < 0.70) | (matchup < 0.70)).then(pl.lit("yellow"))
        .otherwise(pl.lit("green")).alias("quality_alert_level"),
        pl.concat_list(
            pl.when(all_matchup_defaulted).then(pl.lit("all_matchup_features_defaulted")),
            pl.when(pl.any_horizontal(*matchup_defaulted[:4])).then(pl.lit("composite_factors_missing")),
            pl.when(pl.any_horizontal(*matchup_defaulted[4:])).then(pl.lit("opponent_defense_missing")),
            pl.when(default_rate > HIGH_DEFAULT_RATE).then(
                pl.format("high_default_rate_{}pct", (default_rate * 100).round(0).cast(pl.Int64))),
            pl.when(matchup < 0.50).then(pl.lit("matchup_quality_critical")),
            pl.when(pl.col("game_context_quality") < 0.50).then(pl.lit("game_context_quality_critical")),
        ).list.drop_nulls().alias("quality_alerts"),
        pl.when(pl.col("phase4_feature_count") >= 0.9 * n).then(pl.lit("phase4"))
        .when(pl.col("phase4_feature_count") >= 0.5 * n).then(pl.lit("phase4_partial"))
        .when(pl.col("phase3_feature_count") >= 0.5 * n).then(pl.lit("phase3"))
        .otherwise(pl.lit("mixed")).alias("data_source"),
    ).drop([f"__{k}_{f.name}" for f in FEATURES for k in ("w", "in")], [f"__na_{n}" for n in SHOT_CHART_FEATURES])


def _recent_game_features(player_games: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
    """Features 46 and 49 from the played games in [D - 60 days, D) of each key row.

    ``keys``: ``player_id``, ``season_year``, ``game_date`` (D), ``team_abbr`` (team on D), ``mean60``.
    Adds ``below_avg_streak`` (most recent consecutive games with points < mean60) and
    ``games_since_change`` (games since the last team change or > 14-day gap, D included, capped at 30).
    NULLs when there is no game in the window.
    """
    k = ["player_id", "season_year", "game_date"]
    g = played_games(player_games).select(
        *PLAYER_BY, pl.col("game_date").alias("g_date"), pl.col("team_abbr").alias("g_team"), "points")
    # every (D, game in [D - 60, D)) pair: the join and filter run on Polars' streaming engine so the
    # unfiltered (D, game of the season) pairs are never held in memory at once; only the columns the
    # features need are kept (the team on D becomes one flag per game)
    j = keys.lazy().select(*k, "team_abbr", "mean60").join(g.lazy(), on=PLAYER_BY, how="inner").filter(
        (pl.col("g_date") < pl.col("game_date"))
        & (pl.col("g_date") >= pl.col("game_date") - pl.duration(days=RECENT_DAYS))
    ).select(
        *k, "g_date", "g_team", (pl.col("points") < pl.col("mean60")).alias("below"),
        (pl.col("g_team") != pl.col("team_abbr")).alias("other_team_than_d"),
    ).collect(engine="streaming").sort(*k, "g_date")
    # rows are sorted by key, then game date: a row continues its key's window when its key is the
    # previous row's (whole-column shifts, no per-key window expressions)
    same_key = ((pl.col("player_id") == pl.col("player_id").shift(1))
                & (pl.col("game_date") == pl.col("game_date").shift(1))).fill_null(False)
    row = pl.int_range(0, pl.len(), dtype=pl.UInt32)
    j = j.with_columns(
        pl.when(~same_key).then(row).forward_fill().alias("__first"),
        (same_key & ((pl.col("g_team") != pl.col("g_team").shift(1))
                     | ((pl.col("g_date") - pl.col("g_date").shift(1)).dt.total_days() > STRUCTURAL_GAP_DAYS)))
        .alias("change"),
    ).with_columns((row - pl.col("__first") + 1).alias("pos")).drop("g_team", "__first")
    agg = j.group_by(k).agg(
        pl.len().alias("__n"),
        pl.when(pl.col("change")).then(pl.col("pos")).otherwise(1).max().alias("__start"),
        (pl.col("below").reverse().not_().cum_sum() == 0).sum().alias("below_avg_streak"),
        pl.col("other_team_than_d").last().alias("__other_team"),
        pl.col("g_date").last().alias("__last_date"),
    )
    since = pl.col("__n") - pl.col("__start") + 1
    d_change = (pl.col("__other_team")
                | ((pl.col("game_date") - pl.col("__last_date")).dt.total_days() > STRUCTURAL_GAP_DAYS))
    agg = agg.with_columns(
        pl.when(d_change).then(0).otherwise(since).clip(upper_bound=STRUCTURAL_CAP).alias("games_since_change"),
        pl.col("below_avg_streak").cast(pl.Int64),
    )
    return keys.join(agg.select(*k, "below_avg_streak", "games_since_change"), on=k, how="left")


def build_working_frame(upcg: pl.DataFrame, pdc: pl.DataFrame, pcf: pl.DataFrame, psza: pl.DataFrame,
                        tdza: pl.DataFrame, player_games: pl.DataFrame, team_offense: pl.DataFrame,
                        start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> pl.DataFrame:
    """One row per UPCG player and D with every input a feature needs (Phase 4 columns prefixed
    ``pdc_`` / ``pcf_`` / ``psza_`` / ``tdza_``, Phase 3 history computed as of D)."""
    u = upcg.filter(on_dates("game_date", start, end, dates))
    # every game before ``end`` (the opponent window reaches into earlier seasons); the season-keyed
    # windows only need the seasons of the rows computed
    all_games = player_games.filter(pl.col("game_date") < end)
    hist_games = all_games.join(u.select("season_year").unique(), on="season_year", how="semi")
    keys = u.select("player_id", "season_year", "game_date")

    # played-game windows (Phase 3)
    h = player_history(hist_games, keys, windows=HISTORY_WINDOWS, key_date="game_date")
    g = pl.col("game_number")
    h = h.with_columns(
        pl.when(pl.col("games_last_5") >= 5).then(window_mean("points", 5)).alias("p3_points_avg_last_5"),
        window_mean("points", 10).alias("p3_points_avg_last_10"),
        safe_div(pl.col("cum_points"), g).alias("p3_points_avg_season"),
        sample_std(pl.col("sum_points_last_10"), pl.col("sum_points_sq_last_10"), pl.col("games_last_10"))
        .alias("p3_points_std_last_10"),
        window_mean("minutes_played", 10).alias("p3_minutes_avg_last_10"),
        safe_div(pl.col("cum_minutes_played"), g).alias("p3_minutes_avg_season"),
        # zone shares as PSZA computes them: zone split when every game has one, else 3PA / FGA only
        *[share.alias(f"p3_{z}_rate_last_10") for z, share in zone_shares(
            "sum_", "_last_10", pl.col("sum_zones_n_last_10") == pl.col("games_last_10"))[1].items()],
    )
    # box-score rows of any status (DNP rate)
    rows = hist_games.with_columns(pl.col("is_dnp").fill_null(False).cast(pl.Int64).alias("dnp"),
                                   pl.lit(1).alias("row"))
    rnum = number_games(rows, PLAYER_BY, ["dnp", "row"])
    r = last_n_window(state_before(keys, rnum, PLAYER_BY, ["dnp", "row"], key_date="game_date"), rnum,
                      PLAYER_BY, ["dnp", "row"], 10).select(
        *PLAYER_BY, "game_date", pl.col("sum_dnp_last_10").alias("dnp_last_10"),
        pl.col("games_last_10").alias("rows_last_10"))
    # games vs this opponent: played games in [D - 365 days, D), across seasons (reference §8.4, 29/30)
    opp_by = [*PLAYER_BY, "opponent_team_abbr"]
    onum = number_games(played_games(all_games), ["player_id", "opponent_team_abbr"], ["points"])
    o = day_window(u.select(*opp_by, "game_date"), onum, ["player_id", "opponent_team_abbr"], ["points"],
                   OPPONENT_DAYS, key_date="game_date", name="vs_opp").select(
        *opp_by, "game_date", "games_vs_opp", "sum_points_vs_opp")
    # 60-day played-game window
    pnum = number_games(played_games(hist_games), PLAYER_BY, ["points", "points_sq"])
    r60 = day_window(keys, pnum, PLAYER_BY, ["points", "points_sq"], RECENT_DAYS, key_date="game_date",
                     name="recent").select(
        *PLAYER_BY, "game_date", "games_recent",
        safe_div(pl.col("sum_points_recent"), pl.col("games_recent")).alias("mean60"),
        sample_std(pl.col("sum_points_recent"), pl.col("sum_points_sq_recent"), pl.col("games_recent")).alias("std60"),
    )
    # team history (team on D)
    t = team_history(team_offense.filter(pl.col("game_date") < end),
                     u.select("team_abbr", "season_year", "game_date").unique(), key_date="game_date")

    def prefixed(df: pl.DataFrame, prefix: str, cols: list[str], on: dict[str, str]) -> pl.DataFrame:
        return df.select(*[pl.col(src).alias(dst) for src, dst in on.items()],
                         *[pl.col(c).alias(f"{prefix}{c}") for c in cols])

    pdc_cols, pcf_cols, psza_cols, tdza_cols = (list(c[2:]) for c in (PDC_INPUT, PCF_INPUT, PSZA_INPUT, TDZA_INPUT))
    def along_u(frame: pl.DataFrame, on: dict[str, str], suffix: str = "") -> list[pl.Series]:
        """``frame``'s columns aligned row by row with ``u`` (a left join of ``u``'s keys only, left
        order kept): each component is allocated once, and the working frame is one horizontal concat
        of them instead of ten joins each copying the growing wide frame (peak memory)."""
        right = frame.rename({src: dst for dst, src in on.items() if src != dst})
        cols = [c for c in right.columns if c not in on]
        out = u.select(list(on)).join(right, on=list(on), how="left", maintain_order="left")
        if out.height != u.height:
            raise ValueError(f"MLFS working frame: {out.height - u.height} duplicate key(s) on {list(on)}")
        return [out.get_column(c).alias(c + suffix if c in u.columns else c) for c in cols]

    def keyed(*cols: str) -> dict[str, str]:
        return {c: c for c in cols}

    parts = [
        *along_u(h.drop("team_abbr", "player_lookup", strict=False), keyed("player_id", "season_year", "game_date")),
        *along_u(r, keyed(*PLAYER_BY, "game_date")),
        *along_u(o, keyed(*opp_by, "game_date")),
        *along_u(r60, keyed(*PLAYER_BY, "game_date")),
        *along_u(t, keyed("team_abbr", "season_year", "game_date"), suffix="_team"),
        *along_u(prefixed(pdc, "pdc_", pdc_cols, {"player_id": "player_id", "cache_date": "game_date"}),
                 keyed("player_id", "game_date")),
        *along_u(prefixed(pcf, "pcf_", pcf_cols, {"player_id": "player_id", "game_date": "game_date"}),
                 keyed("player_id", "game_date")),
        *along_u(prefixed(psza, "psza_", psza_cols, {"player_id": "player_id", "analysis_date": "game_date"}),
                 keyed("player_id", "game_date")),
        *along_u(prefixed(tdza, "tdza_", tdza_cols, {"team_abbr": "opponent_team_abbr", "analysis_date": "game_date"}),
                 keyed("opponent_team_abbr", "game_date")),
    ]
    if "paint_attempts" in hist_games.columns:
        parts += along_u(seasons_with_shot_chart(player_games), keyed("season_year"))
    w = u.hstack(parts)
    # UPCG's own team pace column would shadow the team-history one
    if "team_pace_last_10_team" in w.columns:
        w = w.drop("team_pace_last_10").rename({"team_pace_last_10_team": "team_pace_last_10"})
    return _recent_game_features(hist_games, w)


def build_ml_feature_store(upcg: pl.DataFrame, pdc: pl.DataFrame, pcf: pl.DataFrame, psza: pl.DataFrame,
                           tdza: pl.DataFrame, player_games: pl.DataFrame, team_offense: pl.DataFrame,
                           start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """MLFS rows and failure rows for every D in [start, end].

    Args:
        upcg: ``upcoming_player_game_context`` rows for D (the universe: every row is written).
        pdc, pcf, psza, tdza: the Phase 4 rows for the same dates (PSZA / PDC / PCF matched on the
            player, TDZA on the **opponent**).
        player_games, team_offense: Phase 3 history from the season start up to ``end``
            (``player_games`` from ``OPPONENT_DAYS`` before ``start`` when that is earlier: the
            games vs this opponent cross seasons).

    Returns ``(rows, failures)``. A row whose ``fatigue_score`` lies outside 0-100 (critical range,
    reference §8.6) is not written and becomes a ``PROCESSING_ERROR`` failure; other out-of-range
    features add ``range_warning:<name>=<value>`` to ``data_quality_issues`` (at most 3).
    """
    w = resolve_features(build_working_frame(upcg, pdc, pcf, psza, tdza, player_games, team_offense, start, end,
                                                   dates))
    w = add_quality(w)
    ready = {
        "upstream_player_daily_cache_ready": pl.col("pdc_is_production_ready").fill_null(False),
        "upstream_player_composite_factors_ready": pl.col("pcf_is_production_ready").fill_null(False),
        "upstream_player_shot_zone_ready": pl.col("psza_is_production_ready").fill_null(False),
        "upstream_team_defense_zone_ready": pl.col("tdza_is_production_ready").fill_null(False),
    }
    ranged = [f for f in FEATURES if f.valid_range is not None]
    # joined then split rather than a wide concat_list of conditional strings (much faster in Polars)
    joined = pl.concat_str([
        pl.when(~pl.col(f.name).is_between(*f.valid_range)).then(
            pl.format("range_warning:{}={}", pl.lit(f.name), pl.col(f.name).round(3)))
        for f in ranged
    ], separator="|", ignore_nulls=True)
    range_warnings = (pl.when(joined == "").then(pl.lit([], pl.List(pl.String)))
                      .otherwise(joined.str.split("|")).list.head(3))
    upstream_issues = pl.concat_list([
        pl.when(~e).then(pl.lit(f"upstream_{n.removeprefix('upstream_').removesuffix('_ready')}_incomplete"))
        .otherwise(pl.lit(None, pl.String)) for n, e in ready.items()
    ]).list.drop_nulls()
    w = w.with_columns(*[e.alias(n) for n, e in ready.items()]).with_columns(
        pl.all_horizontal(*[pl.col(n) for n in ready]).alias("is_production_ready"),
        pl.concat_list(upstream_issues, range_warnings).alias("data_quality_issues"),
        pl.col("home_game").alias("is_home"),
        pl.coalesce(pl.col("pdc_early_season_flag"), pl.col("game_number").fill_null(0) < 10).alias(
            "early_season_flag"),
        pl.col("game_number").fill_null(0).alias("games_played_season"),
        pl.lit(FEATURE_VERSION).alias("feature_version"),
        pl.lit(len(FEATURES)).cast(pl.Int64).alias("feature_count"),
        pl.col("game_date").alias("analysis_date"),
    )
    critical = ~pl.col("fatigue_score").is_between(0, 100)
    bad = w.filter(critical)
    out = w.filter(~critical).select(ML_FEATURE_STORE_V2.data_columns).sort("game_date", "player_id")
    failures = failure_rows(
        bad, processor=PROCESSOR, entity_type="player", entity_id=pl.col("player_id"),
        entity_name=pl.col("player_lookup"), category=PROCESSING_ERROR,
        reason=pl.format("fatigue_score {} outside 0-100 (critical feature)", pl.col("fatigue_score")),
        games_required=None, games_found=pl.col("game_number"),
    ) if bad.height else empty_failures()
    return out, failures
