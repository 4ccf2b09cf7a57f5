"""The one partitions definition and the calendar of the raw data (SPEC §2; issues "every season in
the data" and "tonight's slate").

Partition key = calendar date D (US Eastern, as the NBA dates games). The definition is Dagster's plain
``DailyPartitionsDefinition`` from the first season's opening night, with no end date and
``end_offset=8`` (the week after today is partitions already: tonight's slate after an All-Star break is
one in the morning), and **no exclusions**: Dagster hashes
and walks a definition's exclusions on many UI and storage paths (once per partition record of an
asset check), and 1,140 excluded days made the check pages take a minute. Without exclusions the
definition is a few scalars, and new nights, a new season's schedule or today's slate need no
code-location reload: the definition grows with the clock, and what may run is decided by the raw data.

Which partitions may be materialised is the calendar's business (:class:`GameCalendar`, read from the
raw files, refreshed when a file changes):

* every day of a season in the raw data, from its opening night to the day before the next season's
  opening night (or to its last scheduled date when the next season is not in the data): days without
  games (All-Star break, off-season) are materialised as empty partitions with ``no_games: true``;
* up to the **horizon**: tonight's slate, the first scheduled game date whose games are not all in the
  raw data yet. Every night before it is in, so its pre-game tables (upcoming context, Phase 4, MLFS)
  can be built; its box-score tables (player/team game summaries) wait for its box scores;
* days of seasons missing from the raw data (2021-22), before the first season or after the horizon
  are refused with one line saying why.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from nba_precompute import config
from nba_precompute.raw.sources import RawSources, raw_fingerprint
from nba_precompute.schemas import is_regular_season

if TYPE_CHECKING:  # Dagster is imported where a definition is built: the launcher's calendar needs none
    from dagster import DailyPartitionsDefinition, TimeWindowPartitionMapping

PARTITIONS_TIMEZONE = "America/New_York"
# How far back Dagster's declared history dependency reaches, in partitions (calendar days). A regular
# season spans at most ~180 days from opening night to its last date, so this always covers the whole
# season before D; most assets read from the opening night of D's season (the two that read further
# back declare the extra days: history_before_d(extra_days)).
HISTORY_PARTITIONS = 200

# the Phase 3 tables built from a night's box scores: materialised for D only once D's games are in
BOX_SCORE_TABLES = ("nba_analytics/player_game_summary", "nba_analytics/team_offense_game_summary",
                    "nba_analytics/team_defense_game_summary")


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


@dataclass(frozen=True)
class GameCalendar:
    """Seasons and game dates of the raw data, and how far the partitions may run.

    ``seasons``: one row per season: ``season_year`` (start year), ``season_start_date`` (opening
    night), ``season_end_date`` (last scheduled regular-season date), ``game_dates`` (game dates up to
    the horizon), ``span_end`` (last day that belongs to the season: the day before the next season's
    opening night when that season is in the data, else the last scheduled date).
    ``game_dates``: every regular-season game date up to the horizon (tonight included), ascending.
    ``scheduled``: the later scheduled game dates (after tonight). ``not_in``: per game date whose games
    are not all in the raw data, the ids of the missing games.
    """

    seasons: pl.DataFrame
    game_dates: tuple[dt.date, ...]
    scheduled: tuple[dt.date, ...] = ()
    not_in: tuple[tuple[dt.date, tuple[str, ...]], ...] = ()
    # the last day of Dagster's calendar (today + LOOKAHEAD_DAYS; :func:`game_calendar` sets it): days
    # after it are not partitions yet, whatever the raw data allows. None: no such limit (hand-built)
    calendar_end: dt.date | None = None

    @classmethod
    def from_schedule(cls, schedule: pl.DataFrame) -> GameCalendar:
        """From schedule rows (``game_id``, ``game_date``, ``season_year``); regular season only, every
        game taken as in."""
        return cls.from_game_dates(schedule.filter(is_regular_season(pl.col("game_id"))))

    @classmethod
    def from_game_dates(cls, games: pl.DataFrame) -> GameCalendar:
        """From regular-season rows with ``season_year``, ``game_date`` (duplicates allowed) and
        optionally ``played`` (the day's games are all in the raw data; default true) and
        ``games_not_in`` (their ids)."""
        if "played" not in games.columns:
            games = games.with_columns(pl.lit(True).alias("played"))
        if "games_not_in" not in games.columns:
            games = games.with_columns(pl.lit([], pl.List(pl.String)).alias("games_not_in"))
        per_day = games.group_by("season_year", "game_date").agg(
            pl.col("played").all(), pl.col("games_not_in").list.explode(keep_nulls=False, empty_as_null=False).unique().sort()).sort("game_date")
        waiting = per_day.filter(~pl.col("played"))
        horizon = (waiting.item(0, "game_date") if waiting.height
                   else per_day.get_column("game_date").max() if per_day.height else None)
        seasons = per_day.group_by("season_year").agg(
            pl.col("game_date").min().alias("season_start_date"),
            pl.col("game_date").max().alias("season_end_date"),
            (pl.col("game_date") <= horizon).sum().cast(pl.Int64).alias("game_dates"),
        ).sort("season_year").with_columns(
            pl.when(pl.col("season_year").shift(-1) == pl.col("season_year") + 1)
            .then(pl.col("season_start_date").shift(-1) - pl.duration(days=1))
            .otherwise(pl.col("season_end_date")).alias("span_end"))
        dates = tuple(d for d in per_day.get_column("game_date").to_list() if horizon is not None and d <= horizon)
        later = tuple(d for d in per_day.get_column("game_date").to_list() if horizon is not None and d > horizon)
        not_in = tuple((r["game_date"], tuple(r["games_not_in"])) for r in waiting.iter_rows(named=True))
        return cls(seasons, dates, later, not_in)

    @property
    def first(self) -> dt.date:
        """The first partition: the first season's opening night."""
        return self.seasons.item(0, "season_start_date")

    @property
    def horizon(self) -> dt.date:
        """The last day that may be materialised: tonight's slate when a scheduled game date is not in
        yet, else the last game date of the raw data."""
        return self.game_dates[-1]

    @property
    def last(self) -> dt.date:
        """Alias of :attr:`horizon` (the newest partition that may run)."""
        return self.horizon

    @property
    def tonight(self) -> dt.date | None:
        """Tonight's slate: the first scheduled game date whose games are not all in the raw data (every
        night before it is), or ``None`` when every scheduled game is in."""
        return self.not_in[0][0] if self.not_in else None

    @property
    def last_night(self) -> dt.date | None:
        """The newest game date whose games are all in the raw data."""
        done = [d for d in self.game_dates if d != self.tonight]
        return done[-1] if done else None

    def missing_games(self, day: dt.date) -> tuple[str, ...]:
        """Ids of the games of ``day`` not in the raw data yet (empty when all are, or none is scheduled)."""
        return next((ids for d, ids in self.not_in if d == day), ())

    def spans(self) -> list[tuple[dt.date, dt.date]]:
        """The ranges of days that may be materialised, ascending: each season of the raw data from its
        opening night to ``span_end`` (its off-season included when the next season is in the data),
        clipped to the horizon."""
        out = []
        last = self.horizon if self.calendar_end is None else min(self.horizon, self.calendar_end)
        for r in self.seasons.iter_rows(named=True):
            if r["season_start_date"] > last:
                continue
            end = min(r["span_end"], last)
            if out and out[-1][1] + dt.timedelta(days=1) == r["season_start_date"]:
                out[-1] = (out[-1][0], end)
            else:
                out.append((r["season_start_date"], end))
        return out

    @property
    def partition_days(self) -> tuple[dt.date, ...]:
        """Every day that may be materialised (see :meth:`spans`), ascending."""
        return tuple(d for a, b in self.spans() for d in _days(a, b))

    def nearest(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The last game date strictly before ``day`` and the first strictly after it (None at the ends)."""
        before = [d for d in self.game_dates if d < day]
        after = [d for d in (*self.game_dates, *self.scheduled) if d > day]
        return (before[-1] if before else None, after[0] if after else None)

    def season_of(self, day: dt.date) -> int | None:
        """Start year of the season whose [opening night, span end] contains ``day``, else None."""
        hit = self.seasons.filter((pl.col("season_start_date") <= day) & (pl.col("span_end") >= day))
        return int(hit.item(0, "season_year")) if hit.height else None

    def seasons_between(self, start: dt.date, end: dt.date) -> list[int]:
        """Start years of the seasons whose [opening night, span end] overlaps [start, end]."""
        hit = self.seasons.filter((pl.col("season_start_date") <= end) & (pl.col("span_end") >= start))
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

    def _waiting(self) -> str:
        ids = self.missing_games(self.horizon)
        return f"{len(ids)} game(s): {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}"

    def refuse(self, days: Sequence[dt.date], box_scores: bool = False) -> str | None:
        """``None`` when every day of ``days`` may be materialised (``box_scores``: box-score tables
        too); else one line naming the first day refused, why, and how many are."""
        allowed = set(self.partition_days)  # the days explain() accepts, as one set (a run holds ~1,400)
        if box_scores:
            allowed.discard(self.tonight)
        bad = [(d, why) for d in days if d not in allowed and (why := self.explain(d, box_scores)) is not None]
        if not bad:
            return None
        more = f" ({len(bad)} of the run's {len(days)} partitions refused)" if len(bad) > 1 else ""
        return bad[0][1] + more

    def explain(self, day: dt.date, box_scores: bool = False) -> str | None:
        """``None`` when partition ``day`` may be materialised (``box_scores``: its box-score tables
        too); otherwise one line saying why not."""
        if day < self.first:
            return (f"{day} is before the first season in the raw data ({season_label(self.seasons.item(0, 'season_year'))}"
                    f" opens {self.first})")
        if self.calendar_end is not None and day > self.calendar_end and day <= self.horizon:
            return (f"{day} is more than {LOOKAHEAD_DAYS} days ahead: Dagster's calendar ends at "
                    f"{self.calendar_end} (today + {LOOKAHEAD_DAYS}); it becomes a partition on "
                    f"{day - dt.timedelta(days=LOOKAHEAD_DAYS)}")
        if day > self.horizon:
            if self.tonight is not None:
                return (f"{day} is after tonight's slate {self.tonight}: it can run once every night before it is "
                        f"in the raw data; the box scores of {self.tonight} are not in yet ({self._waiting()})")
            return f"{day} is after the last game date in the raw data ({self.horizon}); no schedule beyond it yet"
        if self.season_of(day) is None:
            before = self.seasons.filter(pl.col("span_end") < day).tail(1)
            after = self.seasons.filter(pl.col("season_start_date") > day).head(1)
            return (f"{day}: no season of the raw data covers this day ({season_label(before.item(0, 'season_year'))} "
                    f"ends {before.item(0, 'span_end')}, {season_label(after.item(0, 'season_year'))} opens "
                    f"{after.item(0, 'season_start_date')}; the seasons in between are not in the raw data)")
        if box_scores and day == self.tonight:
            return (f"the box scores of {day} are not in the raw data yet ({self._waiting()}); a night's box-score "
                    "tables are materialised when they arrive")
        return None

    def select(self, start: dt.date | None = None, end: dt.date | None = None,
               season: str | None = None) -> tuple[list[dt.date], str]:
        """The partitions a user asked for, and a note (empty, or one line saying how a season or a
        range was narrowed). ``season`` (e.g. ``"2023-24"``): that season's days (opening night to its
        span end); ``start`` alone: that one date; ``start`` and ``end``: the partitions in
        [start, end]; nothing: every partition that may be materialised.

        Raises:
            ValueError: one line for the user: dates together with a season, an unknown season, a
                season or range without partitions, END before START, a single date that may not be
                materialised (saying why).
        """
        every = self.partition_days
        if season is not None:
            if start is not None:
                raise ValueError("give either dates or a season, not both")
            year = parse_season(season)
            first, _ = self.season_range(year)
            last = self.seasons.filter(pl.col("season_year") == year).item(0, "span_end")
            days = [d for d in every if first <= d <= last]
            if not days:
                raise ValueError(f"season {season} has no partition yet: {self.explain(first)}")
            note = "" if days[-1] == last else (f"{season}: partitions through {days[-1]} (tonight's slate; "
                                               f"the season runs to {last})")
            return days, note
        if start is None:
            return list(every), ""
        if end is None:
            why = self.explain(start)
            if why is not None:
                raise ValueError(why)
            return [start], ""
        if end < start:
            raise ValueError(f"END {end} is before START {start}")
        days = [d for d in every if start <= d <= end]
        if not days:
            raise ValueError(f"{start}..{end} holds no partition: {self.explain(start)}")
        note = "" if (days[0], days[-1]) == (start, end) and len(days) == (end - start).days + 1 else (
            f"{start}..{end}: its partitions are {days[0]}...{days[-1]}"
            + (f"; {self.explain(end)}" if self.explain(end) else "")
            + ("" if len(days) == (days[-1] - days[0]).days + 1 else "; days of seasons not in the raw data skipped"))
        return days, note

    def partitions_definition(self) -> DailyPartitionsDefinition:
        """The daily partitions: from the first opening night, no end date (today included), no
        exclusions (see the module docstring)."""
        return daily_partitions_from(self.first, config.today_setting())


def contiguous_spans(days: Sequence[dt.date]) -> list[list[dt.date]]:
    """``days`` (any order) as runs of consecutive calendar days, ascending."""
    out: list[list[dt.date]] = []
    for d in sorted(days):
        if out and out[-1][-1] + dt.timedelta(days=1) == d:
            out[-1].append(d)
        else:
            out.append([d])
    return out


def season_label(season_year: int) -> str:
    """``2023`` -> ``"2023-24"``."""
    return f"{season_year}-{(season_year + 1) % 100:02d}"


def parse_season(label: str) -> int:
    """``"2023-24"`` -> 2023 (the start year).

    A bare year is refused: the shot-chart files name a season by its END year and the partitions by
    its start year, so ``2023`` could be 2022-23 or 2023-24.

    Raises:
        ValueError: any other form (one line; for a bare year, naming the two seasons it could mean).
    """
    text = label.strip()
    head, _, tail = text.partition("-")
    if head.isdigit() and len(head) == 4 and tail.isdigit() and len(tail) == 2 and int(tail) == (int(head) + 1) % 100:
        return int(head)
    if head.isdigit() and len(head) == 4 and not tail:
        year = int(head)
        raise ValueError(f"season {text!r} is ambiguous: {season_label(year - 1)} or {season_label(year)}? "
                         f"give the season as start year and the end's two digits, e.g. --season {season_label(year)}")
    raise ValueError(f"season {label!r}: expected the start year and the end's two digits, e.g. 2023-24")


@functools.lru_cache(maxsize=8)
def _calendar(raw_dir: str, fingerprint: tuple) -> GameCalendar:
    # the parsed files stay for the run's Phase 3 steps (RawDataResource takes them): one parse per run
    return GameCalendar.from_game_dates(RawSources.for_calendar(raw_dir, fingerprint).game_dates())


# Dagster's calendar runs this many days past today (end_offset), so that tonight's slate after a few
# days without games (All-Star break, Christmas Eve) is already a partition in the morning
LOOKAHEAD_DAYS = 7


def game_calendar(raw_dir: str | Path | None = None) -> GameCalendar:
    """The game calendar of the raw data under ``raw_dir`` (default ``NBA_RAW_DATA_DIR``), read again
    only when a file of the directory changed (size or modification time): a long-running code server
    sees new box scores and a new season's schedule without a reload.

    Raises:
        RawDataError: the raw schedule is missing or unreadable (the message names the file and says
            to set ``NBA_RAW_DATA_DIR``).
    """
    path = str(Path(raw_dir or config.raw_data_dir()).resolve())
    calendar = _calendar(path, raw_fingerprint(path))
    return dataclasses.replace(calendar, calendar_end=config.today() + dt.timedelta(days=LOOKAHEAD_DAYS))


def daily_partitions_from(first: dt.date, today: dt.date | None = None) -> DailyPartitionsDefinition:
    """Daily partitions from ``first`` up to :data:`LOOKAHEAD_DAYS` days after the product's today, with
    no end date: ``end_offset`` counts from the clock's today (US Eastern), so the definition grows with
    the clock and tonight's partitions appear without a reload.

    For a replay (``today`` given: ``NBA_PRECOMPUTE_TODAY``) the offset is shifted by the days between
    the clock's today and ``today`` (negative when the replayed morning is more than a week ago), so the
    last partition is ``today`` + :data:`LOOKAHEAD_DAYS`. Not a fixed ``end_date``: Dagster 1.13.27 pages
    partition keys newest-first (``TimeWindowPartitionsDefinition.get_paginated_partition_keys``, the UI's
    ``partitionKeyConnection(ascending: false)``) from the clock's now, ignoring an end date before it,
    so the asset's Plots view (the newest 120 keys) listed days after the definition's end, none of them
    materialised; with an offset it lists the replayed season's days. A code location loaded before
    midnight keeps its offset, so its replay gains one partition per clock day until it is reloaded."""
    offset = 1 + LOOKAHEAD_DAYS
    if today is not None:
        offset -= (_clock_today() - today).days
    return _daily_partitions(first, offset)


def _clock_today() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(PARTITIONS_TIMEZONE)).date()


@functools.cache
def _daily_partitions(first: dt.date, end_offset: int) -> DailyPartitionsDefinition:
    from dagster import DailyPartitionsDefinition

    return DailyPartitionsDefinition(start_date=first.isoformat(), timezone=PARTITIONS_TIMEZONE,
                                     end_offset=end_offset)


def daily_partitions(raw_dir: str | Path | None = None) -> DailyPartitionsDefinition:
    """The partitions definition every partitioned asset and check shares (see the module docstring)."""
    return game_calendar(raw_dir).partitions_definition()


def history_before_d(extra_days: int = 0) -> TimeWindowPartitionMapping:
    """Partition D depends on the previous :data:`HISTORY_PARTITIONS` partitions (the as-of rule: D's
    history, strictly before D), plus ``extra_days`` for an asset that reads further back (the previous
    season's rosters for opening night, MLFS's 365-day opponent history)."""
    from dagster import TimeWindowPartitionMapping

    return TimeWindowPartitionMapping(start_offset=-(HISTORY_PARTITIONS + extra_days), end_offset=-1,
                                      allow_nonexistent_upstream_partitions=True)


def history_through_d() -> TimeWindowPartitionMapping:
    """Partition D depends on the previous :data:`HISTORY_PARTITIONS` partitions and D itself."""
    from dagster import TimeWindowPartitionMapping

    return TimeWindowPartitionMapping(start_offset=-HISTORY_PARTITIONS, end_offset=0,
                                      allow_nonexistent_upstream_partitions=True)
