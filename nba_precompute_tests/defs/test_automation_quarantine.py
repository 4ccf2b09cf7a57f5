"""Issue 18 in the morning sensor: a night with a quarantined raw row (a player box-score row written twice, on
a copy of two weeks of the real 2024-25 files) is planned around. The tick requests the missing nights
without the partitions that read the row, logs the row as an error, and once every other partition is in,
skips with the row in its reason instead of requesting a run that would fail."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from dagster import AssetKey, AssetMaterialization, DagsterInstance, SkipReason, build_sensor_context

from nba_precompute.defs import automation
from nba_precompute.defs.automation import RANGE_END_TAG, RANGE_START_TAG, morning_slate_sensor
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.partitions import game_calendar
from nba_precompute.raw.readers import PLAYER_BOXSCORE_FILE
from nba_precompute.schemas import PHASE3_TABLES, PHASE4_TABLES
from nba_precompute_tests.raw_copies import duplicate_player_row, season_copy

D = dt.date
pytestmark = pytest.mark.real_data

FIRST, CUT = D(2024, 10, 22), D(2024, 11, 5)  # 2024-25's opening night; the copy's box scores end before CUT
KEYS = sorted(t.qualified_name.replace(".", "/") for t in (*PHASE3_TABLES, *PHASE4_TABLES))
NIGHT = {"nba_analytics/nba_schedule", "nba_analytics/player_game_summary", "nba_analytics/team_offense_game_summary",
         "nba_analytics/team_defense_game_summary"}  # the tables of night N that read N's box scores


def test_the_sensor_plans_around_a_quarantined_row(tmp_path, monkeypatch, raw_data_dir):
    raw = tmp_path / "raw"
    season_copy(raw_data_dir, raw, 2024, CUT)
    calendar = game_calendar(raw)
    night = next(d for d in calendar.game_dates if d >= D(2024, 10, 29))
    game, person, _, copy_line = duplicate_player_row(raw, night)
    tonight = calendar.tonight  # the first game date from CUT on; the nights before it are due
    last = tonight - dt.timedelta(days=1)
    monkeypatch.setenv("NBA_PRECOMPUTE_TODAY", str(tonight))
    errors: list[str] = []
    instance = DagsterInstance.ephemeral()
    resources = {"raw_data": RawDataResource(directory=str(raw)),
                 "warehouse": WarehouseResource(kind="duckdb", duckdb_path=str(tmp_path / "w.duckdb"))}
    monkeypatch.setattr(automation, "stale_runs", lambda *a: automation.StalePlan([]))  # no warehouse to compare here

    def tick():
        with build_sensor_context(instance=instance, resources=resources) as context:
            monkeypatch.setattr(context.log, "error", errors.append)
            return morning_slate_sensor(context)

    result = tick()
    runs = [(sorted(k.to_user_string() for k in r.asset_selection), r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG])
            for r in result.run_requests]
    before, after = night - dt.timedelta(days=1), night + dt.timedelta(days=1)
    # nothing of the night but its box-score tables: its pre-game tables read the schedule of N (blocked)
    assert runs == [(KEYS, str(FIRST), str(before)),
                     (sorted(NIGHT), str(after), str(last))]  # tonight waits for a tick with nothing else due
    row = f"{raw / PLAYER_BOXSCORE_FILE} line {copy_line}: rule 'one row per player and game': game_id = '{game}', " \
          f"person_id = {person}"
    (logged,) = errors
    assert "partition(s) not requested: they read raw rows that break a domain rule" in logged and row in logged

    # every partition but the blocked ones is in: the tick requests tonight's unblocked tables, then nothing
    days = [FIRST + dt.timedelta(days=i) for i in range((last - FIRST).days + 1)]
    for key in KEYS:
        for d in days:
            if not ((key in NIGHT and d == night) or (key not in NIGHT and d >= night)):
                instance.report_runless_asset_event(AssetMaterialization(AssetKey.from_user_string(key),
                                                                         partition=d.isoformat()))
    result = tick()
    assert [(sorted(k.to_user_string() for k in r.asset_selection), r.tags[RANGE_START_TAG])
            for r in result.run_requests] == [(["nba_analytics/nba_schedule"], str(tonight))]
    instance.report_runless_asset_event(AssetMaterialization(AssetKey(["nba_analytics", "nba_schedule"]),
                                                             partition=str(tonight)))
    errors.clear()
    skipped = tick()
    assert isinstance(skipped, SkipReason) and row in skipped.skip_message
    assert skipped.skip_message.index("not requested") < skipped.skip_message.index("up to date through")
    assert len(errors) == 1 and row in errors[0]


def test_the_refresh_run_leaves_out_what_reads_a_quarantined_row():
    """The sensor's refresh steps around a quarantine (hand-built): a row of 11-03 blocks its box-score
    tables and every later pre-game partition; the refresh of a correction of 11-01 keeps its box-score
    step, and of its pre-game step the days before 11-03 and the upcoming contexts' and Phase 4's partitions
    of 11-03 only if they read no blocked partition of that day (they read its schedule: they are held)."""
    from nba_precompute.defs.automation import refresh_around
    from nba_precompute.raw.quarantine import BLOCKED_SCHEMA, Quarantine

    box = ["nba_analytics.nba_schedule", "nba_analytics.player_game_summary"]
    pre = ["nba_analytics.upcoming_team_game_context", "nba_precompute.team_defense_zone_analysis"]
    bad = D(2024, 11, 3)
    later = [bad + dt.timedelta(days=i) for i in range(1, 4)]
    rows = [(t, bad) for t in box] + [(t, d) for t in pre for d in later]
    q = Quarantine(pl.DataFrame(), pl.DataFrame(
        [{"row": 0, "file": "/raw/player_game_logs1.csv.gz", "line": 41, "rule": "one row per player and game",
          "value": "game_id = '0022400101'", "table_name": t, "partition_date": d} for t, d in rows],
        schema=BLOCKED_SCHEMA))
    steps = [(box, [D(2024, 11, 1)]), (pre, [D(2024, 11, 2), bad, *later])]
    kept, held = refresh_around(steps, q)
    assert kept == [(box, [D(2024, 11, 1)]), (pre, [D(2024, 11, 2)])]
    assert {(t, d) for t, d in held.select("table_name", "partition_date").iter_rows()} == (
        {(t, d) for t in pre for d in [bad, *later]})
    for nothing in (Quarantine.empty(), None):
        same, none = refresh_around(steps, nothing)
        assert same == steps and none.is_empty()
