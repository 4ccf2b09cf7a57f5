"""The raw inputs of a run or a command: parsed once, checked against the domain rules, versioned.

Plain Python (Polars, no Dagster). :class:`RawInputs` is what a Dagster run's ``raw_data`` resource
(``nba_precompute.defs.resources.RawDataResource``, a thin wrapper), ``nba-precompute refresh`` and
``nba-precompute validate`` use:

* :meth:`RawInputs.phase3_inputs`: the raw frames the Phase 3 assets are built from;
* :meth:`RawInputs.quarantine`: the rows that break a domain rule and the partitions that read them
  (``nba_precompute.raw.quarantine``): a run refuses those partitions, and only those;
* :meth:`RawInputs.input_versions`: the input version of every partition (``nba_precompute.raw.versions``).

Each is computed once per instance and date range (or season set); an error (a file missing, corrupt or
unparseable: ``RawDataError`` naming file, line and value) is kept and raised again, so every step of a
run gets the same answer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from nba_precompute.raw import domain, readers, season_2020, versions
from nba_precompute.raw.quarantine import Quarantine, quarantine
from nba_precompute.raw.sources import RawSources


@dataclass(frozen=True)
class Phase3RawInputs:
    """The raw frames the Phase 3 assets are built from. Rows that break a domain rule are in them: the
    partitions that read such a row are refused before anything is computed (:meth:`RawInputs.quarantine`)."""

    schedule: pl.DataFrame
    player_boxscores: pl.DataFrame
    team_game_logs: pl.DataFrame
    shots: pl.DataFrame  # the shot charts of the seasons in the run's date range that have one
    shot_seasons: list[int]  # the start years of those seasons


_EMPTY_SHOTS_SCHEMA = {"game_id": pl.String, "game_date": pl.Date, "team_id": pl.Int64, "player_id": pl.Int64,
                       "shot_made": pl.Boolean, "shot_type": pl.String, "basic_zone": pl.String,
                       "shot_distance": pl.Float64, readers.SOURCE_LINE: pl.Int64}


class RawInputs:
    """The raw data directory ``directory`` as the inputs of the partitions of ``seasons`` (the game
    calendar's seasons: ``season_year``, ``season_start_date``, ``span_end``; see
    ``nba_precompute.partitions.GameCalendar``), reading the files through ``sources`` (default: a new
    :class:`~nba_precompute.raw.sources.RawSources`; a run passes the one its calendar parsed).

    Every method takes the partitions' date range [start, end] and works on the whole seasons it
    touches (their windows read every earlier night of the season, and across the boundary what
    ``versions.read_windows`` says). Errors are the readers' ``RawDataError``.
    """

    def __init__(self, directory: str | Path, seasons: pl.DataFrame, sources: RawSources | None = None):
        self.path = Path(directory)
        self.seasons = seasons.select("season_year", "season_start_date", "span_end")
        self.sources = sources if sources is not None else RawSources(self.path)
        self._phase3: dict[tuple[dt.date, dt.date], object] = {}
        self._kept: dict[tuple, object] = {}  # windows, versions, quarantines: kept by release()

    def release(self) -> None:
        """Forget the parsed files and Phase 3 frames (parsed again when asked for); what was derived
        from them (windows, versions, quarantine) is kept."""
        self.sources = RawSources(self.path)
        self._phase3.clear()

    def seasons_between(self, start: dt.date, end: dt.date) -> tuple[int, ...]:
        """Start years of the seasons whose [opening night, span end] overlaps [start, end]."""
        hit = self.seasons.filter(pl.col("season_start_date") <= end, pl.col("span_end") >= start)
        return tuple(hit.get_column("season_year").sort().to_list())

    def _once(self, key: tuple, compute, store: dict | None = None):
        """``compute()`` once per ``key`` in ``store`` (default: what release() keeps), its result or its
        ``RawDataError`` kept: asked again, the same result, or the same error raised again."""
        store = self._kept if store is None else store
        if key not in store:
            try:
                store[key] = compute()
            except readers.RawDataError as exc:
                store[key] = exc
        out = store[key]
        if isinstance(out, readers.RawDataError):
            raise readers.RawDataError(str(out)) from out
        return out

    def windows(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """``versions.read_windows`` of every day of the seasons [start, end] touches."""
        return self._windows(self.seasons_between(start, end))

    def _windows(self, seasons: tuple[int, ...]) -> pl.DataFrame:
        def compute() -> pl.DataFrame:
            frame = self.seasons.filter(pl.col("season_year").is_in(list(seasons)))
            return versions.read_windows(frame, self.sources.schedule(season_2020.SEASON_YEAR in seasons))
        return self._once(("windows", seasons), compute)

    def _reach(self, windows: pl.DataFrame) -> list[int]:
        """The seasons with a night the windows read, or a day of theirs."""
        if windows.is_empty():
            return []
        first = min(windows.get_column("first_night").min(), windows.get_column("partition_date").min())
        return list(self.seasons_between(first, windows.get_column("partition_date").max()))

    def input_versions(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """The input version of every versioned table on every day of the seasons [start, end] touches
        (``versions.partition_versions``: ``table_name``, ``partition_date``, ``input_version``), from the
        nights their windows read (the previous season's too, where they reach it).

        Raises:
            RawDataError: a file is missing or malformed (naming the file, line and value).
        """
        seasons = self.seasons_between(start, end)

        def compute() -> pl.DataFrame:
            windows = self.windows(start, end)
            reach = self._reach(windows)
            nights = versions.raw_night_versions(self.sources, reach, season_2020.SEASON_YEAR in reach)
            frame = self.seasons.filter(pl.col("season_year").is_in(list(seasons)))
            return versions.partition_versions(nights, frame, windows=windows)
        return self._once(("versions", seasons), compute)

    def quarantine(self, start: dt.date, end: dt.date) -> Quarantine:
        """The rows of the raw inputs that break a domain rule, and the partitions that read them
        (``nba_precompute.raw.quarantine``) among the days of the seasons [start, end] touches and of
        the season after them.

        Checked: the hoopR schedule, team logs and player box scores (every row: one file each for every
        season), in the order of ``domain.validate_phase3_inputs``, and the shot chart of each season of
        [start, end] (no other season reads it); the 2020-21 source, when the windows reach 2020-21, is read and so checked by
        its own reader (a broken row there is a whole-file error).

        Raises:
            RawDataError: a file is missing, corrupt or unparseable (the message names the file, line,
                column and value).
        """
        seasons = self.seasons_between(start, end)
        # the partitions listed: those of these seasons and of the next one (the only other season whose
        # partitions can read a night of theirs: previous-season rosters, MLFS's 365 days)
        listed = tuple(sorted({*seasons, *(s for s in self.seasons.get_column("season_year").to_list()
                                          if seasons and s == max(seasons) + 1)}))

        def compute() -> Quarantine:
            reach = self._reach(self._windows(seasons))
            windows = self._windows(listed)
            raw, src = self.sources, domain.Phase3Sources.under(self.path)
            schedule = raw.hoopr_schedule()
            shots = {}
            for season in seasons:  # a shot chart is read by its own season only (see raw.quarantine)
                if raw.is_season_2020(season):  # its reader checked it
                    continue
                frame = raw.shots(season)
                if frame is not None:
                    shots[season + 1] = frame
            violations = domain.phase3_violations(schedule, raw.hoopr_player_boxscores(),
                                                  raw.hoopr_team_game_logs(), shots, src)
            reconciled = raw.schedule(season_2020.SEASON_YEAR in reach)
            return quarantine(violations, reconciled, self.seasons, windows, src)
        return self._once(("quarantine", seasons), compute)

    def require_valid(self, start: dt.date, end: dt.date) -> None:
        """Refuse when any partition in [start, end] reads a quarantined row (for a command that must
        not go on around them, such as ``nba-precompute refresh``).

        Raises:
            RawDataError: one line per quarantined row: file, line, rule, value, the partitions it blocks.
        """
        q = self.quarantine(start, end)
        hit = q.blocked.filter(pl.col("partition_date").is_between(start, end))
        if hit.height:
            raise readers.RawDataError("raw rows that break a domain rule are read by partitions of "
                                       f"{start}..{end}:\n" + "\n".join(q.lines(hit, limit=20)))

    def refuse(self, table_name: str, days: Sequence[dt.date]) -> str | None:
        """``None`` when no partition of ``table_name`` on ``days`` reads a quarantined row, else the
        refusal (:meth:`Quarantine.refuse`).

        Raises:
            RawDataError: a file is missing, corrupt or unparseable.
        """
        return self.quarantine(min(days), max(days)).refuse(table_name, days)

    def phase3_inputs(self, start: dt.date, end: dt.date) -> Phase3RawInputs:
        """The raw inputs of Phase 3 for the dates [start, end]: the schedule, team logs and player box
        scores (every season; the 2020-21 source only when [start, end] touches 2020-21) and the shot
        chart of each season with a game in [start, end] (a season after the source's last one has
        none). Kept until :meth:`release`.

        Raises:
            RawDataError: a file is missing, corrupt or unparseable (the message names the file, line,
                column and value).
        """
        return self._once((start, end), lambda: self._read_phase3(start, end), self._phase3)

    def _read_phase3(self, start: dt.date, end: dt.date) -> Phase3RawInputs:
        raw = self.sources
        with_2020 = season_2020.SEASON_YEAR in self.seasons_between(start, end)
        schedule = raw.schedule(with_2020)
        seasons = sorted(schedule.filter(pl.col("game_date").is_between(start, end))
                         .get_column("season_year").unique().to_list())
        shots, shot_seasons = [], []
        for season in seasons:
            frame = raw.shots(season)
            if frame is None:  # a season after the shot-chart source's last one: no chart
                continue
            shots.append(frame)
            shot_seasons.append(season)
        all_shots = (pl.concat(shots, how="diagonal_relaxed") if shots
                     else pl.DataFrame(schema=_EMPTY_SHOTS_SCHEMA))
        return Phase3RawInputs(schedule, raw.player_boxscores(with_2020), raw.team_game_logs(with_2020), all_shots,
                               shot_seasons)
