"""Every season of the raw data directory as one set of frames.

Two sources (see the directory's SOURCES.md): the hoopR files (2022-23 onward: schedule, player and
team box scores; shot charts for the seasons that have one) and the trimmed 2020-21 source
(:mod:`nba_precompute.raw.season_2020`, included when its files are present). :class:`RawSources`
concatenates them into the shapes of the hoopR readers, each frame carrying the ``quality_flags``
list column (empty for hoopR rows), and parses every file at most once per instance. The game
calendar's instance is handed to the run's Phase 3 steps (:meth:`RawSources.for_calendar`,
:meth:`RawSources.take`), so a run parses the box scores once.

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
from nba_precompute.schemas import is_regular_season

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


PLAYED, POSTPONED, SCHEDULED = "played", "postponed", "scheduled"


def reconcile_schedule(schedule: pl.DataFrame, team_logs: pl.DataFrame) -> pl.DataFrame:
    """The schedule as played, from the team game logs: adds ``game_status`` to every row and moves a
    played game to the date it was played.

    ``game_status`` of a regular-season game (other game types: ``scheduled``):

    * ``played``: both teams have a row in the team game logs; ``game_date`` becomes the logs' date
      when it differs from the schedule's (a game moved by a day: 0022500644, scheduled 2026-01-24,
      played 2026-01-25), so the as-of rule sees the game on the night it happened;
    * ``postponed``: not in the logs, but one of its teams has played a later game (the game was moved
      to a date the source schedule does not show yet, or cancelled): not a game the box scores miss;
    * ``scheduled``: not in the logs and neither team has played since (a game to come, or last
      night's game whose box score is not in yet).
    """
    logged = team_logs.group_by("game_id").agg(
        (pl.col("team_id").n_unique() == 2).alias("__played"), pl.col("game_date").max().alias("__played_on"))
    last = team_logs.group_by("team_id").agg(pl.col("game_date").max().alias("__last"))
    out = (schedule.join(logged, on="game_id", how="left")
           .join(last.rename({"team_id": "home_team_id", "__last": "__home_last"}), on="home_team_id", how="left")
           .join(last.rename({"team_id": "away_team_id", "__last": "__away_last"}), on="away_team_id", how="left"))
    played = pl.col("__played").fill_null(False)
    moved_on = ((pl.col("__home_last") > pl.col("game_date")) | (pl.col("__away_last") > pl.col("game_date"))).fill_null(False)
    regular = is_regular_season(pl.col("game_id"))
    return out.with_columns(
        pl.when(regular & played).then(pl.lit(PLAYED))
        .when(regular & moved_on).then(pl.lit(POSTPONED)).otherwise(pl.lit(SCHEDULED)).alias("game_status"),
        pl.when(regular & played).then(pl.col("__played_on")).otherwise(pl.col("game_date")).alias("game_date"),
    ).drop("__played", "__played_on", "__home_last", "__away_last")


def raw_fingerprint(raw_dir: str | Path) -> tuple:
    """(name, size, modification time) of every file under ``raw_dir``: changes when a file lands or
    is replaced, so that a long-running process (code server, daemon) re-reads the calendar."""
    root = Path(raw_dir)
    if not root.is_dir():
        return ()
    return tuple(sorted((str(p.relative_to(root)), st.st_size, st.st_mtime_ns)
                        for p in root.rglob("*") if p.is_file() for st in [p.stat()]))


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

    def _combined(self, name: str, with_2020: bool) -> pl.DataFrame:
        def read() -> pl.DataFrame:
            frames = [readers.with_quality_flags(getattr(self, f"hoopr_{name}")())]
            old = self.season_2020() if with_2020 else None
            if old is not None:
                frames.append(getattr(old, name))
            # the 2020-21 frames have no source_line column (their reader reports lines itself)
            return pl.concat(frames, how="diagonal")
        return self._get((name, with_2020), read)

    def schedule(self, with_2020: bool = True) -> pl.DataFrame:
        """Every game of every season (all game types of the hoopR schedule, the 2020-21 regular season),
        as played: with ``game_status`` and played games on their played date (:func:`reconcile_schedule`).
        ``with_2020=False`` leaves the 2020-21 source unread (~1 s) for runs that do not touch 2020-21;
        the columns are the same."""
        return self._get(("reconciled_schedule", with_2020),
                         lambda: reconcile_schedule(self._combined("schedule", with_2020),
                                                    self.team_game_logs(with_2020)))

    def player_boxscores(self, with_2020: bool = True) -> pl.DataFrame:
        """Player box scores of every regular-season game (``with_2020``: as for :meth:`schedule`)."""
        return self._combined("player_boxscores", with_2020)

    def team_game_logs(self, with_2020: bool = True) -> pl.DataFrame:
        """Team box scores of every regular-season game (``with_2020``: as for :meth:`schedule`)."""
        return self._combined("team_game_logs", with_2020)

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

    def game_dates(self) -> pl.DataFrame:
        """Every regular-season game date of every season: ``season_year``, ``game_date``, ``played``
        (every game of that day is in the raw data: both teams' rows in the team game logs and its rows
        in the player box scores; postponed games do not count, see :func:`reconcile_schedule`) and
        ``games_not_in`` (list of the ``game_id`` of that day not in the raw data yet; empty when
        played). The hoopR schedule (with the season in progress's games to come) plus the 2020-21 team
        logs when present (a source of played games only). Computed from this instance's parsed hoopR
        files, so that the Phase 3 steps of a run reuse the parse (:meth:`take`).

        Raises:
            RawDataError: a file is missing or malformed (naming the file).
        """
        return self._get("game_dates", self._game_dates)

    def _game_dates(self) -> pl.DataFrame:
        hoopr = reconcile_schedule(self.hoopr_schedule(), self.hoopr_team_game_logs())
        with_players = self.hoopr_player_boxscores().select("game_id").unique().with_columns(
            pl.lit(True).alias("__players"))
        games = hoopr.filter(is_regular_season(pl.col("game_id")), pl.col("game_status") != POSTPONED).join(
            with_players, on="game_id", how="left").with_columns(
            ((pl.col("game_status") == PLAYED) & pl.col("__players").fill_null(False)).alias("__in"))
        dates = games.group_by("season_year", "game_date").agg(
            pl.col("__in").all().alias("played"),
            pl.col("game_id").filter(~pl.col("__in")).sort().alias("games_not_in"))
        frames = [dates]
        if has_season_2020(self.path):
            frames.append(season_2020.game_dates_2020(self.path).with_columns(
                pl.lit(True).alias("played"), pl.lit([], pl.List(pl.String)).alias("games_not_in")))
        return pl.concat(frames, how="vertical_relaxed").sort("game_date")

    @classmethod
    def for_calendar(cls, raw_dir: str | Path, fingerprint: tuple) -> RawSources:
        """A new instance for the game calendar of ``raw_dir`` whose files have ``fingerprint``
        (:func:`raw_fingerprint`), kept for this process's next :meth:`take` of the same directory: a run
        process builds its calendar when it loads the definitions, then its Phase 3 steps read the same
        files, which are then parsed once. One instance is kept (the latest calendar's; ~25 MB for the
        four hoopR seasons) until taken or replaced: a process that runs no step (code server, daemon)
        keeps it for its lifetime."""
        sources = cls(raw_dir)
        _HANDOFF.clear()
        _HANDOFF[str(sources.path.resolve())] = (fingerprint, sources)
        return sources

    @classmethod
    def take(cls, raw_dir: str | Path) -> RawSources:
        """The instance kept by :meth:`for_calendar` for ``raw_dir`` when its files are unchanged since
        (same :func:`raw_fingerprint`), handed over once; otherwise a new instance."""
        path = str(Path(raw_dir).resolve())
        kept = _HANDOFF.pop(path, None)
        if kept is not None and kept[0] == raw_fingerprint(path):
            return kept[1]
        return cls(raw_dir)


# RawSources.for_calendar -> RawSources.take: resolved directory -> (fingerprint, instance)
_HANDOFF: dict[str, tuple[tuple, RawSources]] = {}
