"""Small hand-built frames for formula tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from nba_precompute.schemas import PLAYER_GAME_SUMMARY

OPENING = dt.date(2022, 10, 18)


def schedule(dates: list[dt.date], home: str = "AAA", away: str = "BBB", season: int = 2022,
             first_id: int = 1) -> pl.DataFrame:
    """One regular-season game per date between ``home`` and ``away``."""
    return pl.DataFrame({
        "game_id": [f"00{season % 100 + 200:03d}{first_id + i:05d}" for i in range(len(dates))],
        "game_date": dates,
        "season_year": [season] * len(dates),
        "home_team_id": [1] * len(dates), "away_team_id": [2] * len(dates),
        "home_team_abbr": [home] * len(dates), "away_team_abbr": [away] * len(dates),
    })


def player_games(rows: list[dict], sched: pl.DataFrame) -> pl.DataFrame:
    """player_game_summary rows: each dict needs player_id, team_abbr, game_date; counts default to 0,
    minutes_played to 30.0 (pass None for a DNP)."""
    ids = dict(zip(sched.get_column("game_date").to_list(), sched.get_column("game_id").to_list()))
    seasons = dict(zip(sched.get_column("game_date").to_list(), sched.get_column("season_year").to_list()))
    out = []
    for r in rows:
        row = {c.name: None for c in PLAYER_GAME_SUMMARY.columns}
        row.update(dict.fromkeys(("paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes", "three_pt_attempts", "three_pt_makes", "fg_attempts", "fg_makes", "points", "ft_attempts", "ft_makes", "turnovers"), 0))
        row.update({"minutes_played": 30.0, "has_complete_shot_zones": True, "data_quality_issues": [],
                    "player_lookup": f"player{r['player_id']}", "is_dnp": False})
        row.update(r)
        row["game_id"] = ids[r["game_date"]]
        row["season_year"] = seasons[r["game_date"]]
        if row["minutes_played"] is None:
            row["is_dnp"] = True
        out.append(row)
    schema = {c.name: c.polars_type for c in PLAYER_GAME_SUMMARY.columns if c.name != "processed_at"}
    return pl.DataFrame([{k: v for k, v in r.items() if k in schema} for r in out], schema=schema)


def days(start: dt.date, n: int) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range(n)]
