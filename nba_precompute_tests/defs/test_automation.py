"""The morning sensor: what a tick plans, and, end to end with the real Dagster daemon, that a night's box
scores landing in the raw directory are materialised with the next slate, with no reload."""

from __future__ import annotations

import dataclasses
import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from dagster import AssetKey, DagsterEventType, DagsterInstance, DagsterRunStatus, RunsFilter

from nba_precompute.config import today
from nba_precompute.defs.automation import SENSOR_NAME, TRIGGER_TAG, blocked_nights, describe_wait, plan
from nba_precompute.partitions import BOX_SCORE_TABLES, GameCalendar, daily_partitions, game_calendar
from nba_precompute.raw.quarantine import BLOCKED_SCHEMA, Quarantine
from nba_precompute_tests.raw_copies import season_copy
from nba_precompute_tests.ui.services import DagsterServices, ServiceError, prepare_home

D = dt.date
REPO = Path(__file__).resolve().parents[2]
MLFS = AssetKey(["nba_predictions", "ml_feature_store_v2"])
PGS = AssetKey(["nba_analytics", "player_game_summary"])


def _calendar(played: list[str], scheduled: list[str]) -> GameCalendar:
    rows = [{"season_year": 2025, "game_date": D.fromisoformat(d), "played": True} for d in played]
    rows += [{"season_year": 2025, "game_date": D.fromisoformat(d), "played": False} for d in scheduled]
    return GameCalendar.from_game_dates(pl.DataFrame(rows))


def test_plan_requests_missing_nights_oldest_first_and_tonight_without_box_score_tables():
    cal = _calendar(["2025-10-21", "2025-10-22", "2025-10-24"], ["2025-10-25", "2025-10-26"])
    assert cal.tonight == D(2025, 10, 25)
    keys = ["nba_analytics/player_game_summary", "nba_predictions/ml_feature_store_v2"]
    done = {k: {"2025-10-21", "2025-10-22"} for k in keys}
    runs = plan(cal, done)
    # the nights 10-23 (no games: an empty partition) and 10-24; tonight waits for a tick on which they
    # are in (it reads them)
    assert runs == [(keys, [D(2025, 10, 23), D(2025, 10, 24)])]
    done = {k: {f"2025-10-{d}" for d in range(21, 25)} for k in keys}
    assert plan(cal, done) == [(["nba_predictions/ml_feature_store_v2"], [D(2025, 10, 25)])]  # without box scores
    # a slate beyond Dagster's calendar (more than a week ahead) is not requested yet
    assert plan(dataclasses.replace(cal, calendar_end=D(2025, 10, 24)), done) == []
    # everything in: nothing to do, and the tick says what it waits for
    done = {k: {f"2025-10-{d}" for d in range(21, 26)} for k in keys}
    done["nba_analytics/player_game_summary"].discard("2025-10-25")
    assert plan(cal, done) == []
    assert describe_wait(cal, D(2025, 10, 25)).startswith("tonight's slate 2025-10-25 is up to date")
    assert "are late" in describe_wait(cal, D(2025, 10, 28))


def test_plan_defers_tonight_while_a_refresh_is_requested():
    cal = _calendar(["2025-10-21", "2025-10-22", "2025-10-24"], ["2025-10-25"])
    keys = ["nba_analytics/player_game_summary", "nba_predictions/ml_feature_store_v2"]
    done = {k: {f"2025-10-{d}" for d in range(21, 24)} for k in keys}
    # the missing night runs on this tick, the refresh run after it (the sensor appends it)
    assert plan(cal, done, refreshing=True) == [(keys, [D(2025, 10, 24)])]
    done = {k: {f"2025-10-{d}" for d in range(21, 25)} for k in keys}
    assert plan(cal, done, refreshing=True) == []  # the refresh alone; tonight on a later tick
    assert plan(cal, done) == [(["nba_predictions/ml_feature_store_v2"], [D(2025, 10, 25)])]


def _quarantine(*blocked: tuple[str, str]) -> Quarantine:
    """One quarantined row (line 7 of a box-score file) blocking each (table, day)."""
    return Quarantine(pl.DataFrame(), pl.DataFrame(
        [{"row": 0, "file": "player_game_logs1.csv.gz", "line": 7, "rule": "one row per player and game",
          "value": "game_id = '1'", "table_name": t, "partition_date": D.fromisoformat(d)} for t, d in blocked],
        schema=BLOCKED_SCHEMA))


def test_plan_leaves_out_the_partitions_a_quarantined_row_blocks():
    cal = _calendar(["2025-10-21", "2025-10-22", "2025-10-24"], ["2025-10-25"])
    pgs, mlfs, sched = "nba_analytics/player_game_summary", "nba_predictions/ml_feature_store_v2", "nba_analytics/nba_schedule"
    q = _quarantine(("nba_analytics.player_game_summary", "2025-10-22"),
                    *[("nba_predictions.ml_feature_store_v2", f"2025-10-{d}") for d in (23, 24, 25)])
    done = {pgs: {"2025-10-21"}, mlfs: {"2025-10-21"}}
    # due: PGS on 10-23, 10-24 and MLFS on 10-22; one range, split where the blocked tables change
    assert plan(cal, done, quarantine=q) == [([mlfs], [D(2025, 10, 22)]), ([pgs], [D(2025, 10, 23), D(2025, 10, 24)])]
    assert plan(cal, done) == [([pgs, mlfs], [D(2025, 10, 22), D(2025, 10, 23), D(2025, 10, 24)])]
    assert sorted(blocked_nights(cal, done, q).select("table_name", "partition_date").iter_rows()) == [
        ("nba_analytics.player_game_summary", D(2025, 10, 22)),
        *[("nba_predictions.ml_feature_store_v2", D(2025, 10, d)) for d in (23, 24, 25)]]  # tonight's too
    # only blocked partitions missing: nothing due, and tonight's slate has no unblocked asset either
    done = {pgs: {"2025-10-21", "2025-10-23", "2025-10-24"}, mlfs: {"2025-10-21", "2025-10-22"}}
    assert plan(cal, done, quarantine=q) == []
    # the schedule blocked on 10-24: MLFS of 10-24 reads it (same day) and is blocked too; tonight runs
    q = _quarantine(("nba_analytics.nba_schedule", "2025-10-24"))
    done = {sched: {"2025-10-21", "2025-10-22", "2025-10-23"}, mlfs: {"2025-10-21", "2025-10-22", "2025-10-23"}}
    assert plan(cal, done, quarantine=q) == [([sched, mlfs], [D(2025, 10, 25)])]  # the schedule: not a box-score table
    assert plan(cal, done) == [([sched, mlfs], [D(2025, 10, 24)])]
    assert blocked_nights(cal, done, q).get_column("table_name").to_list() == [
        "nba_analytics.nba_schedule", "nba_predictions.ml_feature_store_v2"]


def test_today_is_a_product_setting(monkeypatch, raw_data_dir):
    monkeypatch.delenv("NBA_PRECOMPUTE_TODAY", raising=False)
    assert daily_partitions(raw_data_dir).end is None  # the clock: no end date
    monkeypatch.setenv("NBA_PRECOMPUTE_TODAY", "2026-02-09")
    assert today() == D(2026, 2, 9)
    # a replay: Dagster's calendar ends a week after the product's today (the UI's newest partitions,
    # which its plots draw, are the replayed season's)
    assert daily_partitions(raw_data_dir).get_last_partition_key() == "2026-02-16"
    assert game_calendar(raw_data_dir).calendar_end == D(2026, 2, 16)
    monkeypatch.setenv("NBA_PRECOMPUTE_TODAY", "Feb 9")
    with pytest.raises(ValueError, match="NBA_PRECOMPUTE_TODAY='Feb 9': expected a date YYYY-MM-DD"):
        today()


def _wait(predicate, timeout: float, what: str, daemon: DagsterServices) -> float:
    log = daemon.log_dir / "daemon.log"
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            daemon.check_alive()
        except ServiceError as exc:
            pytest.fail(f"{exc} while waiting for {what}:\n{log.read_text()[-3000:]}")
        if predicate():
            return time.monotonic() - started
        time.sleep(2)
    pytest.fail(f"not within {timeout:.0f} s: {what}\n{log.read_text()[-3000:]}")


def _checked(instance: DagsterInstance, day: str) -> set[str]:
    """Names of the asset checks of MLFS evaluated for partition ``day``."""
    names = set()
    for record in instance.get_run_records(RunsFilter(tags={TRIGGER_TAG: SENSOR_NAME})):
        for entry in instance.all_logs(record.dagster_run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
            data = entry.dagster_event.event_specific_data
            if data.asset_key == MLFS and data.partition == day:
                names.add(data.check_name)
    return names


@pytest.mark.real_data
def test_daemon_materialises_a_new_night_and_the_next_slate_without_reload(tmp_path, raw_data_dir, monkeypatch):
    """2025-26 with the box scores of 2026-02-09 onward held back, the product's today 2026-02-10 (a replay:
    Dagster's calendar ends a week later): the daemon's sensor catches the season up and builds the slate
    of 2026-02-09 (its box scores are late); then the night of 2026-02-09 lands, and within a bounded wait
    its box-score partitions and today's slate, 2026-02-10, are materialised and checked."""
    raw = tmp_path / "raw"
    season_copy(raw_data_dir, raw, 2025, D(2026, 2, 9))
    home = prepare_home(tmp_path / "home")
    daemon = DagsterServices(home, {"NBA_RAW_DATA_DIR": str(raw), "NBA_PRECOMPUTE_TODAY": "2026-02-10",
                                    "NBA_PRECOMPUTE_DUCKDB_PATH": str(tmp_path / "warehouse.duckdb"),
                                    "NBA_PRECOMPUTE_WAREHOUSE": "duckdb"}, tmp_path / "logs", webserver=False)
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # the project's storage locates its files through it
    subprocess.run([str(Path(sys.executable).parent / "dagster"), "sensor", "start", SENSOR_NAME, "-w",
                    "workspace.yaml"], cwd=REPO, env=daemon.environment(), check=True, capture_output=True)
    daemon.start()
    try:
        instance = DagsterInstance.from_config(str(home))
        _wait(lambda: "2026-02-09" in instance.get_materialized_partitions(MLFS), 300,
              "the season caught up and tonight's slate 2026-02-09 in MLFS", daemon)
        assert "2026-02-08" in instance.get_materialized_partitions(PGS)
        assert "2026-02-09" not in instance.get_materialized_partitions(PGS)  # tonight's box scores: not yet
        assert game_calendar(raw).tonight == D(2026, 2, 9)

        season_copy(raw_data_dir, raw, 2025, D(2026, 2, 10))  # the night of 2026-02-09 lands
        latency = _wait(lambda: "2026-02-10" in instance.get_materialized_partitions(MLFS), 180,
                        "the night 2026-02-09 and the next slate 2026-02-10", daemon)
        print(f"\nnight landed -> next slate's MLFS rows: {latency:.0f} s (tick every 15 s)")
        for key in BOX_SCORE_TABLES:
            assert "2026-02-09" in instance.get_materialized_partitions(AssetKey.from_user_string(key)), key
        _wait(lambda: {"upstream_complete", "valid_values"} <= _checked(instance, "2026-02-10"), 60,
              "the checks of the slate 2026-02-10", daemon)
        runs = instance.get_run_records(RunsFilter(tags={TRIGGER_TAG: SENSOR_NAME}))
        assert runs and all(r.dagster_run.status == DagsterRunStatus.SUCCESS for r in runs)
        # the ticks recorded the raw data's versions in Dagster (issue 18), the landed night's too, before
        # the runs that read them: Dagster calls the new night's and the slate's partitions up to date
        from nba_precompute.dagster_storage import latest_observed_data_versions
        from nba_precompute.defs.data_versions import VERSION_KEYS
        from nba_precompute.defs.resources import RawDataResource
        from nba_precompute.raw.versions import BOX_SCORE
        from nba_precompute_tests.defs.test_data_versions import dagster_stale

        monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw))  # the code location's definitions, as the daemon's
        monkeypatch.setenv("NBA_PRECOMPUTE_TODAY", "2026-02-10")
        versions = RawDataResource(directory=str(raw)).input_versions(D(2026, 2, 9), D(2026, 2, 9))
        night = versions.filter(pl.col("table_name") == "nba_analytics.player_game_summary",
                                pl.col("partition_date") == D(2026, 2, 9)).item(0, "input_version")
        assert latest_observed_data_versions(instance, VERSION_KEYS[BOX_SCORE])["2026-02-09"] == night
        assert dagster_stale(instance, days={"2026-02-09", "2026-02-10"}) == {}
    finally:
        daemon.stop()
