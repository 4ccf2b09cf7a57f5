"""Identity and season-calendar helpers shared by every transform."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from nba_precompute.schemas import is_regular_season

REGULAR_SEASON = "regular_season"
_SEASON_TYPES = {"1": "preseason", "2": REGULAR_SEASON, "3": "all_star", "4": "playoffs",
                 "5": "play_in", "6": "in_season_final"}


def player_lookup_expr(name: pl.Expr) -> pl.Expr:
    """Full name folded to lowercase ASCII letters only ("Nikola Jokić" -> "nikolajokic"; SPEC §2)."""
    return name.str.normalize("NFKD").str.to_lowercase().str.replace_all(r"[^a-z]", "")


POSTPONED = "postponed"


def expected_games(schedule: pl.DataFrame) -> pl.DataFrame:
    """The regular-season games of ``schedule`` that were (or are to be) played: every ``002...`` game
    except those whose ``game_status`` is ``postponed`` (a column of the reconciled schedule: the game
    is not in the box scores and its teams have played since; see ``raw.sources.reconcile_schedule``)."""
    games = schedule.filter(is_regular_season(pl.col("game_id")))
    if "game_status" in schedule.columns:
        games = games.filter(pl.col("game_status").fill_null("") != POSTPONED)
    return games


def season_type_expr(game_id: pl.Expr) -> pl.Expr:
    """Game type from the third digit of the 10-character NBA game id (``002...`` = regular season)."""
    return game_id.str.slice(2, 1).replace_strict(_SEASON_TYPES, default="other")


def season_calendar(schedule: pl.DataFrame) -> pl.DataFrame:
    """One row per season: ``season_year``, ``season_start_date`` (opening night), ``season_end_date``.

    Input: schedule rows with ``game_id``, ``game_date``, ``season_year``. When the rows carry
    ``season_start_date`` / ``season_end_date`` (``nba_analytics.nba_schedule`` does, computed from the
    whole raw schedule) those are used; otherwise only regular-season games (ids ``002...``) define the
    calendar (SPEC §2: no hard-coded October 1st, legacy bug B8).
    """
    if {"season_start_date", "season_end_date"} <= set(schedule.columns):
        return (schedule.select("season_year", "season_start_date", "season_end_date")
                .drop_nulls().unique().sort("season_year"))
    return (
        schedule.filter(is_regular_season(pl.col("game_id")))
        .group_by("season_year")
        .agg(pl.col("game_date").min().alias("season_start_date"),
             pl.col("game_date").max().alias("season_end_date"))
        .sort("season_year")
    )


def dates_frame(start: dt.date, end: dt.date, name: str = "analysis_date") -> pl.DataFrame:
    """Every calendar day in [start, end] as a one-column Date frame."""
    return pl.DataFrame({name: pl.date_range(start, end, "1d", eager=True)})


def analysis_dates(start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None,
                   name: str = "analysis_date") -> pl.DataFrame:
    """The analysis dates D of a computation as a one-column Date frame: ``dates`` (the game dates among
    the run's partitions) inside [start, end] when given, else every day of [start, end]."""
    frame = dates_frame(start, end, name)
    return frame if dates is None else frame.filter(pl.col(name).is_in(list(dates)))


def on_dates(col: str, start: dt.date, end: dt.date, dates: Sequence[dt.date] | None = None) -> pl.Expr:
    """``col`` lies in [start, end] (and is one of ``dates`` when given)."""
    cond = pl.col(col).is_between(start, end)
    return cond if dates is None else cond & pl.col(col).is_in(list(dates))


def with_season(dates: pl.DataFrame, calendar: pl.DataFrame, date_col: str = "analysis_date") -> pl.DataFrame:
    """Attach ``season_year``, ``season_start_date`` and ``season_week`` to each date.

    A date belongs to the latest season whose opening night is on or before it; dates before every
    opening night get NULLs. ``season_week`` = floor((D - season start) / 7) + 1 (SPEC §6).
    """
    out = dates.sort(date_col).join_asof(
        calendar.sort("season_start_date").select("season_year", "season_start_date"),
        left_on=date_col, right_on="season_start_date", strategy="backward",
    )
    return out.with_columns(
        ((pl.col(date_col) - pl.col("season_start_date")).dt.total_days() // 7 + 1)
        .cast(pl.Int64).alias("season_week")
    )


def safe_div(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    """num / den as Float64, NULL when den is 0 or NULL."""
    return pl.when(den.is_not_null() & (den != 0)).then(num.cast(pl.Float64) / den).otherwise(None)


def zone_split_known() -> pl.Expr:
    """True for a ``player_game_summary`` row with a zone split: ``paint_attempts`` not NULL (its season
    has a shot chart; ``player_game_summary`` leaves the zone columns NULL in a season without one)."""
    return pl.col("paint_attempts").is_not_null()


def shot_zone_disagreement() -> pl.Expr:
    """True for a ``player_game_summary`` row whose zones are known (:func:`zone_split_known`) but whose
    shot chart disagrees with its box score (``has_complete_shot_zones`` false)."""
    return ~pl.col("has_complete_shot_zones") & zone_split_known()


def seasons_with_shot_chart(player_games: pl.DataFrame) -> pl.DataFrame:
    """``season_year``, ``season_has_shot_chart``: whether the season's player-games have a zone split
    (:func:`zone_split_known`)."""
    return player_games.group_by("season_year").agg(zone_split_known().any().alias("season_has_shot_chart"))
