"""Every season of the raw data directory as one set of frames.

Two sources (see the directory's SOURCES.md): the hoopR files (2022-23 onward: schedule, player and
team box scores; shot charts for the seasons that have one) and the trimmed 2020-21 source
(:mod:`nba_precompute.raw.season_2020`, included when its files are present). :class:`RawSources`
concatenates them into the shapes of the hoopR readers, each frame carrying the ``quality_flags``
list column (empty for hoopR rows), and parses every file at most once per instance.

Shot charts: the source (github.com/DomSamangy/NBA_Shots_04_24) publishes one file per season from
2003-04 through 2023-24 (:data:`LAST_PUBLISHED_SHOT_CHART_SEASON`) and nothing later. A season up to
2023-24 must have its ``shots/NBA_<end year>_Shots.csv.zip`` (a missing file is an error naming it);
a later season has none unless the file appears in the directory: 2024-25 and 2025-26 are served
without one, and their zone columns are NULL downstream, with the reason.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from nba_precompute.raw import readers, season_2020

_SHOT_FILE = re.compile(r"^NBA_(\d{4})_Shots\.csv\.zip$")
LAST_PUBLISHED_SHOT_CHART_SEASON = 2023  # 2023-24: the last season of the shot-chart source


def has_season_2020(raw_dir: str | Path) -> bool:
    """True when the trimmed 2020-21 source is in the directory (its team game log file exists)."""
    return (Path(raw_dir) / season_2020.TEAM_LOG_FILE).exists()


def shot_chart_seasons(raw_dir: str | Path) -> list[int]:
    """Start years of the seasons whose shot chart file is in the directory, ascending."""
    shots = Path(raw_dir) / "shots"
    found = [_SHOT_FILE.match(p.name) for p in shots.iterdir()] if shots.is_dir() else []
    return sorted(int(m.group(1)) - 1 for m in found if m)


def season_game_dates(raw_dir: str | Path) -> pl.DataFrame:
    """Every regular-season game date of every season (``season_year``, ``game_date``): the hoopR
    schedule plus the 2020-21 team logs when present.

    Raises:
        RawDataError: a file is missing or malformed (naming the file).
    """
    hoopr = readers.read_schedule(Path(raw_dir)).filter(pl.col("game_id").str.starts_with("002"))
    frames = [hoopr.select("season_year", "game_date")]
    if has_season_2020(raw_dir):
        frames.append(season_2020.game_dates_2020(Path(raw_dir)))
    return pl.concat(frames).unique().sort("game_date")


class RawSources:
    """The parsed raw files of one directory (every season), each parsed at most once.

    ``schedule()``, ``player_boxscores()``, ``team_game_logs()`` have the columns of the hoopR readers
    plus ``quality_flags``; ``shots(season_year)`` the columns of ``readers.read_shots`` or ``None`` for a
    season without a shot chart. Errors are :class:`~nba_precompute.raw.readers.RawDataError`.
    """

    def __init__(self, raw_dir: str | Path):
        self.path = Path(raw_dir)
        self._cache: dict[object, object] = {}

    def _get(self, key: object, read):
        if key not in self._cache:
            self._cache[key] = read()
        return self._cache[key]

    def season_2020(self) -> season_2020.Season2020 | None:
        return self._get("2020", lambda: season_2020.read_season_2020(self.path)
                         if has_season_2020(self.path) else None)

    def is_season_2020(self, season_year: int) -> bool:
        """True when ``season_year`` is served by the trimmed 2020-21 source."""
        return season_year == season_2020.SEASON_YEAR and self.season_2020() is not None

    def hoopr_schedule(self) -> pl.DataFrame:
        """``readers.read_schedule`` (the hoopR seasons only), parsed once."""
        return self._get("hoopr_schedule", lambda: readers.read_schedule(self.path))

    def hoopr_player_boxscores(self) -> pl.DataFrame:
        """``readers.read_player_boxscores`` (the hoopR seasons only), parsed once."""
        return self._get("hoopr_player_boxscores", lambda: readers.read_player_boxscores(self.path))

    def hoopr_team_game_logs(self) -> pl.DataFrame:
        """``readers.read_team_game_logs`` (the hoopR seasons only), parsed once."""
        return self._get("hoopr_team_game_logs", lambda: readers.read_team_game_logs(self.path))

    def _combined(self, name: str) -> pl.DataFrame:
        def read() -> pl.DataFrame:
            frames = [readers.with_quality_flags(getattr(self, f"hoopr_{name}")())]
            old = self.season_2020()
            if old is not None:
                frames.append(getattr(old, name))
            # the 2020-21 frames have no source_line column (their reader reports lines itself)
            return pl.concat(frames, how="diagonal")
        return self._get(name, read)

    def schedule(self) -> pl.DataFrame:
        """Every game of every season (all game types of the hoopR schedule, the 2020-21 regular season)."""
        return self._combined("schedule")

    def player_boxscores(self) -> pl.DataFrame:
        """Player box scores of every regular-season game."""
        return self._combined("player_boxscores")

    def team_game_logs(self) -> pl.DataFrame:
        """Team box scores of every regular-season game."""
        return self._combined("team_game_logs")

    def shot_chart_seasons(self) -> list[int]:
        return self._get("shot_seasons", lambda: shot_chart_seasons(self.path))

    def shots(self, season_year: int) -> pl.DataFrame | None:
        """The shot chart of one season (``season_year`` = start year), or ``None`` for a season after the
        source's last published one (:data:`LAST_PUBLISHED_SHOT_CHART_SEASON`) whose file is absent.

        Raises:
            RawDataError: the file of a published season is missing or malformed (naming it).
        """
        if season_year not in self.shot_chart_seasons() and season_year > LAST_PUBLISHED_SHOT_CHART_SEASON:
            return None
        if self.is_season_2020(season_year):
            return self.season_2020().shots
        return self._get(("shots", season_year), lambda: readers.read_shots(self.path, season_year + 1))
