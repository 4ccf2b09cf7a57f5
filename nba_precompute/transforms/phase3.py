"""Raw NBA.com files -> Phase 3 analytics tables (reference §3.2-3.6 as amended by SPEC §4).

Every builder takes the typed raw frames (``nba_precompute.raw.readers``) and a date range [start,
end] and returns the rows whose ``game_date`` lies in the range, with exactly the columns of the
matching ``nba_precompute.schemas`` table except ``processed_at`` (added by the writer).
Only regular-season games (ids ``002...``) are ingested. The two "upcoming" builders describe D
before its games: they read the schedule (through D) and box-score rows strictly before D only
(:func:`pregame_universe`, SPEC §2 / §4).

Formulas (Basketball-Reference definitions):

* possessions = FGA + 0.44 x FTA + TOV - ORB
* pace = possessions x 48 / (team minutes / 5)                 [possessions per 48 minutes]
* offensive / defensive rating = points / possessions x 100    [points per 100 possessions]
* usage rate = (FGA + 0.44 FTA + TOV) x (team minutes / 5) / (minutes x (team FGA + 0.44 team FTA +
  team TOV))                                                     [0-1]
* true shooting = points / (2 x (FGA + 0.44 FTA))              [0-1]

Quality flags. A reader output may carry a ``quality_flags`` list column (``readers.QUALITY_FLAGS``;
the 2020-21 reader ``raw.season_2020`` does, the hoopR readers do not): entries ``kind:column`` for
values that are not exact published values (``inferred:game_id``, ``estimated:ft_attempts``,
``rounded:minutes_played``, ``unknown:position``, ``unknown:dnp_rows`` ...) and ``mismatch:...`` for
source disagreements.
Every builder accepts frames with or without it. ``build_player_game_summary`` appends the
player-game's own flags to ``data_quality_issues`` and adds ``estimated:usage_rate`` /
``estimated:ts_pct`` when an input of the metric is flagged ``estimated:`` or ``rounded:`` (the
player's or, for usage, his team's); ``is_starter`` is NULL for a row flagged ``unknown:position``.
``build_upcoming_player_game_context`` needs no DNP rows (its universe and ``star_teammates_out`` use
played games before D only), so ``unknown:dnp_rows`` does not affect it.
``has_complete_shot_zones`` still reflects only the shot-chart-vs-box-score checks. The team tables
have no issues column, so team-level flags are not stored there (a NULL ORB already makes
possessions, pace and ratings NULL rather than estimated).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

import polars as pl

from nba_precompute import schemas
from nba_precompute.raw.readers import QUALITY_FLAGS
from nba_precompute.schemas import (
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_TEAM_GAME_CONTEXT,
    is_regular_season,
)
from nba_precompute.transforms.common import (
    expected_games,
    player_lookup_expr,
    safe_div,
    season_calendar,
    season_type_expr,
)
from nba_precompute.transforms.windows import (
    day_window,
    last_n_window,
    number_games,
    state_before,
)
from nba_precompute.transforms.zones import zone_counts

FTA_WEIGHT = 0.44
UNKNOWN_POSITION = "unknown:position"
USAGE_INPUTS = ("minutes_played", "fg_attempts", "ft_attempts", "turnovers")
TEAM_USAGE_INPUTS = ("fg_attempts", "ft_attempts", "turnovers", "team_minutes")
TS_INPUTS = ("points", "fg_attempts", "ft_attempts")
_FLAGS_DTYPE = pl.List(pl.String)


def _flags(df: pl.DataFrame) -> pl.Expr:
    """The frame's ``quality_flags`` column, or an empty list when the reader emits none."""
    return pl.col(QUALITY_FLAGS) if QUALITY_FLAGS in df.columns else pl.lit([], dtype=_FLAGS_DTYPE)


def _approximated(flags: pl.Expr, columns: tuple[str, ...]) -> pl.Expr:
    """True when ``flags`` mark one of ``columns`` as ``estimated:`` or ``rounded:``."""
    tags = [f"{kind}:{c}" for kind in ("estimated", "rounded") for c in columns]
    return flags.list.eval(pl.element().is_in(tags)).list.any().fill_null(False)


def has_shot_chart(shot_seasons: Collection[int] | None) -> pl.Expr:
    """True for rows (with ``season_year``) of a season that has a shot chart; every row when
    ``shot_seasons`` is None."""
    return pl.lit(True) if shot_seasons is None else pl.col("season_year").is_in(list(shot_seasons))


def no_shot_chart_issue(season_year: pl.Expr) -> pl.Expr:
    """The ``data_quality_issues`` entry of a row whose season has no shot chart."""
    return pl.format("no shot chart for season {}-{}: paint and mid-range splits unknown (not published)",
                     season_year, ((season_year + 1) % 100).cast(pl.String).str.zfill(2))


def _in_range(col: str, start: dt.date, end: dt.date) -> pl.Expr:
    return pl.col(col).is_between(start, end, closed="both")


def build_schedule(schedule: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``nba_analytics.nba_schedule`` rows for the regular-season games on [start, end] (ids ``002...``:
    the games the platform ingests; their dates are the partitions), with their season calendar and
    ``game_status`` (``played`` / ``postponed`` / ``scheduled`` from the reconciled raw schedule;
    ``played`` when the input has no status)."""
    cal = season_calendar(schedule)
    if "game_status" not in schedule.columns:
        schedule = schedule.with_columns(pl.lit("played").alias("game_status"))
    return (
        schedule.filter(_in_range("game_date", start, end), is_regular_season(pl.col("game_id")))
        .with_columns(season_type_expr(pl.col("game_id")).alias("season_type"))
        .join(cal, on="season_year", how="left")
        .select(NBA_SCHEDULE.data_columns)
        .sort("game_date", "game_id")
    )


def _regular_games(schedule: pl.DataFrame) -> pl.DataFrame:
    return expected_games(schedule).select(
        "game_id", "game_date", "season_year", "home_team_id", "away_team_id",
        "home_team_abbr", "away_team_abbr",
    )


def _team_games(team_logs: pl.DataFrame, schedule: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Team box scores of regular-season games in range, with tricodes, home flag and opponent row."""
    games = _regular_games(schedule).filter(_in_range("game_date", start, end))
    tg = team_logs.drop("game_date").join(games, on="game_id", how="inner").with_columns(
        (pl.col("team_id") == pl.col("home_team_id")).alias("is_home"),
    ).with_columns(
        pl.when(pl.col("is_home")).then(pl.col("home_team_abbr")).otherwise(pl.col("away_team_abbr"))
        .alias("team_abbr"),
        pl.when(pl.col("is_home")).then(pl.col("away_team_abbr")).otherwise(pl.col("home_team_abbr"))
        .alias("opponent_team_abbr"),
        (pl.col("fg_attempts") + FTA_WEIGHT * pl.col("ft_attempts") + pl.col("turnovers")
         - pl.col("offensive_rebounds")).alias("possessions"),
    )
    opp = tg.select(
        "game_id", pl.col("team_abbr").alias("opponent_team_abbr"),
        *[pl.col(c).alias(f"opp_{c}") for c in ("points", "fg_attempts", "fg_makes", "ft_attempts",
                                                  "offensive_rebounds", "turnovers", "possessions")],
        pl.col("three_pt_attempts").alias("opp_box_three_pt_attempts"),
        pl.col("three_pt_makes").alias("opp_box_three_pt_makes"),
    )
    return tg.join(opp, on=["game_id", "opponent_team_abbr"], how="left")


def build_team_offense_game_summary(team_logs: pl.DataFrame, schedule: pl.DataFrame,
                                    start: dt.date, end: dt.date) -> pl.DataFrame:
    """``nba_analytics.team_offense_game_summary``: team x game with possessions, pace, ratings."""
    tg = _team_games(team_logs, schedule, start, end)
    return tg.with_columns(
        pl.col("opp_points").alias("opponent_points"),
        safe_div(pl.col("possessions") * 48.0, pl.col("team_minutes") / 5.0).alias("pace"),
        safe_div(pl.col("points") * 100.0, pl.col("possessions")).alias("offensive_rating"),
        (pl.col("points") > pl.col("opp_points")).alias("win_flag"),
        (pl.col("points") - pl.col("opp_points")).alias("margin_of_victory"),
    ).select(TEAM_OFFENSE_GAME_SUMMARY.data_columns).sort("game_date", "game_id", "team_abbr")


def build_team_defense_game_summary(team_logs: pl.DataFrame, schedule: pl.DataFrame, shots: pl.DataFrame,
                                    start: dt.date, end: dt.date,
                                    shot_seasons: Collection[int] | None = None) -> pl.DataFrame:
    """``nba_analytics.team_defense_game_summary``: defending team x game.

    The opponent's shots are classified with the one zone classifier (SPEC §3) and flipped to the
    defending team; ``opponent_pace`` is per 48 minutes like ``team_offense_game_summary.pace``.
    ``shot_seasons``: start years of the seasons with a shot chart (None: every season). In a season
    without one (``has_shot_chart`` false) the opponent's paint and mid-range attempts, makes and points
    are NULL and its three-point attempts and makes come from its box score (exact: the three-point
    zone is every 3-pt attempt).
    """
    tg = _team_games(team_logs, schedule, start, end)
    shot_zones = zone_counts(shots.filter(_in_range("game_date", start, end)), ["game_id", "team_id"])
    # zones of the *opponent's* shots: attach the opponent's team id, then its shot counts
    opp_ids = tg.select("game_id", pl.col("team_abbr").alias("opponent_team_abbr"),
                        pl.col("team_id").alias("opp_team_id"))
    tg = tg.join(opp_ids, on=["game_id", "opponent_team_abbr"], how="left")
    zones = shot_zones.rename({"team_id": "opp_team_id",
                               **{c: f"opp_{c}" for c in shot_zones.columns if c.endswith(("_attempts", "_makes"))}})
    tg = tg.join(zones, on=["game_id", "opp_team_id"], how="left")
    has_chart = has_shot_chart(shot_seasons)
    tg = tg.with_columns(
        has_chart.alias("has_shot_chart"),
        *[pl.when(has_chart).then(pl.col(f"opp_{z}_{k}").fill_null(0))
          for z in ("paint", "mid_range") for k in ("attempts", "makes")],
        pl.when(has_chart).then(pl.col("opp_three_pt_attempts").fill_null(0))
        .otherwise(pl.col("opp_box_three_pt_attempts")).alias("opp_three_pt_attempts"),
        pl.when(has_chart).then(pl.col("opp_three_pt_makes").fill_null(0))
        .otherwise(pl.col("opp_box_three_pt_makes")).alias("opp_three_pt_makes"),
    )
    return tg.select(
        "game_id", "game_date", "season_year",
        pl.col("team_abbr").alias("defending_team_abbr"), "opponent_team_abbr",
        pl.col("opp_points").alias("points_allowed"),
        "opp_fg_attempts", "opp_fg_makes", "opp_ft_attempts", "opp_offensive_rebounds", "opp_turnovers",
        "opp_paint_attempts", "opp_paint_makes", "opp_mid_range_attempts", "opp_mid_range_makes",
        "opp_three_pt_attempts", "opp_three_pt_makes",
        (pl.col("opp_paint_makes") * 2).alias("points_in_paint_allowed"),
        (pl.col("opp_mid_range_makes") * 2).alias("mid_range_points_allowed"),
        (pl.col("opp_three_pt_makes") * 3).alias("three_pt_points_allowed"),
        pl.lit(None, pl.Int64).alias("blocks_paint"),
        pl.lit(None, pl.Int64).alias("blocks_mid_range"),
        pl.lit(None, pl.Int64).alias("blocks_three_pt"),
        pl.col("opp_possessions").alias("opponent_possessions"),
        safe_div(pl.col("opp_points") * 100.0, pl.col("opp_possessions")).alias("defensive_rating"),
        safe_div(pl.col("opp_possessions") * 48.0, pl.col("team_minutes") / 5.0).alias("opponent_pace"),
        "has_shot_chart",
    ).sort("game_date", "game_id", "defending_team_abbr")


def build_player_game_summary(boxscores: pl.DataFrame, team_logs: pl.DataFrame, schedule: pl.DataFrame,
                              shots: pl.DataFrame, start: dt.date, end: dt.date,
                              shot_seasons: Collection[int] | None = None) -> pl.DataFrame:
    """``nba_analytics.player_game_summary``: one row per player on a regular-season box score.

    DNP rows are kept (``is_dnp``; ``minutes_played`` NULL when the box score has no minutes).
    Zone counts come from the shot chart; where the shot chart and the box score disagree on FGA, FGM,
    3PA or 3PM the row is kept with ``has_complete_shot_zones = false`` and the difference is listed in
    ``data_quality_issues`` (SPEC §3). Usage rate and true shooting are 0-1 fractions.

    ``shot_seasons``: start years of the seasons with a shot chart (None: every season). In a season
    without one, paint and mid-range attempts and makes are NULL (never 0), three-point attempts and
    makes come from the box score (exact), ``has_complete_shot_zones`` is false and
    ``data_quality_issues`` says why (:func:`no_shot_chart_issue`).
    """
    tg = _team_games(team_logs, schedule, start, end).select(
        "game_id", "team_id", "game_date", "season_year", "team_abbr", "opponent_team_abbr", "is_home",
        pl.col("fg_attempts").alias("team_fga"), pl.col("ft_attempts").alias("team_fta"),
        pl.col("turnovers").alias("team_tov"), "team_minutes",
        (pl.col("points") > pl.col("opp_points")).alias("win_flag"),
        _flags(team_logs).alias("__team_flags"),
    )
    box = boxscores.drop("team_abbr").join(tg, on=["game_id", "team_id"], how="inner").with_columns(
        _flags(boxscores).alias("__player_flags"))
    shot_zones = zone_counts(shots.filter(_in_range("game_date", start, end)), ["game_id", "player_id"])
    zone_cols = [c for c in shot_zones.columns if c not in ("game_id", "player_id")]
    has_chart = has_shot_chart(shot_seasons)
    box = box.join(shot_zones, on=["game_id", "player_id"], how="left").with_columns(
        [pl.when(has_chart).then(pl.col(c).fill_null(0)) for c in zone_cols]
    ).with_columns(
        pl.when(has_chart).then(pl.col("three_pt_attempts")).otherwise(pl.col("box_three_pt_attempts"))
        .alias("three_pt_attempts"),
        pl.when(has_chart).then(pl.col("three_pt_makes")).otherwise(pl.col("box_three_pt_makes"))
        .alias("three_pt_makes"),
        has_chart.alias("__has_chart"),
    )
    chart_fga = pl.col("paint_attempts") + pl.col("mid_range_attempts") + pl.col("three_pt_attempts")
    chart_fgm = pl.col("paint_makes") + pl.col("mid_range_makes") + pl.col("three_pt_makes")
    checks = [
        ("FGA", chart_fga, pl.col("fg_attempts")),
        ("FGM", chart_fgm, pl.col("fg_makes")),
        ("3PA", pl.col("three_pt_attempts"), pl.col("box_three_pt_attempts")),
        ("3PM", pl.col("three_pt_makes"), pl.col("box_three_pt_makes")),
    ]
    issue_exprs = [
        pl.when(pl.col("__has_chart") & (chart != box_val.fill_null(0))).then(
            pl.format("shot chart {} {} != box score {} {}", pl.lit(label), chart, pl.lit(label),
                      box_val.fill_null(0))
        )
        for label, chart, box_val in checks
    ]
    minutes = pl.col("minutes_played")
    played = minutes.fill_null(0) > 0
    usage_num = (pl.col("fg_attempts") + FTA_WEIGHT * pl.col("ft_attempts") + pl.col("turnovers")) * (
        pl.col("team_minutes") / 5.0)
    usage_den = minutes * (pl.col("team_fga") + FTA_WEIGHT * pl.col("team_fta") + pl.col("team_tov"))
    usage = pl.when(played).then(safe_div(usage_num, usage_den))
    ts_den = 2.0 * (pl.col("fg_attempts") + FTA_WEIGHT * pl.col("ft_attempts"))
    player_flags, team_flags = pl.col("__player_flags"), pl.col("__team_flags")
    usage_estimated = _approximated(player_flags, USAGE_INPUTS) | _approximated(team_flags, TEAM_USAGE_INPUTS)
    return box.with_columns(
        player_lookup_expr(pl.concat_str("first_name", pl.lit(" "), "family_name")).alias("player_lookup"),
        pl.concat_str("first_name", pl.lit(" "), "family_name", ignore_nulls=True).alias("player_name"),
        pl.when(player_flags.list.contains(UNKNOWN_POSITION)).then(None)
        .otherwise(pl.col("position").is_not_null()).alias("is_starter"),
        pl.col("comment").is_null().alias("is_active"),
        (~played).alias("is_dnp"),
        pl.col("comment").alias("dnp_reason"),
        pl.lit(None, pl.Int64).alias("assisted_fg_makes"),
        pl.lit(None, pl.Int64).alias("unassisted_fg_makes"),
        pl.concat_list(issue_exprs).list.drop_nulls().alias("__shot_issues"),
        pl.when(usage <= 1.0).then(usage).alias("usage_rate"),
        pl.when(played).then(safe_div(pl.col("points"), ts_den)).alias("ts_pct"),
    ).with_columns(
        (pl.col("__has_chart") & (pl.col("__shot_issues").list.len() == 0)).alias("has_complete_shot_zones"),
        pl.concat_list(
            "__shot_issues", pl.when(~pl.col("__has_chart")).then(no_shot_chart_issue(pl.col("season_year"))),
            player_flags.cast(_FLAGS_DTYPE),
            pl.when(pl.col("usage_rate").is_not_null() & usage_estimated).then(pl.lit("estimated:usage_rate")),
            pl.when(pl.col("ts_pct").is_not_null() & _approximated(player_flags, TS_INPUTS))
            .then(pl.lit("estimated:ts_pct")),
        ).list.drop_nulls().alias("data_quality_issues"),
    ).select(PLAYER_GAME_SUMMARY.data_columns).sort("game_date", "game_id", "team_abbr", "player_id")


def _team_rest(schedule: pl.DataFrame) -> pl.DataFrame:
    """Per regular-season team-game: ``days_rest`` since the team's previous game this season."""
    games = _regular_games(schedule)
    long = pl.concat([
        games.select("game_id", "game_date", "season_year", pl.col("home_team_abbr").alias("team_abbr"),
                     pl.col("away_team_abbr").alias("opponent_team_abbr"), pl.lit(True).alias("home_game")),
        games.select("game_id", "game_date", "season_year", pl.col("away_team_abbr").alias("team_abbr"),
                     pl.col("home_team_abbr").alias("opponent_team_abbr"), pl.lit(False).alias("home_game")),
    ])
    long = long.sort("team_abbr", "season_year", "game_date").with_columns(
        (pl.col("game_date") - pl.col("game_date").shift(1).over("team_abbr", "season_year"))
        .dt.total_days().cast(pl.Int64).alias("days_rest")
    )
    opp = long.select("game_id", pl.col("team_abbr").alias("opponent_team_abbr"),
                      pl.col("days_rest").alias("opponent_days_rest"))
    return long.join(opp, on=["game_id", "opponent_team_abbr"], how="left")


def build_upcoming_team_game_context(schedule: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``nba_analytics.upcoming_team_game_context``: team x regular-season game on [start, end]."""
    return _team_rest(schedule).filter(_in_range("game_date", start, end)).with_columns(
        (pl.col("days_rest") == 1).alias("back_to_back"),
        pl.lit(None, pl.Float64).alias("game_total"),
        pl.lit(None, pl.Float64).alias("game_spread"),
        pl.lit(True).alias("is_production_ready"),
    ).select(UPCOMING_TEAM_GAME_CONTEXT.data_columns).sort("game_date", "team_abbr")


UNIVERSE_DAYS = 30
# how far before a season's opening night the rows of its previous season are read (the opening-night
# universe, :func:`_previous_season_roster`); defined with the other cross-season read in schemas
PREVIOUS_SEASON_DAYS = schemas.PREVIOUS_SEASON_DAYS
STAR_COUNT = 3
STAR_MIN_GAMES = 5


def _scheduled_team_games(schedule: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Team x regular-season game (not postponed) scheduled on [start, end], from the schedule alone:
    ``analysis_date`` (= D), ``game_id``, ``season_year``, ``team_abbr``, ``opponent_team_abbr``,
    ``home_game``, ``opponent_days_rest`` (days since the opponent's previous scheduled game this
    season)."""
    return _team_rest(schedule).filter(_in_range("game_date", start, end)).select(
        pl.col("game_date").alias("analysis_date"), "game_id", "season_year", "team_abbr",
        "opponent_team_abbr", "home_game", "opponent_days_rest")


def _last_played_team(player_games: pl.DataFrame, team_games: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """For every player with a played game this season and every D of ``team_games`` in that season:
    his most recent played game strictly before D (as-of join, no per-date loop).

    Reads only rows with ``game_date < end`` (and, through the strict as-of join, only rows before each
    D). Returns ``player_id``, ``season_year``, ``analysis_date``, ``last_game_date``,
    ``last_team_abbr`` (the team of that game: the most recent team wins after a trade),
    ``player_lookup`` (of that game, when the input has it), ``team_games_for`` / ``team_points_for``
    (his played games and points for ``last_team_abbr`` this season up to that game). Players with no
    played game before D get no row.
    """
    played = player_games.filter((pl.col("game_date") < end) & (pl.col("minutes_played").fill_null(0) > 0))
    lookup = [pl.col("player_lookup")] if "player_lookup" in played.columns else []
    points = pl.col("points").fill_null(0) if "points" in played.columns else pl.lit(0)
    per_team = ["player_id", "season_year", "team_abbr"]
    played = played.select("player_id", "season_year", "game_date", "team_abbr", *lookup,
                           points.cast(pl.Int64).alias("__points")).sort(*per_team, "game_date").with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(per_team).alias("team_games_for"),
        pl.col("__points").cum_sum().over(per_team).alias("team_points_for"),
    )
    right = played.select(
        "player_id", "season_year", pl.col("game_date").alias("__asof"), pl.col("game_date").alias("last_game_date"),
        pl.col("team_abbr").alias("last_team_abbr"), *lookup, "team_games_for", "team_points_for",
    ).sort("__asof")
    pairs = played.select("player_id", "season_year").unique().join(
        team_games.select("season_year", "analysis_date").unique(), on="season_year")
    return pairs.sort("analysis_date").join_asof(
        right, left_on="analysis_date", right_on="__asof", by=["player_id", "season_year"], strategy="backward",
        allow_exact_matches=False, check_sortedness=False,
    ).drop("__asof").filter(pl.col("last_game_date").is_not_null())


def pregame_universe(player_games: pl.DataFrame, schedule: pl.DataFrame, start: dt.date,
                     end: dt.date) -> pl.DataFrame:
    """The pre-game player universe (SPEC §2, §4) of every D in [start, end], one row per (player, D).

    Rule: for each team scheduled on D (regular season, not postponed; the schedule includes games
    not yet played), the players whose most recent *played* game (``minutes_played > 0``) strictly
    before D was for that team and lies in [D - 30 days, D) (``UNIVERSE_DAYS``), this season. A traded
    player belongs to the team of his most recent played game. Game id, opponent and home/away come
    from D's schedule row. No row with ``game_date >= D`` is read: ``player_games`` needs only
    ``player_id``, ``season_year``, ``game_date``, ``team_abbr``, ``minutes_played`` (rows of D or
    later, if given, are ignored for D).

    What it cannot know: a debut (no earlier played game: absent), a trade made since the player's last
    game (he is listed with his old team), a player back from more than 30 days out (absent), an injury
    or rest decision on D (listed: a morning run does not know who will sit). A team with no earlier
    game this season (its opening night) takes its roster from the end of the previous season when
    ``player_games`` holds it (:func:`_previous_season_roster`: an off-season signing or trade is not
    known), else has nobody.

    Returns ``player_id``, ``analysis_date``, ``game_id``, ``season_year``, ``team_abbr``,
    ``opponent_team_abbr``, ``home_game``, ``opponent_days_rest``, ``last_game_date`` and
    ``player_lookup`` when ``player_games`` has it.
    """
    team_games = _scheduled_team_games(schedule, start, end)
    last = _last_played_team(player_games, team_games, end)
    in_season = last.filter(
        pl.col("last_game_date") >= pl.col("analysis_date") - pl.duration(days=UNIVERSE_DAYS)
    ).join(team_games, left_on=["season_year", "analysis_date", "last_team_abbr"],
           right_on=["season_year", "analysis_date", "team_abbr"], how="inner").rename(
        {"last_team_abbr": "team_abbr"}).drop("team_games_for", "team_points_for")
    fallback = _previous_season_roster(player_games, team_games, end)
    return pl.concat([in_season, fallback.select(in_season.columns)], how="vertical_relaxed")


def _previous_season_roster(player_games: pl.DataFrame, team_games: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """The universe of a team scheduled on D that has played no game this season before D (its opening
    night): the players whose most recent played game of the previous season was for that team and who
    have played no game this season before D. Their rows carry no game of this season (features at
    their defaults; PDC and PSZA record INCOMPLETE_DATA). Empty when ``player_games`` holds no row of
    the previous season. Columns as :func:`pregame_universe`."""
    played = player_games.filter((pl.col("game_date") < end) & (pl.col("minutes_played").fill_null(0) > 0))
    lookup = [pl.col("player_lookup")] if "player_lookup" in played.columns else []
    first_team = played.group_by("team_abbr", "season_year").agg(pl.col("game_date").min().alias("__team_first"))
    opening = team_games.join(first_team, on=["team_abbr", "season_year"], how="left").filter(
        pl.col("__team_first").is_null() | (pl.col("__team_first") >= pl.col("analysis_date"))).drop("__team_first")
    previous = played.sort("player_id", "season_year", "game_date").group_by(
        "player_id", "season_year", maintain_order=True).last().select(
        "player_id", (pl.col("season_year") + 1).alias("season_year"), pl.col("game_date").alias("last_game_date"),
        pl.col("team_abbr"), *lookup)
    first_player = played.group_by("player_id", "season_year").agg(pl.col("game_date").min().alias("__first"))
    return opening.join(previous, on=["season_year", "team_abbr"], how="inner").join(
        first_player, on=["player_id", "season_year"], how="left").filter(
        pl.col("__first").is_null() | (pl.col("__first") >= pl.col("analysis_date"))).drop("__first")


def _star_teammates_out(player_games: pl.DataFrame, team_games: pl.DataFrame, universe: pl.DataFrame,
                        end: dt.date) -> pl.DataFrame:
    """``star_teammates_out`` of each universe row (``player_id``, ``analysis_date``), from games before D.

    The team's stars on D: among the players whose most recent played game before D was for the team
    (its roster as known before D, without the 30-day limit: a long-injured star stays the team's), the
    ``STAR_COUNT`` (3) with the highest points per played game for the team this season before D, over
    at least ``STAR_MIN_GAMES`` (5) played games for it (ties: lower ``player_id``). A star is out when
    he is not in D's pre-game universe (last played game more than 30 days before D) or did not play
    the team's most recent game before D (the last game with box-score rows of the team). The count
    excludes the player himself. Needs no DNP rows (a player without a played row did not play), so
    the 2020-21 source, which lists only players who appeared, gets a value too.
    """
    last = _last_played_team(player_games, team_games, end)
    roster = last.join(team_games.select("season_year", "analysis_date", "team_abbr"),
                       left_on=["season_year", "analysis_date", "last_team_abbr"],
                       right_on=["season_year", "analysis_date", "team_abbr"], how="inner")
    stars = roster.filter(pl.col("team_games_for") >= STAR_MIN_GAMES).with_columns(
        (pl.col("team_points_for") / pl.col("team_games_for")).alias("__ppg"),
    ).sort(["analysis_date", "last_team_abbr", "__ppg", "player_id"], descending=[False, False, True, False]).group_by(
        "analysis_date", "last_team_abbr", maintain_order=True).head(STAR_COUNT)
    team_rows = player_games.filter(pl.col("game_date") < end).select(
        pl.col("team_abbr").alias("last_team_abbr"), "season_year", pl.col("game_date").alias("__asof"),
        pl.col("game_date").alias("team_last_game_date")).unique().sort("__asof")
    stars = stars.sort("analysis_date").join_asof(
        team_rows, left_on="analysis_date", right_on="__asof", by=["last_team_abbr", "season_year"],
        strategy="backward", allow_exact_matches=False, check_sortedness=False)
    out = stars.filter(
        (pl.col("last_game_date") < pl.col("analysis_date") - pl.duration(days=UNIVERSE_DAYS))
        | (pl.col("last_game_date") != pl.col("team_last_game_date")))
    per_team = out.group_by("analysis_date", pl.col("last_team_abbr").alias("team_abbr")).agg(
        pl.len().cast(pl.Int64).alias("__stars_out"))
    self_out = out.select("player_id", "analysis_date", pl.lit(1, pl.Int64).alias("__self_out"))
    return universe.select("player_id", "analysis_date", "team_abbr").join(
        per_team, on=["analysis_date", "team_abbr"], how="left").join(
        self_out, on=["player_id", "analysis_date"], how="left").select(
        "player_id", "analysis_date",
        (pl.col("__stars_out").fill_null(0) - pl.col("__self_out").fill_null(0)).alias("star_teammates_out"))


def build_upcoming_player_game_context(player_games: pl.DataFrame, team_offense: pl.DataFrame,
                                       schedule: pl.DataFrame, start: dt.date, end: dt.date) -> pl.DataFrame:
    """``nba_analytics.upcoming_player_game_context`` for every D in [start, end].

    Inputs: ``player_game_summary`` and ``team_offense_game_summary`` rows of the season(s) before
    ``end`` (history before ``start`` included; rows with ``game_date >= end`` are ignored, and for each
    D only rows strictly before D are used), and the schedule (through ``end``, future games included).

    Rows: one per (player, D) of D's pre-game universe (:func:`pregame_universe`: the players whose most
    recent played game before D, within the 30 days before D, was for a team scheduled on D), with
    ``game_id``, ``opponent_team_abbr``, ``home_game`` from D's schedule row. So every row for D is the
    same whether or not D's box scores exist; it cannot know a debut, a trade since the player's last
    game, or an injury (``player_status`` NULL: no source).

    Columns (units): rest and load from his own played games strictly before D this season (windows
    [D-7, D) and [D-14, D); days, games, minutes); ``avg_usage_rate_last_7_games`` over his last 7
    played games (legacy bug B5; 0-1); ``projected_usage_rate`` = season usage average before D (0-1);
    ``pace_differential`` from each team's last 10 games before D this season (possessions per 48; no
    hard-coded date cut-off, legacy bug B6); ``star_teammates_out`` (count) as
    :func:`_star_teammates_out` defines it (the team's top-3 scorers, out = not in the universe or
    missed the team's last game). ``is_production_ready``: the player has a played game before D this
    season (false for an opening-night row taken from the previous season's roster).
    """
    pg = player_games.filter(pl.col("game_date") < end)
    played = pg.filter(pl.col("minutes_played").fill_null(0) > 0).with_columns(
        pl.col("usage_rate").is_not_null().cast(pl.Int64).alias("usage_games"),
    )
    played = played.sort("player_id", "season_year", "game_date").with_columns(
        ((pl.col("game_date") - pl.col("game_date").shift(1).over("player_id", "season_year"))
         .dt.total_days() == 1).fill_null(False).cast(pl.Int64).alias("b2b_second"),
    )
    by = ["player_id", "season_year"]
    cum_cols = ["minutes_played", "usage_rate", "usage_games", "b2b_second", "points"]
    numbered = number_games(played, by, cum_cols)

    team_games = _scheduled_team_games(schedule, start, end)
    universe = pregame_universe(pg, schedule, start, end)
    keys = universe.select(
        "player_id", "player_lookup", "game_id", "analysis_date", "season_year", "team_abbr",
        "opponent_team_abbr", "home_game", "opponent_days_rest",
    )
    st = state_before(keys, numbered, by, cum_cols)
    st = last_n_window(st, numbered, by, ["usage_rate", "usage_games"], 7)
    w7 = day_window(keys.select("player_id", "season_year", "analysis_date"), numbered, by,
                    ["minutes_played"], 7)
    w14 = day_window(keys.select("player_id", "season_year", "analysis_date"), numbered, by,
                     ["minutes_played"], 14)
    # a back-to-back pair (g-1, g) lies inside [D-14, D) when g >= D-13
    b2b = day_window(keys.select("player_id", "season_year", "analysis_date"), numbered, by,
                     ["b2b_second"], 13, name="b2b")
    key_on = ["player_id", "season_year", "analysis_date"]
    st = st.join(w7, on=key_on).join(w14, on=key_on).join(b2b.select(*key_on, "sum_b2b_second_b2b"), on=key_on)

    stars = _star_teammates_out(pg, team_games, universe, end)

    # team pace over the last 10 games before D (this season): the mean of the non-NULL paces (a game
    # without possessions, e.g. 2020-21 with no ORB, has NULL pace; it must not count as a pace of 0)
    tby = ["team_abbr", "season_year"]
    pace_cols = ["pace", "pace_games"]
    tnum = number_games(team_offense.filter(pl.col("game_date") < end).with_columns(
        pl.col("pace").is_not_null().cast(pl.Int64).alias("pace_games")), tby, pace_cols)
    team_keys = pl.concat([
        keys.select(pl.col("team_abbr"), "season_year", "analysis_date"),
        keys.select(pl.col("opponent_team_abbr").alias("team_abbr"), "season_year", "analysis_date"),
    ]).unique()
    tst = last_n_window(state_before(team_keys, tnum, tby, pace_cols), tnum, tby, pace_cols, 10).select(
        "team_abbr", "season_year", "analysis_date",
        safe_div(pl.col("sum_pace_last_10"), pl.col("sum_pace_games_last_10")).alias("pace_last_10"))

    out = (
        st.join(stars, on=["player_id", "analysis_date"], how="left")
        .join(tst.rename({"pace_last_10": "team_pace_last_10"}), on=["team_abbr", "season_year", "analysis_date"],
              how="left")
        .join(tst.rename({"team_abbr": "opponent_team_abbr", "pace_last_10": "opponent_pace_last_10"}),
              on=["opponent_team_abbr", "season_year", "analysis_date"], how="left")
    )
    days_rest = (pl.col("analysis_date") - pl.col("last_game_date")).dt.total_days().cast(pl.Int64)
    return out.with_columns(
        days_rest.alias("days_rest"),
        (days_rest == 1).fill_null(False).alias("back_to_back"),
        pl.lit("regular_season").alias("season_phase"),
        pl.lit(None, pl.String).alias("player_status"),
        pl.col("games_last_7d").alias("games_in_last_7_days"),
        pl.col("games_last_14d").alias("games_in_last_14_days"),
        pl.col("sum_minutes_played_last_7d").alias("minutes_in_last_7_days"),
        pl.col("sum_minutes_played_last_14d").alias("minutes_in_last_14_days"),
        pl.col("sum_b2b_second_b2b").cast(pl.Int64).alias("back_to_backs_last_14_days"),
        safe_div(pl.col("sum_minutes_played_last_7d"), pl.col("games_last_7d")).alias("avg_minutes_per_game_last_7"),
        safe_div(pl.col("sum_usage_rate_last_7"), pl.col("sum_usage_games_last_7")).alias("avg_usage_rate_last_7_games"),
        pl.lit(None, pl.Float64).alias("fourth_quarter_minutes_last_7"),
        pl.lit(None, pl.Float64).alias("player_age"),
        safe_div(pl.col("cum_usage_rate"), pl.col("cum_usage_games")).alias("projected_usage_rate"),
        pl.col("star_teammates_out").fill_null(0),
        (pl.col("team_pace_last_10") - pl.col("opponent_pace_last_10")).alias("pace_differential"),
        pl.lit(None, pl.Float64).alias("game_total"),
        pl.lit(None, pl.Float64).alias("game_spread"),
        pl.lit(False).alias("has_prop_line"),
        pl.lit(None, pl.Float64).alias("current_points_line"),
        pl.lit(None, pl.Int64).alias("prop_over_streak"),
        pl.lit(None, pl.Int64).alias("prop_under_streak"),
        (pl.col("game_number") > 0).alias("is_production_ready"),
    ).select(
        "player_id", "player_lookup", "game_id", pl.col("analysis_date").alias("game_date"), "season_year",
        "team_abbr", "opponent_team_abbr", "home_game", "days_rest", "back_to_back", "opponent_days_rest",
        "season_phase", "player_status", "games_in_last_7_days", "games_in_last_14_days",
        "minutes_in_last_7_days", "minutes_in_last_14_days", "back_to_backs_last_14_days",
        "avg_minutes_per_game_last_7", "avg_usage_rate_last_7_games", "fourth_quarter_minutes_last_7",
        "player_age", "projected_usage_rate", "star_teammates_out", "team_pace_last_10",
        "opponent_pace_last_10", "pace_differential", "game_total", "game_spread", "has_prop_line",
        "current_points_line", "prop_over_streak", "prop_under_streak", "is_production_ready",
    ).sort("game_date", "team_abbr", "player_id")
