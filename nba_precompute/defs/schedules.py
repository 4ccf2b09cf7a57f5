"""The nightly schedule: materialise every asset for the newest day whose games are all in.

``daily_refresh_schedule`` ticks at 09:00 America/New_York (the timezone the NBA dates games in and
the partitions use). At a tick on calendar day T it targets partition D = T - 1 day (last night's
games, final by then) and requests one run of ``daily_refresh_job`` (every materialisable asset:
Phase 3 for D, then Phase 4 for D, with their checks) when:

* D is a partition of :data:`nba_precompute.partitions.daily_partitions` (otherwise it skips, naming
  the covered range: e.g. off-season or a season whose shot charts are not ingested), and
* every regular-season game the raw schedule lists on D has both teams' rows in the raw team game
  logs and player rows in the raw player box scores (otherwise it skips, naming the missing games;
  the next tick tries again). A day without games is materialised too, so its partitions are
  recorded as "materialised, no games".

The run key is D, so a day is launched at most once by the schedule (a re-run is a manual
materialisation or backfill). The schedule is created STOPPED: turn it on under Automation in the UI
(``dagster dev`` needs ``dagster-daemon``, which it starts) or with
``dagster schedule start daily_refresh_schedule``.
"""

import datetime as dt
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
from nba_precompute.partitions import PARTITIONS_TIMEZONE, daily_partitions
from nba_precompute.raw.readers import (
    read_player_boxscores,
    read_schedule,
    read_team_game_logs,
)
from nba_precompute.schemas import is_regular_season

DAILY_CRON = "0 9 * * *"

daily_refresh_job = define_asset_job(
    "daily_refresh_job",
    selection=AssetSelection.all(),
    description="Every materialisable asset (Phase 3, then Phase 4, with their checks) for one day.",
)


def target_day(scheduled_time: dt.datetime) -> dt.date:
    """The partition a tick at ``scheduled_time`` targets: the previous calendar day in US Eastern time.

    A naive ``scheduled_time`` is taken as UTC.
    """
    if scheduled_time.tzinfo is None:
        scheduled_time = scheduled_time.replace(tzinfo=dt.timezone.utc)
    return scheduled_time.astimezone(ZoneInfo(PARTITIONS_TIMEZONE)).date() - dt.timedelta(days=1)


def games_not_in(raw_dir, day: dt.date) -> list[str]:
    """Regular-season game ids scheduled on ``day`` in the raw schedule that lack both teams' rows in
    the raw team game logs or any row in the raw player box scores (sorted; empty when all are in).

    Raises :class:`nba_precompute.raw.readers.RawDataError` when a raw file is missing or unreadable.
    """
    scheduled = (read_schedule(raw_dir)
                 .filter(pl.col("game_date") == day, is_regular_season(pl.col("game_id")))
                 .select("game_id"))
    if scheduled.is_empty():
        return []
    team_rows = read_team_game_logs(raw_dir).group_by("game_id").agg(pl.col("team_id").n_unique().alias("teams"))
    player_games = read_player_boxscores(raw_dir).select("game_id").unique()
    missing = (scheduled
               .join(team_rows.filter(pl.col("teams") == 2), on="game_id", how="anti")
               .vstack(scheduled.join(player_games, on="game_id", how="anti"))
               .unique())
    return sorted(missing.get_column("game_id").to_list())


@schedule(
    name="daily_refresh_schedule",
    job=daily_refresh_job,
    cron_schedule=DAILY_CRON,
    execution_timezone=PARTITIONS_TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description="09:00 ET: materialise every asset for yesterday (ET) once all of its games are in the raw data.",
)
def daily_refresh_schedule(context: ScheduleEvaluationContext, raw_data: RawDataResource):
    day = target_day(context.scheduled_execution_time)
    key = day.isoformat()
    if not daily_partitions.has_partition_key(key):
        keys = daily_partitions.get_partition_keys()
        return SkipReason(f"{key} is not a partition (the partitions cover {keys[0]}..{keys[-1]})")
    missing = games_not_in(raw_data.path, day)
    if missing:
        return SkipReason(f"{len(missing)} game(s) of {key} not in the raw box scores yet: {', '.join(missing)}")
    return RunRequest(run_key=key, partition_key=key, tags={"nba_precompute/trigger": "daily_refresh_schedule"})


@definitions
def schedule_definitions() -> Definitions:
    """The nightly job and its schedule."""
    return Definitions(jobs=[daily_refresh_job], schedules=[daily_refresh_schedule])
