"""The nightly schedule: which partition a tick targets, when it waits, and how it is registered."""

from __future__ import annotations

import datetime as dt
import gzip
from zoneinfo import ZoneInfo

import polars as pl
from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    SkipReason,
    build_schedule_context,
)

from nba_precompute.defs.resources import RawDataResource
from nba_precompute.defs.schedules import (
    daily_refresh_schedule,
    games_not_in,
    nightly_targets,
    target_day,
)
from nba_precompute.partitions import daily_partitions
from nba_precompute.raw import readers
from nba_precompute_tests.dagster_helpers import loaded_definitions

ET = ZoneInfo("America/New_York")


def _tick(when: dt.datetime, raw_dir) -> RunRequest | SkipReason:
    context = build_schedule_context(scheduled_execution_time=when,
                                     resources={"raw_data": RawDataResource(directory=str(raw_dir))})
    return daily_refresh_schedule(context)


def test_target_day_is_the_previous_day_in_eastern_time():
    assert target_day(dt.datetime(2022, 12, 16, 9, 0, tzinfo=ET)) == dt.date(2022, 12, 15)
    # 02:30 UTC on Dec 16 is 21:30 ET on Dec 15: the previous ET day is Dec 14.
    assert target_day(dt.datetime(2022, 12, 16, 2, 30, tzinfo=dt.timezone.utc)) == dt.date(2022, 12, 14)
    assert target_day(dt.datetime(2022, 12, 16, 2, 30)) == dt.date(2022, 12, 14)  # naive = UTC


def _requests(result) -> list[RunRequest]:
    assert isinstance(result, list) and all(isinstance(r, RunRequest) for r in result), result
    return result


def test_tick_requests_last_nights_partition_once_its_games_are_in(raw_data_dir):
    requests = _requests(_tick(dt.datetime(2022, 12, 16, 9, 0, tzinfo=ET), raw_data_dir))
    assert requests[-1].partition_key == "2022-12-15"  # the newest game date, last in the queue
    # the catch-up window: every game date of the last 7 days, oldest first, one run key per date
    assert [r.partition_key for r in requests] == [f"2022-12-{d:02d}" for d in range(9, 16)]
    assert [r.run_key for r in requests] == [r.partition_key for r in requests]


def test_season_in_progress_tick_targets_the_newest_complete_day(raw_data_dir):
    """2025-26 is in progress in the raw data (box scores through 2026-02-09; the schedule lists the
    rest of the season): the tick of 2026-02-10 targets 2026-02-09; the next day's tick has no new
    complete day and names the games that are not in yet."""
    requests = _requests(_tick(dt.datetime(2026, 2, 10, 9, 0, tzinfo=ET), raw_data_dir))
    assert requests[-1].partition_key == "2026-02-09"
    later = _tick(dt.datetime(2026, 2, 11, 9, 0, tzinfo=ET), raw_data_dir)
    keys = [r.partition_key for r in _requests(later)]
    assert keys[-1] == "2026-02-09"  # 2026-02-10 has scheduled games but no box scores: not due
    assert games_not_in(raw_data_dir, dt.date(2026, 2, 10)).height > 0
    _, note = nightly_targets(raw_data_dir, dt.date(2026, 2, 10))
    assert note.startswith("1 game date(s) of 2026-02-04..2026-02-10 not in the raw box scores yet, newest 2026-02-10")


def test_new_box_scores_wait_for_a_reload_of_the_definitions(raw_data_dir):
    """A day whose box scores arrived after the code location loaded is not a partition of the loaded
    definitions: the tick holds it back and says to reload."""
    loaded = {k for k in daily_partitions().get_partition_keys() if k < "2026-02-09"}
    due, note = nightly_targets(raw_data_dir, dt.date(2026, 2, 9), loaded)
    assert dt.date(2026, 2, 9) not in due and due[-1] == dt.date(2026, 2, 8)
    assert note == ("new game date(s) 2026-02-09 in the raw data are not partitions of the loaded definitions "
                    "yet: reload the code location (UI: Deployment -> Reload)")


def test_off_season_tick_skips_naming_the_nearest_game_dates(raw_data_dir):
    result = _tick(dt.datetime(2023, 7, 30, 9, 0, tzinfo=ET), raw_data_dir)
    assert isinstance(result, SkipReason)
    assert result.skip_message == ("no regular-season game date in 2023-07-23..2023-07-29; "
                                   "last game date 2023-04-09, next 2023-10-24")


def _raw_copy_without_team_game(src, dst, game_id: str):
    """A raw directory like ``src`` whose team game logs lack the rows of ``game_id``."""
    src = src.resolve()  # symlink targets must not depend on the working directory
    for file in src.rglob("*"):
        if file.is_file():
            (dst / file.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            (dst / file.relative_to(src)).symlink_to(file)
    path = dst / readers.TEAM_GAME_LOG_FILE
    path.unlink()
    with gzip.open(src / readers.TEAM_GAME_LOG_FILE, "rb") as f:
        logs = pl.read_csv(f.read(), infer_schema=False)
    kept = logs.filter(pl.col("game_id").cast(pl.Int64) != int(game_id))
    assert kept.height == logs.height - 2
    with gzip.open(path, "wb") as f:
        kept.write_csv(f)
    return dst


def test_tick_waits_while_a_game_of_last_night_is_missing_from_the_raw_box_scores(tmp_path, raw_data_dir):
    """A copy of the raw data whose team logs lack one game of the newest night (2026-02-09): its teams
    have not played since, so the game is not in yet and the night waits; the nights before are due."""
    sched = readers.read_schedule(raw_data_dir).filter(pl.col("game_date") == dt.date(2026, 2, 9),
                                                       pl.col("game_id").str.starts_with("002"))
    assert sched.height > 0
    missing = sched.get_column("game_id").sort()[0]
    raw = _raw_copy_without_team_game(raw_data_dir, tmp_path / "raw", missing)

    assert games_not_in(raw, dt.date(2026, 2, 9)).get_column("game_id").to_list() == [missing]
    due, note = nightly_targets(raw, dt.date(2026, 2, 9))
    assert dt.date(2026, 2, 9) not in due and due[-1] == dt.date(2026, 2, 8)
    assert note == ("1 game date(s) of 2026-02-03..2026-02-09 not in the raw box scores yet, newest 2026-02-09: "
                    f"1 game(s) missing ({missing})")
    assert games_not_in(raw, dt.date(2026, 2, 8)).is_empty()


def test_a_postponed_game_does_not_hold_its_night_back(raw_data_dir):
    """2026-01-25: two games of the raw schedule (0022500651 MEM-DEN, 0022500652 MIL-DAL) were
    postponed (a winter storm): they are not in the box scores, but their teams played later games, so
    the night is complete without them."""
    assert games_not_in(raw_data_dir, dt.date(2026, 1, 25)).is_empty()
    due, note = nightly_targets(raw_data_dir, dt.date(2026, 1, 27))
    assert dt.date(2026, 1, 25) in due and note == ""


def test_a_night_without_games_is_not_a_partition(raw_data_dir):
    # 2022-12-24: no NBA games (Christmas Eve): not a partition, so not requested
    keys = [r.partition_key for r in _requests(_tick(dt.datetime(2022, 12, 25, 9, 0, tzinfo=ET), raw_data_dir))]
    assert "2022-12-24" not in keys and keys[-1] == "2022-12-23"


def test_schedule_is_registered_stopped_and_targets_every_materialisable_asset():
    repo = loaded_definitions().get_repository_def()
    schedule = repo.get_schedule_def("daily_refresh_schedule")
    assert schedule.default_status == DefaultScheduleStatus.STOPPED
    assert schedule.cron_schedule == "0 9 * * *"
    assert schedule.execution_timezone == "America/New_York"
    job = repo.get_job(schedule.job_name)
    graph = loaded_definitions().resolve_asset_graph()
    materialisable = AssetSelection.all().resolve(graph) - {k for k in graph.get_all_asset_keys()
                                                           if not graph.get(k).is_materializable}
    assert set(job.asset_layer.executable_asset_keys) == materialisable
