"""PDC: ``nba_precompute.player_daily_cache`` (reference §7, SPEC §5), and the as-of player / team
history statistics that MLFS reuses.

Grain: one row per (player, D = ``cache_date``) for every player in ``upcoming_player_game_context``
for D (D's pre-game player universe, SPEC §2; the team is the team of his most recent played game)
with at least ``MIN_GAMES`` (3) played games (``minutes_played > 0``) this season strictly before D and
a played game in the last ``STALE_DAYS`` (30) days. Otherwise a ``precompute_failures`` row:
``INCOMPLETE_DATA`` (fewer than 3 games), ``STALE_DATA`` (last played game more than 30 days before D:
cannot happen for a universe player, whose last played game lies within those 30 days by definition,
but kept for any other caller), both expected states (``is_failure`` false); ``MISSING_DEPENDENCY``
when scheduled games of the player's team before D are absent from ``player_game_summary``. A debut
on D is not in the universe, so it has neither a row nor a failure record.

Windows (this season only, played games, most recent first; LAYOUT.md cumulative-sum technique):

* ``points_avg_last_5/10``, ``points_avg_season``, ``minutes_avg_last_10``: means over the window (over
  the games available when fewer);
* ``points_std_last_10``: **sample** standard deviation (ddof = 1) from the window's sum and sum of
  squares, sqrt((Σx² - (Σx)²/n) / (n - 1)); NULL below 2 games;
* ``usage_rate_last_10``, ``player_usage_rate_season``, ``ts_pct_last_10``: means of the non-NULL
  per-game values (0-1);
* ``team_pace_last_10`` / ``team_off_rating_last_10``: means over the team's last 10 games before D
  this season (the team on D; season-bounded, legacy bug B22).

Multi-window completeness (reference §7.4): for the player's team, the scheduled games of each window
(L5 and L10: the last 5 / 10 scheduled games before D; L7d and L14d: scheduled games in
[D - (7 + break_days), D) and [D - (14 + break_days), D), ``break_days`` = days without any
regular-season game immediately before D, at most 30) and how many of them ``player_game_summary``
holds; ``completeness_pct`` = present / scheduled (1 when nothing is scheduled), 0-1; a window is
complete at >= 0.7. ``quality_tier`` from the L5 share: gold >= 0.95, silver >= 0.75, bronze >= 0.50,
poor >= 0.25, else unusable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl

from nba_precompute.schemas import PLAYER_DAILY_CACHE, empty_failures
from nba_precompute.transforms.common import on_dates, safe_div, zone_split_known
from nba_precompute.transforms.coverage import (
    INCOMPLETE_DATA,
    MISSING_DEPENDENCY,
    STALE_DATA,
    failure_rows,
    scheduled_team_games,
    team_coverage,
)
from nba_precompute.transforms.windows import last_n_window, number_games, state_before

PROCESSOR = PLAYER_DAILY_CACHE.name  # the failure records' processor = the table name
CACHE_VERSION = "v2"
MIN_GAMES = 3
STALE_DAYS = 30
EARLY_SEASON_GAMES = 10
READY_AT = 0.7
MAX_BREAK_DAYS = 30
GAME_WINDOWS = (5, 10)
DAY_WINDOWS = (7, 14)
TIERS = ((0.95, "gold"), (0.75, "silver"), (0.50, "bronze"), (0.25, "poor"))

PLAYER_BY = ["player_id", "season_year"]
TEAM_BY = ["team_abbr", "season_year"]
# per played game; *_n columns are 0/1 indicators counting the non-NULL values
PLAYER_SUMS = ["points", "points_sq", "minutes_played", "minutes_sq", "usage_rate", "usage_n", "ts_pct",
               "ts_n", "ft_makes", "paint_attempts", "mid_range_attempts", "three_pt_attempts", "zones_n",
               "fg_attempts", "ppm", "ppm_n", "g_points"]
TEAM_SUMS = ["pace", "pace_n", "offensive_rating", "offensive_rating_n", "win", "blowout"]
BLOWOUT_MARGIN = 15


# The columns PDC reads from PSZA of D (its declaration reads only these).
PSZA_INPUT = ("player_id", "analysis_date", "primary_scoring_zone", "paint_rate_last_10", "three_pt_rate_last_10",
              "has_shot_chart")


def played_games(player_games: pl.DataFrame) -> pl.DataFrame:
    """Played regular-season games (``minutes_played > 0``, SPEC §4) with the per-game columns the
    windows sum: ``points_sq``, ``minutes_sq``, ``ppm`` (points per minute), indicator columns and
    ``g_points`` (game number within the season x points, for OLS slopes); ``zones_n`` is 1 when the
    game has a zone split (its season has a shot chart)."""
    played = player_games.filter(pl.col("minutes_played").fill_null(0) > 0)
    g = pl.col("game_date").rank("ordinal").over(PLAYER_BY).cast(pl.Float64)
    return played.with_columns(
        (pl.col("points").cast(pl.Float64) ** 2).alias("points_sq"),
        (pl.col("minutes_played") ** 2).alias("minutes_sq"),
        pl.col("usage_rate").is_not_null().cast(pl.Int64).alias("usage_n"),
        pl.col("ts_pct").is_not_null().cast(pl.Int64).alias("ts_n"),
        zone_split_known().cast(pl.Int64).alias("zones_n"),
        (pl.col("points") / pl.col("minutes_played")).alias("ppm"),
        pl.lit(1).alias("ppm_n"),
        (g * pl.col("points")).alias("g_points"),
    )


def player_history(player_games: pl.DataFrame, keys: pl.DataFrame,
                   windows: Sequence[int] | Mapping[int, Sequence[str]] = GAME_WINDOWS,
                   key_date: str = "analysis_date") -> pl.DataFrame:
    """As-of played-game state for each key row (``player_id``, ``season_year``, ``key_date``).

    Adds ``game_number`` (played games this season before D), ``cum_<c>`` (season sums),
    ``last_game_date``, ``last_team_abbr``, and for each n in ``windows`` ``games_last_{n}`` and
    ``sum_<c>_last_{n}`` over the last n played games before D: of every column of ``PLAYER_SUMS``, or
    of the columns ``windows[n]`` names when ``windows`` is a mapping (fewer columns, less memory).
    """
    numbered = number_games(played_games(player_games), PLAYER_BY, PLAYER_SUMS)
    numbered = numbered.with_columns(pl.col("team_abbr").alias("last_team_abbr"))
    st = state_before(keys, numbered, PLAYER_BY, PLAYER_SUMS, key_date=key_date, extra_cols=["last_team_abbr"])
    per_window = windows if isinstance(windows, Mapping) else dict.fromkeys(windows, PLAYER_SUMS)
    for n, cols in per_window.items():
        st = last_n_window(st, numbered, PLAYER_BY, cols, n)
    return st


def team_history(team_offense: pl.DataFrame, keys: pl.DataFrame, n: int = 10,
                 key_date: str = "analysis_date") -> pl.DataFrame:
    """Team state before D for each key row (``team_abbr``, ``season_year``, ``key_date``): adds
    ``team_games_season``, ``team_wins_season``, ``team_games_last_{n}``, ``team_pace_last_{n}``
    (possessions per 48) and ``team_off_rating_last_{n}`` (points per 100 possessions), each the mean
    over the games that have a value (NULL when none: 2020-21 has no possessions), and
    ``team_blowout_share_last_{n}`` (share of games with |margin| >= 15, 0-1), this season only."""
    games = team_offense.with_columns(
        pl.col("pace").is_not_null().cast(pl.Int64).alias("pace_n"),
        pl.col("offensive_rating").is_not_null().cast(pl.Int64).alias("offensive_rating_n"),
        pl.col("win_flag").cast(pl.Int64).alias("win"),
        (pl.col("margin_of_victory").abs() >= BLOWOUT_MARGIN).cast(pl.Int64).alias("blowout"),
    )
    numbered = number_games(games, TEAM_BY, TEAM_SUMS)
    st = last_n_window(state_before(keys.select(*TEAM_BY, key_date).unique(), numbered, TEAM_BY, TEAM_SUMS,
                                    key_date=key_date), numbered, TEAM_BY, TEAM_SUMS, n)
    g = pl.col(f"games_last_{n}")
    team = st.select(
        *TEAM_BY, key_date,
        pl.col("game_number").alias("team_games_season"),
        pl.col("cum_win").cast(pl.Int64).alias("team_wins_season"),
        g.alias(f"team_games_last_{n}"),
        safe_div(pl.col(f"sum_pace_last_{n}"), pl.col(f"sum_pace_n_last_{n}")).alias(f"team_pace_last_{n}"),
        safe_div(pl.col(f"sum_offensive_rating_last_{n}"), pl.col(f"sum_offensive_rating_n_last_{n}"))
        .alias(f"team_off_rating_last_{n}"),
        safe_div(pl.col(f"sum_blowout_last_{n}"), g).alias(f"team_blowout_share_last_{n}"),
    )
    return keys.join(team, on=[*TEAM_BY, key_date], how="left")


def window_mean(col: str, n: int | str, count: str | None = None) -> pl.Expr:
    """Mean of ``col`` over the window: ``sum_<col>_last_<n>`` / games (or / ``sum_<count>_last_<n>``)."""
    den = pl.col(f"sum_{count}_last_{n}") if count else pl.col(f"games_last_{n}")
    return safe_div(pl.col(f"sum_{col}_last_{n}"), den)


def sample_std(total: pl.Expr, total_sq: pl.Expr, n: pl.Expr) -> pl.Expr:
    """Sample standard deviation (ddof = 1) from a window's Σx, Σx² and n; NULL when n < 2.

    sqrt((Σx² - (Σx)² / n) / (n - 1)); tiny negative rounding residues are clipped to 0.
    """
    var = (total_sq - total * total / n) / (n - 1)
    return pl.when(n >= 2).then(var.clip(lower_bound=0.0).sqrt()).otherwise(None)


def ols_slope(sum_y: pl.Expr, sum_gy: pl.Expr, n: pl.Expr, last_g: pl.Expr) -> pl.Expr:
    """OLS slope of y on x = 1..n (oldest -> newest) over the last n games ending at game number
    ``last_g``, from window sums Σy and Σ(g·y) (g = game number in the season). NULL when n < 2.

    With x = g - (last_g - n): Σxy = Σgy - (last_g - n)·Σy, Σx = n(n+1)/2, Σx² = n(n+1)(2n+1)/6,
    slope = (n·Σxy - Σx·Σy) / (n·Σx² - (Σx)²). Units: y per game.
    """
    nf = n.cast(pl.Float64)
    sxy = sum_gy - (last_g - nf) * sum_y
    sx = nf * (nf + 1) / 2
    sxx = nf * (nf + 1) * (2 * nf + 1) / 6
    return pl.when(n >= 2).then((nf * sxy - sx * sum_y) / (nf * sxx - sx * sx)).otherwise(None)


def break_days(schedule: pl.DataFrame, keys: pl.DataFrame, key_date: str = "analysis_date") -> pl.DataFrame:
    """Adds ``break_days``: consecutive days without any regular-season game immediately before D
    (D - last league game date before D - 1), capped at 30; 0 when no game precedes D."""
    dates = (scheduled_team_games(schedule).select(pl.col("game_date").alias("__league_date")).unique()
             .sort("__league_date"))
    d = keys.select(key_date).unique().sort(key_date).join_asof(
        dates, left_on=key_date, right_on="__league_date", strategy="backward", allow_exact_matches=False)
    d = d.with_columns(
        ((pl.col(key_date) - pl.col("__league_date")).dt.total_days() - 1).clip(0, MAX_BREAK_DAYS)
        .fill_null(0).cast(pl.Int64).alias("break_days")).drop("__league_date")
    return keys.join(d, on=key_date, how="left")


def team_day_coverage(schedule: pl.DataFrame, present: pl.DataFrame, keys: pl.DataFrame, days: int,
                      name: str, key_date: str = "analysis_date") -> pl.DataFrame:
    """Scheduled vs present team games in [D - (days + break_days), D) for each key row.

    ``keys`` needs ``team_abbr``, ``season_year``, ``key_date`` and ``break_days``; ``present`` the
    distinct (``game_id``, ``team_abbr``) pairs found upstream. Adds ``{name}_expected`` and
    ``{name}_actual``.
    """
    tg = scheduled_team_games(schedule).join(
        present.select("game_id", "team_abbr").unique().with_columns(pl.lit(1).alias("present")),
        on=["game_id", "team_abbr"], how="left").with_columns(pl.col("present").fill_null(0))
    numbered = number_games(tg, TEAM_BY, ["present"])
    distinct = keys.select(*TEAM_BY, key_date, "break_days").unique().with_columns(
        (pl.col(key_date) - pl.duration(days=days) - pl.duration(days=pl.col("break_days"))).alias("__from"))
    now = state_before(distinct, numbered, TEAM_BY, ["present"], key_date=key_date, suffix="__now")
    then = state_before(now, numbered, TEAM_BY, ["present"], key_date="__from", suffix="__then")
    cov = then.select(
        *TEAM_BY, key_date,
        (pl.col("game_number__now") - pl.col("game_number__then")).cast(pl.Int64).alias(f"{name}_expected"),
        (pl.col("cum_present__now") - pl.col("cum_present__then")).cast(pl.Int64).alias(f"{name}_actual"),
    )
    return keys.join(cov, on=[*TEAM_BY, key_date], how="left")


def _pct(expected: str, actual: str) -> pl.Expr:
    return pl.when(pl.col(expected) > 0).then(pl.col(actual) / pl.col(expected)).otherwise(1.0)


def quality_tier_expr(pct: pl.Expr) -> pl.Expr:
    """gold >= 0.95, silver >= 0.75, bronze >= 0.50, poor >= 0.25, else unusable (0-1 completeness)."""
    out = pl.when(pct >= TIERS[0][0]).then(pl.lit(TIERS[0][1]))
    for at, label in TIERS[1:]:
        out = out.when(pct >= at).then(pl.lit(label))
    return out.otherwise(pl.lit("unusable"))


def multi_window_completeness(schedule: pl.DataFrame, present: pl.DataFrame, keys: pl.DataFrame,
                              key_date: str = "analysis_date") -> pl.DataFrame:
    """The four completeness windows of reference §7.4 for each key row (``team_abbr``,
    ``season_year``, ``key_date``): adds ``break_days``, ``scheduled_games_before``,
    ``missing_games_before`` and per window w in (l5, l10, l7d, l14d) ``{w}_expected``, ``{w}_actual``,
    ``{w}_completeness_pct`` (0-1) and ``{w}_is_complete`` (>= 0.7)."""
    out = keys
    for n in GAME_WINDOWS:
        cov = team_coverage(schedule, present, keys.select(*TEAM_BY, key_date).unique(), n, key_date=key_date)
        cov = cov.rename({"expected_games_count": f"l{n}_expected", "actual_games_count": f"l{n}_actual"})
        if n != GAME_WINDOWS[0]:
            cov = cov.drop("scheduled_games_before", "missing_games_before")
        out = out.join(cov, on=[*TEAM_BY, key_date], how="left")
    out = break_days(schedule, out, key_date)
    for days in DAY_WINDOWS:
        out = team_day_coverage(schedule, present, out, days, f"l{days}d", key_date)
    names = [f"l{n}" for n in GAME_WINDOWS] + [f"l{d}d" for d in DAY_WINDOWS]
    out = out.with_columns(*[_pct(f"{w}_expected", f"{w}_actual").alias(f"{w}_completeness_pct") for w in names])
    return out.with_columns(*[(pl.col(f"{w}_completeness_pct") >= READY_AT).alias(f"{w}_is_complete")
                              for w in names])


def build_player_daily_cache(upcg: pl.DataFrame, player_games: pl.DataFrame, team_offense: pl.DataFrame,
                             psza: pl.DataFrame, schedule: pl.DataFrame, start: dt.date,
                             end: dt.date,
        dates: Sequence[dt.date] | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """PDC rows and failure rows for every D in [start, end].

    Args:
        upcg: ``upcoming_player_game_context`` rows for D in [start, end] (the universe and the load
            columns, copied as they are).
        player_games: ``player_game_summary`` rows from the season start up to ``end``.
        team_offense: ``team_offense_game_summary`` rows over the same span.
        psza: ``player_shot_zone_analysis`` rows for D in [start, end] (optional enrichment: the zone
            and the paint / three rates, 0-1, copied as they are).
        schedule: ``nba_schedule`` rows of the season(s).

    Returns ``(rows, failures)`` (failures with ``coverage.FAILURE_COLUMNS``).
    """
    u = upcg.filter(on_dates("game_date", start, end, dates)).rename({"game_date": "cache_date"})
    keys = u.select("player_id", "player_lookup", "season_year", "team_abbr", "cache_date")
    st = player_history(player_games.filter(pl.col("game_date") < end), keys, key_date="cache_date")
    present = player_games.select("game_id", "team_abbr").unique()
    st = multi_window_completeness(schedule, present, st, key_date="cache_date")

    days_since = (pl.col("cache_date") - pl.col("last_game_date")).dt.total_days()
    missing = st.filter(pl.col("missing_games_before") > 0)
    ok = st.filter(pl.col("missing_games_before") == 0)
    incomplete = ok.filter(pl.col("game_number") < MIN_GAMES)
    stale = ok.filter((pl.col("game_number") >= MIN_GAMES) & (days_since > STALE_DAYS))
    kept = ok.filter((pl.col("game_number") >= MIN_GAMES) & (days_since <= STALE_DAYS))

    team = team_history(team_offense.filter(pl.col("game_date") < end),
                        kept.select(*TEAM_BY, "cache_date"), key_date="cache_date").unique()
    zones = psza.select(
        "player_id", pl.col("analysis_date").alias("cache_date"), "primary_scoring_zone",
        "paint_rate_last_10", "three_pt_rate_last_10",
        # zones known (schemas: shot_zone_data_available): a PSZA row of a season without a shot chart
        # has the three-point share only, so it says false like a missing PSZA row (fill_null below)
        (pl.col("has_shot_chart") if "has_shot_chart" in psza.columns else pl.lit(True))
        .alias("shot_zone_data_available"))
    load = u.select("player_id", "cache_date", "game_id", "games_in_last_7_days", "games_in_last_14_days",
                    "minutes_in_last_7_days", "minutes_in_last_14_days", "back_to_backs_last_14_days",
                    "avg_minutes_per_game_last_7", "fourth_quarter_minutes_last_7", "player_age")
    g = pl.col("game_number")
    windows = [f"l{n}" for n in GAME_WINDOWS] + [f"l{d}d" for d in DAY_WINDOWS]
    rows = (
        kept.join(team, on=[*TEAM_BY, "cache_date"], how="left")
        .join(zones, on=["player_id", "cache_date"], how="left")
        .join(load, on=["player_id", "cache_date"], how="left")
        .with_columns(
            window_mean("points", 5).alias("points_avg_last_5"),
            window_mean("points", 10).alias("points_avg_last_10"),
            safe_div(pl.col("cum_points"), g).alias("points_avg_season"),
            sample_std(pl.col("sum_points_last_10"), pl.col("sum_points_sq_last_10"),
                       pl.col("games_last_10")).alias("points_std_last_10"),
            window_mean("minutes_played", 10).alias("minutes_avg_last_10"),
            window_mean("usage_rate", 10, "usage_n").alias("usage_rate_last_10"),
            window_mean("ts_pct", 10, "ts_n").alias("ts_pct_last_10"),
            g.alias("games_played_season"),
            safe_div(pl.col("cum_usage_rate"), pl.col("cum_usage_n")).alias("player_usage_rate_season"),
            pl.lit(None, pl.Float64).alias("assisted_rate_last_10"),
            pl.col("last_game_date").alias("last_played_game_date"),
            days_since.cast(pl.Int64).alias("days_since_last_game"),
            pl.col("shot_zone_data_available").fill_null(False),
            (g < EARLY_SEASON_GAMES).alias("early_season_flag"),
            pl.when(g < EARLY_SEASON_GAMES).then(
                pl.format("Only {} games played, need {} minimum", g, pl.lit(EARLY_SEASON_GAMES)))
            .otherwise(pl.lit(None, pl.String)).alias("insufficient_data_reason"),
            pl.col("l5_expected").alias("expected_games_count"),
            pl.col("l5_actual").alias("actual_games_count"),
            pl.col("l5_completeness_pct").alias("completeness_pct"),
            (pl.col("l5_expected") - pl.col("l5_actual")).clip(lower_bound=0).alias("missing_games_count"),
            quality_tier_expr(pl.col("l5_completeness_pct")).alias("quality_tier"),
            pl.col("l5_completeness_pct").alias("cache_quality_score"),
            pl.all_horizontal(*[pl.col(f"{w}_is_complete") for w in windows]).alias("all_windows_complete"),
            pl.lit(CACHE_VERSION).alias("cache_version"),
        )
        .with_columns(pl.col("all_windows_complete").alias("is_production_ready"))
        .select(PLAYER_DAILY_CACHE.data_columns)
        .sort("cache_date", "player_id")
    )

    def fail(df: pl.DataFrame, category: str, reason: pl.Expr) -> pl.DataFrame:
        return failure_rows(df.with_columns(pl.col("cache_date").alias("analysis_date")), processor=PROCESSOR,
                            entity_type="player", entity_id=pl.col("player_id"),
                            entity_name=pl.col("player_lookup"), category=category, reason=reason,
                            games_required=MIN_GAMES, games_found=pl.col("game_number"))

    failures = pl.concat([
        empty_failures(),
        fail(incomplete, INCOMPLETE_DATA,
             pl.format("{} played games this season before D, need {}", g, pl.lit(MIN_GAMES))),
        fail(stale, STALE_DATA, pl.format("last played game {} is {} days before D (more than {})",
                                          pl.col("last_game_date"), days_since, pl.lit(STALE_DAYS))),
        fail(missing, MISSING_DEPENDENCY,
             pl.format("{} scheduled game(s) of {} before D missing from player_game_summary",
                       pl.col("missing_games_before"), pl.col("team_abbr"))),
    ]).sort("analysis_date", "failure_category", "entity_id")
    return rows, failures
