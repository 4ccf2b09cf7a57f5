"""The one partitions definition, built from the raw data: every regular-season game date of every
season in the raw schedule is a daily partition (SPEC §2; issue "every season in the data").

Partition key = calendar date D of the games (US Eastern, as the NBA dates them). The definition is
Dagster's ``DailyPartitionsDefinition`` from the first season's opening night to the last scheduled
regular-season date, with every day that has no regular-season game listed in ``exclusions``: the
off-season, the All-Star break, the few in-season nights without games. A backfill of several seasons
therefore covers ~800 partitions, not ~1,900 calendar days, and the UI still shows a daily calendar.

The calendar is read from the raw files when the definitions load (:func:`game_calendar`, cached per
directory): the hoopR schedule (2022-23 onward, the season in progress with its whole schedule) and the
2020-21 team logs. A new season in the raw data needs no code change.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from nba_precompute import config
from nba_precompute.raw.sources import season_game_dates
from nba_precompute.schemas import is_regular_season

if TYPE_CHECKING:  # Dagster is imported where a definition is built: the launcher's calendar needs none
    from dagster import DailyPartitionsDefinition, TimeWindowPartitionMapping

PARTITIONS_TIMEZONE = "America/New_York"
# How far back Dagster's declared history dependency reaches, in partitions (game dates). A regular
# season has at most 164 game dates, so this always covers the whole season before D; the assets
# themselves read from the opening night of D's season (nothing crosses a season boundary).
HISTORY_PARTITIONS = 170


@dataclass(frozen=True)
class GameCalendar:
    """Regular-season game dates of every season in the raw data.

    ``seasons``: one row per season: ``season_year`` (start year), ``season_start_date`` (opening
    night), ``season_end_date`` (last scheduled regular-season date), ``game_dates`` (partitions).
    ``game_dates``: the partitions: every game date up to the newest one whose games are all in the raw
    data (``last_played``), ascending. Later scheduled dates (the rest of the season in progress) are
    in ``scheduled``, not yet partitions: they become partitions when their box scores arrive.
    """

    seasons: pl.DataFrame
    game_dates: tuple[dt.date, ...]
    scheduled: tuple[dt.date, ...] = ()

    @classmethod
    def from_schedule(cls, schedule: pl.DataFrame) -> GameCalendar:
        """From schedule rows (``game_id``, ``game_date``, ``season_year``); regular season only."""
        return cls.from_game_dates(schedule.filter(is_regular_season(pl.col("game_id"))))

    @classmethod
    def from_game_dates(cls, games: pl.DataFrame) -> GameCalendar:
        """From regular-season rows with ``season_year``, ``game_date`` (duplicates allowed) and
        optionally ``played`` (the day's games are all in the raw data; default true). The partitions
        end at the newest played date: scheduled dates after it are not partitions yet."""
        if "played" not in games.columns:
            games = games.with_columns(pl.lit(True).alias("played"))
        played = games.filter(pl.col("played")).get_column("game_date")
        last = played.max() if played.len() else None
        parts = games.filter(pl.col("game_date") <= last) if last is not None else games.head(0)
        seasons = games.group_by("season_year").agg(
            pl.col("game_date").min().alias("season_start_date"),
            pl.col("game_date").max().alias("season_end_date"),
        ).join(parts.group_by("season_year").agg(pl.col("game_date").n_unique().cast(pl.Int64).alias("game_dates")),
               on="season_year", how="left").with_columns(pl.col("game_dates").fill_null(0)).sort("season_year")
        dates = sorted(set(parts.get_column("game_date").to_list()))
        scheduled = sorted(set(games.get_column("game_date").to_list()) - set(dates))
        return cls(seasons, tuple(dates), tuple(scheduled))

    @property
    def first(self) -> dt.date:
        return self.game_dates[0]

    @property
    def last(self) -> dt.date:
        return self.game_dates[-1]

    def is_game_date(self, day: dt.date) -> bool:
        i = bisect.bisect_left(self.game_dates, day)
        return i < len(self.game_dates) and self.game_dates[i] == day

    def nearest(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The last game date strictly before ``day`` and the first strictly after it (None at the ends)."""
        i = bisect.bisect_left(self.game_dates, day)
        j = bisect.bisect_right(self.game_dates, day)
        return (self.game_dates[i - 1] if i > 0 else None,
                self.game_dates[j] if j < len(self.game_dates) else None)

    def season_of(self, day: dt.date) -> int | None:
        """Start year of the season whose [opening night, last date] contains ``day``, else None."""
        hit = self.seasons.filter((pl.col("season_start_date") <= day) & (pl.col("season_end_date") >= day))
        return int(hit.item(0, "season_year")) if hit.height else None

    def seasons_between(self, start: dt.date, end: dt.date) -> list[int]:
        """Start years of the seasons whose [opening night, last date] overlaps [start, end]."""
        hit = self.seasons.filter((pl.col("season_start_date") <= end) & (pl.col("season_end_date") >= start))
        return hit.get_column("season_year").to_list()

    def season_range(self, season_year: int) -> tuple[dt.date, dt.date]:
        """(opening night, last regular-season date) of a season.

        Raises:
            ValueError: the season is not in the raw data (naming the seasons that are).
        """
        hit = self.seasons.filter(pl.col("season_year") == season_year)
        if hit.is_empty():
            raise ValueError(f"season {season_label(season_year)} is not in the raw data; seasons: "
                             + ", ".join(season_label(s) for s in self.seasons.get_column("season_year")))
        return hit.item(0, "season_start_date"), hit.item(0, "season_end_date")

    def explain(self, day: dt.date) -> str | None:
        """``None`` when ``day`` is a partition; otherwise one line saying why not and naming the
        nearest partitions."""
        if self.is_game_date(day):
            return None
        before, after = self.nearest(day)
        season = self.season_of(day)
        if day in self.scheduled:
            why = (f"its games are scheduled but not in the raw box scores yet (they end at {self.last}); "
                   "it becomes a partition when they arrive")
        else:
            why = (f"no regular-season game that day ({season_label(season)} season)" if season is not None
                   else "no NBA regular season that day" if before and after
                   else f"outside the seasons in the raw data ({self.first}..{self.last})")
        near = " and ".join(str(d) for d in (before, after) if d is not None)
        return f"{day} is not a partition: {why}; nearest game dates: {near}"

    def select(self, start: dt.date | None = None, end: dt.date | None = None,
               season: str | None = None) -> tuple[list[dt.date], str]:
        """The partitions a user asked for, and a note (empty, or one line saying how a season or a
        range was narrowed to its partitions). ``season`` (e.g. ``"2023-24"``): that season's
        partitions; ``start`` alone: that one date; ``start`` and ``end``: the partitions in
        [start, end]; nothing: every partition.

        Raises:
            ValueError: one line for the user: dates together with a season, an unknown season, a
                season or range without partitions, END before START, a single date that is not a
                partition (naming the nearest game dates).
        """
        if season is not None:
            if start is not None:
                raise ValueError("give either dates or a season, not both")
            first, last = self.season_range(parse_season(season))
            days = [d for d in self.game_dates if first <= d <= last]
            if not days:
                raise ValueError(f"season {season} has no partition yet: none of its games is in the raw box scores")
            note = "" if days[-1] == last else (f"{season}: partitions through {days[-1]} (the newest night "
                                               f"whose games are in the raw data; the schedule runs to {last})")
            return days, note
        if start is None:
            return list(self.game_dates), ""
        if end is None:
            why = self.explain(start)
            if why is not None:
                raise ValueError(why)
            return [start], ""
        if end < start:
            raise ValueError(f"END {end} is before START {start}")
        days = [d for d in self.game_dates if start <= d <= end]
        if not days:
            raise ValueError(f"{start}..{end} holds no partition: {self.explain(start)}")
        note = "" if (days[0], days[-1]) == (start, end) else (
            f"{start}..{end}: its partitions are {days[0]}...{days[-1]} (days without games are not partitions)")
        return days, note

    def partitions_definition(self) -> DailyPartitionsDefinition:
        """The daily partitions: [first game date, last game date], days without games excluded."""
        from dagster import DailyPartitionsDefinition

        games = set(self.game_dates)
        days = pl.date_range(self.first, self.last, "1d", eager=True).to_list()
        excluded = [dt.datetime(d.year, d.month, d.day) for d in days if d not in games]
        return DailyPartitionsDefinition(
            start_date=self.first.isoformat(),
            end_date=(self.last + dt.timedelta(days=1)).isoformat(),  # exclusive
            timezone=PARTITIONS_TIMEZONE,
            exclusions=excluded or None,
        )


def season_label(season_year: int) -> str:
    """``2023`` -> ``"2023-24"``."""
    return f"{season_year}-{(season_year + 1) % 100:02d}"


def parse_season(label: str) -> int:
    """``"2023-24"`` or ``"2023"`` -> 2023.

    Raises:
        ValueError: any other form.
    """
    text = label.strip()
    head, _, tail = text.partition("-")
    if head.isdigit() and len(head) == 4 and (not tail or (tail.isdigit() and int(tail) == (int(head) + 1) % 100)):
        return int(head)
    raise ValueError(f"season {label!r}: expected the start year and the end's two digits, e.g. 2023-24")


@functools.cache
def _calendar(raw_dir: str) -> GameCalendar:
    return GameCalendar.from_game_dates(season_game_dates(raw_dir))


def game_calendar(raw_dir: str | Path | None = None) -> GameCalendar:
    """The game calendar of the raw data under ``raw_dir`` (default ``NBA_RAW_DATA_DIR``), read once
    per directory and process.

    Raises:
        RawDataError: the raw schedule is missing or unreadable (the message names the file and says
            to set ``NBA_RAW_DATA_DIR``).
    """
    return _calendar(str(Path(raw_dir or config.raw_data_dir()).resolve()))


def daily_partitions(raw_dir: str | Path | None = None) -> DailyPartitionsDefinition:
    """The partitions definition every partitioned asset and check shares (see the module docstring)."""
    return _partitions(str(Path(raw_dir or config.raw_data_dir()).resolve()))


@functools.cache
def _partitions(raw_dir: str) -> DailyPartitionsDefinition:
    return _calendar(raw_dir).partitions_definition()


def history_before_d() -> TimeWindowPartitionMapping:
    """Partition D depends on the previous :data:`HISTORY_PARTITIONS` partitions (the as-of rule: D's
    history, strictly before D)."""
    from dagster import TimeWindowPartitionMapping

    return TimeWindowPartitionMapping(start_offset=-HISTORY_PARTITIONS, end_offset=-1,
                                      allow_nonexistent_upstream_partitions=True)


def history_through_d() -> TimeWindowPartitionMapping:
    """Partition D depends on the previous :data:`HISTORY_PARTITIONS` partitions and D itself."""
    from dagster import TimeWindowPartitionMapping

    return TimeWindowPartitionMapping(start_offset=-HISTORY_PARTITIONS, end_offset=0,
                                      allow_nonexistent_upstream_partitions=True)
