"""Partition backfills launched through the webserver's GraphQL API (``launchPartitionBackfill``, what
scripts and schedulers use), executed by the daemon against the project's instance configuration."""

from __future__ import annotations

import datetime as dt

from dagster import AssetKey, DagsterEventType

from nba_precompute.defs.common import WAREHOUSE_POOL
from nba_precompute.schemas import PHASE3_TABLES, TEAM_DEFENSE_ZONE_ANALYSIS
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

TDZA = TEAM_DEFENSE_ZONE_ANALYSIS.asset_key_path
PHASE3 = [t.asset_key_path for t in PHASE3_TABLES]
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


def _days(start: str, end: str) -> list[str]:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def _tags(run: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in run["tags"]}


def test_two_backfills_launched_at_once_queue_on_the_warehouse_pool_and_both_succeed(dagster_ui):
    """Two backfills writing the same DuckDB file, launched back to back through GraphQL (Phase 4 TDZA
    over a December week; Phase 3 over the two days after the prepared history, independent of it):
    the daemon queues the second run until the first has finished (run tag limit of one run of the
    code location; pool ``nba_warehouse``), so neither fails on the file lock; each is one run over its whole range, and every
    day gets its materialisation with row counts and the INCOMPLETE_DATA summary."""
    s = dagster_ui.services
    week = ("2022-12-10", "2022-12-16")
    later = ("2022-12-17", "2022-12-18")
    # The longer run first, so that without the limit the second would start while it still runs.
    phase3_backfill = s.launch_partition_backfill(PHASE3, *later, title="graphql: Phase 3, two days")
    tdza_backfill = s.launch_partition_backfill([TDZA], *week, title="graphql: TDZA December week")

    states = s.wait_for_backfills([tdza_backfill, phase3_backfill], timeout=300)
    assert {b: st["status"] for b, st in states.items()} == {
        tdza_backfill: "COMPLETED_SUCCESS", phase3_backfill: "COMPLETED_SUCCESS"}
    assert states[tdza_backfill]["partitionNames"] == _days(*week)

    runs = {}
    for backfill, (start, end) in ((tdza_backfill, week), (phase3_backfill, later)):
        backfill_runs = s.backfill_runs(backfill)
        assert len(backfill_runs) == 1, backfill_runs  # single-run backfill policy: one run per range
        run = backfill_runs[0]
        assert run["status"] == "SUCCESS", run
        assert (_tags(run)[RANGE_TAGS[0]], _tags(run)[RANGE_TAGS[1]]) == (start, end)
        runs[backfill] = run

    first, second = sorted(runs.values(), key=lambda r: r["startTime"])
    assert first["endTime"] <= second["startTime"], "the two warehouse runs overlapped"

    with dagster_ui.instance() as instance:
        for run in (first, second):
            record = instance.get_run_by_id(run["runId"])
            assert record.run_op_concurrency is not None
            assert set(record.run_op_concurrency.all_pools) == {WAREHOUSE_POOL}
            assert record.tags["dagster/code_location"] == "nba_precompute"  # the run tag limit's key
        # Whether the daemon creates the second backfill's run before the first run ends depends on its
        # tick timing; the deterministic proof that simultaneous runs queue is the test below.

        for key, (start, end) in ((TDZA, week), *((k, later) for k in PHASE3)):
            done = instance.get_materialized_partitions(AssetKey(key))
            assert set(_days(start, end)) <= done, key
        latest = instance.get_latest_materialization_event(AssetKey(TDZA)).asset_materialization
        assert latest.partition in _days(*week)
        assert latest.metadata["rows_written"].value > 0
        assert {"entities_below_minimum", "incomplete_rate", "dagster/row_count"} <= set(latest.metadata)
        limits = instance.get_concurrency_config().run_queue_config.tag_concurrency_limits
        assert {"key": "dagster/code_location", "value": "nba_precompute", "limit": 1} in limits

    # The warehouse holds one TDZA row per team and analysis date of the week (30 teams play by then).
    wh = DuckDBWarehouse(dagster_ui.duckdb_path)
    rows = wh.read(TEAM_DEFENSE_ZONE_ANALYSIS, dt.date.fromisoformat(week[0]), dt.date.fromisoformat(week[1]))
    per_day = rows.group_by("analysis_date").len()
    assert per_day.height == 7


def test_two_runs_launched_at_once_wait_in_the_run_queue(dagster_ui):
    """Two runs writing the DuckDB file submitted at the same moment (GraphQL ``launchRun``, Phase 3 of
    two later days): both enter the queue at once, the run tag limit lets one run at a time, so the
    second waits in the queue while the first runs, then starts; both succeed."""
    s = dagster_ui.services
    ids = [s.launch_asset_run(PHASE3, day) for day in ("2022-12-19", "2022-12-20")]
    runs = s.wait_for_runs(ids, timeout=300)
    assert [r["status"] for r in runs] == ["SUCCESS", "SUCCESS"], runs
    first, second = sorted(runs, key=lambda r: r["startTime"])
    assert first["endTime"] <= second["startTime"], "the two warehouse runs overlapped"
    with dagster_ui.instance() as instance:
        enqueued = instance.all_logs(second["runId"], of_type=DagsterEventType.RUN_ENQUEUED)
        # in the queue before the first run had finished: it really waited for it
        assert enqueued and enqueued[0].timestamp < first["endTime"]
        for key in PHASE3:
            assert {"2022-12-19", "2022-12-20"} <= instance.get_materialized_partitions(AssetKey(key)), key
