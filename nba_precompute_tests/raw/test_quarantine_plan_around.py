"""The runs of a request around the partitions a quarantined raw row blocks (``quarantine.plan_around``), on
hand-built quarantines: every run's tables and days computed by hand."""

from __future__ import annotations

import datetime as dt

import polars as pl

from nba_precompute.raw.quarantine import BLOCKED_SCHEMA, Quarantine, plan_around

D = dt.date
PGS, SCHED, PCF = "nba_analytics.player_game_summary", "nba_analytics.nba_schedule", "nba_precompute.player_composite_factors"
ALL = [SCHED, PGS, PCF]  # sorted
ROW = ("/raw/player_game_logs1.csv.gz", 41, "one row per player and game", "game_id = '0022400101'")


def quarantine(*blocked: tuple[int, str, dt.date]) -> Quarantine:
    """A quarantine whose row ``row`` blocks ``table`` on ``day`` for each (row, table, day)."""
    frame = pl.DataFrame([{"row": r, "file": ROW[0], "line": ROW[1] + r, "rule": ROW[2], "value": ROW[3],
                           "table_name": t, "partition_date": d} for r, t, d in blocked], schema=BLOCKED_SCHEMA)
    return Quarantine(pl.DataFrame(), frame)


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_nothing_blocked_gives_one_run_per_contiguous_range_with_every_table():
    request = [D(2024, 11, 3), D(2024, 11, 1), D(2024, 11, 2), D(2024, 11, 2), D(2024, 11, 7)]
    plan = plan_around(Quarantine.empty(), [SCHED, PGS, PCF], request)
    assert plan.runs == [(ALL, days(D(2024, 11, 1), D(2024, 11, 3))), (ALL, [D(2024, 11, 7)])]
    assert plan.blocked.is_empty()


def test_a_blocked_night_splits_the_range_and_drops_only_what_reads_it():
    # the row is read by the box-score tables of 11-03 and by PCF from 11-04 on (outside the request: 11-09)
    q = quarantine((0, PGS, D(2024, 11, 3)), (0, SCHED, D(2024, 11, 3)),
                   *[(0, PCF, d) for d in days(D(2024, 11, 4), D(2024, 11, 9))])
    plan = plan_around(q, ALL, days(D(2024, 11, 1), D(2024, 11, 6)))
    assert plan.runs == [
        (ALL, [D(2024, 11, 1), D(2024, 11, 2)]),
        ([PCF], [D(2024, 11, 3)]),
        ([SCHED, PGS], days(D(2024, 11, 4), D(2024, 11, 6))),
    ]
    assert plan.blocked.height == 2 + 3  # the requested ones only
    assert sorted(plan.blocked.select("table_name", "partition_date").iter_rows()) == sorted(
        [(PGS, D(2024, 11, 3)), (SCHED, D(2024, 11, 3)), *[(PCF, d) for d in days(D(2024, 11, 4), D(2024, 11, 6))]])
    assert q.partitions(plan.blocked) == ("nba_schedule, player_game_summary on 2024-11-03; "
                                          "player_composite_factors on 2024-11-04..2024-11-06")


def test_a_day_blocked_for_every_table_has_no_run_and_unrequested_tables_do_not_split():
    # row 1 blocks every requested table on 11-02; row 2 blocks PCF on 11-03, which is not requested
    q = quarantine(*[(1, t, D(2024, 11, 2)) for t in ALL], (2, PCF, D(2024, 11, 3)))
    plan = plan_around(q, [PGS, SCHED], days(D(2024, 11, 1), D(2024, 11, 4)))
    assert plan.runs == [([SCHED, PGS], [D(2024, 11, 1)]), ([SCHED, PGS], [D(2024, 11, 3), D(2024, 11, 4)])]
    assert plan.blocked.get_column("row").to_list() == [1, 1]
    # the same blocked set on both sides of a gap in the request: still two runs
    plan = plan_around(q, [PCF], [D(2024, 11, 3), D(2024, 11, 5), D(2024, 11, 6)])
    assert plan.runs == [([PCF], [D(2024, 11, 5), D(2024, 11, 6)])]
    plan = plan_around(Quarantine.empty(), [PCF], [D(2024, 11, 1), D(2024, 11, 3)])
    assert plan.runs == [([PCF], [D(2024, 11, 1)]), ([PCF], [D(2024, 11, 3)])]


def test_a_partition_reading_a_blocked_partition_of_its_own_day_is_blocked_too():
    # PCF of D reads the schedule of D (and PGS of D, to show a chain: SCHED -> PGS -> PCF); the row blocks
    # the schedule on 11-02 only
    q = quarantine((0, SCHED, D(2024, 11, 2)))
    upstream = {PCF: [PGS], PGS: [SCHED]}
    plan = plan_around(q, [PCF], days(D(2024, 11, 1), D(2024, 11, 3)), upstream)
    assert plan.runs == [([PCF], [D(2024, 11, 1)]), ([PCF], [D(2024, 11, 3)])]
    assert plan.blocked.select("row", "line", "table_name", "partition_date").rows() == [(0, 41, PCF, D(2024, 11, 2))]
    plan = plan_around(q, [SCHED, PCF], days(D(2024, 11, 1), D(2024, 11, 3)), {PCF: [SCHED]})
    assert plan.runs == [([SCHED, PCF], [D(2024, 11, 1)]), ([SCHED, PCF], [D(2024, 11, 3)])]
    assert plan_around(q, [PCF], [D(2024, 11, 2)]).runs == [([PCF], [D(2024, 11, 2)])]  # without the upstreams
