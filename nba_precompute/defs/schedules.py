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
from nba_precompute.partitions import PARTITIONS_TIMEZONE, game_calendar
from nba_precompute.raw.readers import (
    read_player_boxscores,
    read_schedule,
    read_team_game_logs,
)
from nba_precompute.schemas import is_regular_season

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


def games_not_in(raw_dir: str | Path, first: dt.date, last: dt.date | None = None) -> pl.DataFrame:
    """Regular-season games scheduled on [first, last] (default: ``first`` only) in the raw schedule
    that lack both teams' rows in the raw team game logs or any row in the raw player box scores:
    ``game_date``, ``game_id``, sorted (empty when all are in).

    Raises :class:`nba_precompute.raw.readers.RawDataError` when a raw file is missing or unreadable.
    """
    last = last or first
    scheduled = (read_schedule(Path(raw_dir))
                 .filter(pl.col("game_date").is_between(first, last), is_regular_season(pl.col("game_id")))
                 .select("game_date", "game_id"))
    if scheduled.is_empty():
        return scheduled
    team_rows = read_team_game_logs(Path(raw_dir)).group_by("game_id").agg(
        pl.col("team_id").n_unique().alias("teams"))
    player_games = read_player_boxscores(Path(raw_dir)).select("game_id").unique()
    missing = pl.concat([
        scheduled.join(team_rows.filter(pl.col("teams") == 2), on="game_id", how="anti"),
        scheduled.join(player_games, on="game_id", how="anti"),
    ]).unique()
    return missing.sort("game_date", "game_id")


def nightly_targets(raw_dir: str | Path, day: dt.date) -> tuple[list[dt.date], str]:
    """The game dates of [day - CATCH_UP_DAYS + 1, day] whose games are all in the raw data, oldest
    first, and a one-line explanation (why nothing is due, or which games are still missing)."""
    calendar = game_calendar(raw_dir)
    first = day - dt.timedelta(days=CATCH_UP_DAYS - 1)
    window = [d for d in calendar.game_dates if first <= d <= day]
    if not window:
        before, after = calendar.nearest(day)
        return [], (f"no regular-season game date in {first}..{day}; "
                    f"last game date {before or 'none'}, next {after or 'none'}")
    missing = games_not_in(raw_dir, window[0], window[-1])
    incomplete = set(missing.get_column("game_date").to_list())
    due = [d for d in window if d not in incomplete]
    note = ""
    if incomplete:
        newest = max(incomplete)
        ids = missing.filter(pl.col("game_date") == newest).get_column("game_id").to_list()
        note = (f"{len(incomplete)} game date(s) of {first}..{day} not in the raw box scores yet, newest "
                f"{newest}: {len(ids)} game(s) missing ({', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''})")
    return due, note


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
    due, note = nightly_targets(raw_data.path, day)
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
