"""The nightly schedule: materialise every asset for the newest game date whose games are all in.

``daily_refresh_schedule`` ticks at 09:00 America/New_York (the timezone the NBA dates games in and
the partitions use). A tick on calendar day T looks at the game dates of the last
:data:`CATCH_UP_DAYS` days before T (the partitions: regular-season game dates of the raw schedule)
and requests one run of ``daily_refresh_job`` (every materialisable asset: Phase 3, then Phase 4 with
their checks) for each of them whose games are all in the raw data - every regular-season game the
raw schedule lists that day has both teams' rows in the raw team game logs and player rows in the raw
player box scores. Normally that is last night's partition; a night whose box scores arrived late is
picked up by a later tick. The run key is the date, so Dagster launches a day at most once (a re-run
is a manual materialisation or backfill); runs are queued oldest first.

It skips, with the reason, when there is no game date in the window (off-season, All-Star break:
naming the nearest game dates) or when the window's games are not in the raw box scores yet (naming
them). The schedule is created STOPPED: turn it on under Automation in the UI (``dg dev`` runs the
daemon) or with ``dagster schedule start daily_refresh_schedule``.
"""

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    Definitions,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    definitions,
    schedule,
)

from nba_precompute.defs.resources import RawDataResource
from nba_precompute.partitions import PARTITIONS_TIMEZONE, GameCalendar, daily_partitions
from nba_precompute.raw import season_2020
from nba_precompute.raw.sources import PLAYED, RawSources, season_game_dates
from nba_precompute.transforms.common import expected_games

DAILY_CRON = "0 9 * * *"
CATCH_UP_DAYS = 7

daily_refresh_job = define_asset_job(
    "daily_refresh_job",
    selection=AssetSelection.all(),
    description="Every materialisable asset (Phase 3, then Phase 4, with their checks) for one day.",
)


def target_day(scheduled_time: dt.datetime) -> dt.date:
    """The last calendar day before a tick at ``scheduled_time``, in US Eastern time (the newest day
    whose games can be final). A naive ``scheduled_time`` is taken as UTC."""
    if scheduled_time.tzinfo is None:
        scheduled_time = scheduled_time.replace(tzinfo=dt.timezone.utc)
    return scheduled_time.astimezone(ZoneInfo(PARTITIONS_TIMEZONE)).date() - dt.timedelta(days=1)


def games_not_in(raw_dir: str | Path, first: dt.date, last: dt.date | None = None,
                 with_2020: bool = True) -> pl.DataFrame:
    """Regular-season games on [first, last] (default: ``first`` only) of the raw schedule, as played
    (``raw.sources.reconcile_schedule``: postponed games left out), that lack both teams' rows in the raw
    team game logs or any row in the raw player box scores: ``game_date``, ``game_id``, sorted (empty
    when all are in). ``with_2020=False`` leaves the 2020-21 source unread (for a window outside it).

    Raises :class:`nba_precompute.raw.readers.RawDataError` when a raw file is missing or unreadable.
    """
    last = last or first
    raw = RawSources(raw_dir)
    scheduled = (expected_games(raw.schedule(with_2020))
                 .filter(pl.col("game_date").is_between(first, last))
                 .select("game_date", "game_id", "game_status"))
    if scheduled.is_empty():
        return scheduled.drop("game_status")
    player_games = raw.player_boxscores(with_2020).select("game_id").unique()
    missing = pl.concat([
        scheduled.filter(pl.col("game_status") != PLAYED),
        scheduled.join(player_games, on="game_id", how="anti"),
    ]).select("game_date", "game_id").unique()
    return missing.sort("game_date", "game_id")


def nightly_targets(raw_dir: str | Path, day: dt.date,
                    loaded: Collection[str] | None = None) -> tuple[list[dt.date], str]:
    """The game dates of [day - CATCH_UP_DAYS + 1, day] whose games are all in the raw data, oldest
    first, and a one-line explanation (why nothing is due, or which games are still missing).

    The raw data is read afresh (new box scores make new partitions); ``loaded`` are the partition
    keys of the definitions currently loaded: a due date that is not one of them (box scores arrived
    after the code location loaded) is held back with a note to reload the code location.
    """
    calendar = GameCalendar.from_game_dates(season_game_dates(raw_dir))
    first = day - dt.timedelta(days=CATCH_UP_DAYS - 1)
    window = [d for d in (*calendar.game_dates, *calendar.scheduled) if first <= d <= day]
    if not window:
        before, after = calendar.nearest(day)
        after = after or next((d for d in calendar.scheduled if d > day), None)
        return [], (f"no regular-season game date in {first}..{day}; "
                    f"last game date {before or 'none'}, next {after or 'none'}")
    missing = games_not_in(raw_dir, window[0], window[-1],
                           with_2020=season_2020.SEASON_YEAR in calendar.seasons_between(window[0], window[-1]))
    incomplete = set(missing.get_column("game_date").to_list())
    due = [d for d in window if d not in incomplete]
    notes = []
    if incomplete:
        newest = max(incomplete)
        ids = missing.filter(pl.col("game_date") == newest).get_column("game_id").to_list()
        notes.append(f"{len(incomplete)} game date(s) of {first}..{day} not in the raw box scores yet, newest "
                     f"{newest}: {len(ids)} game(s) missing ({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''})")
    if loaded is not None:
        unloaded = [d for d in due if d.isoformat() not in loaded]
        if unloaded:
            due = [d for d in due if d not in unloaded]
            notes.append(f"new game date(s) {', '.join(map(str, unloaded))} in the raw data are not partitions of "
                         "the loaded definitions yet: reload the code location (UI: Deployment -> Reload)")
    return due, "; ".join(notes)


@schedule(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule=DAILY_CRON,
    execution_timezone=PARTITIONS_TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description="09:00 ET: materialise every asset for the newest game dates whose games are all in the raw data.",
)
def daily_refresh_schedule(context: ScheduleEvaluationContext, raw_data: RawDataResource):
    day = target_day(context.scheduled_execution_time)
    due, note = nightly_targets(raw_data.path, day, set(daily_partitions().get_partition_keys()))
    if not due:
        return SkipReason(note)
    if note:
        context.log.info(note)
    return [RunRequest(run_key=d.isoformat(), partition_key=d.isoformat(),
                       tags={"nba_precompute/trigger": "daily_refresh_schedule"}) for d in due]


@definitions
def schedule_definitions() -> Definitions:
    """The nightly job and its schedule."""
    return Definitions(jobs=[daily_refresh_job], schedules=[daily_refresh_schedule])
