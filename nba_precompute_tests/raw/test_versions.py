"""The data versions of the raw nights (issue 18), on hand-built frames and on a copy of the real files."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from nba_precompute.raw.sources import RawSources
from nba_precompute.raw.versions import (
    BOX_VERSION_TABLES,
    PRE_GAME_TABLES,
    night_versions,
    partition_versions,
    raw_night_versions,
)
from nba_precompute_tests.raw_copies import HOOPR, _read, _write, season_copy

D = dt.date
NIGHTS = [D(2025, 10, 21), D(2025, 10, 22), D(2025, 10, 24)]
SEASONS = pl.DataFrame({"season_year": [2025], "season_start_date": [D(2025, 10, 21)], "span_end": [D(2025, 10, 27)]})


def schedule() -> pl.DataFrame:
    return pl.DataFrame({
        "game_id": [f"00225000{i:02d}" for i in range(1, 7)],
        "game_date": [NIGHTS[0], NIGHTS[0], NIGHTS[1], NIGHTS[1], NIGHTS[2], NIGHTS[2]],
        "season_year": [2025] * 6, "home_team_id": [1, 3, 5, 2, 4, 6], "away_team_id": [2, 4, 6, 1, 3, 5],
        "game_status": ["played"] * 6, "source_line": list(range(2, 8)),
    })


def box(points: int = 10, without: str | None = None) -> pl.DataFrame:
    rows = pl.DataFrame({
        "game_id": [f"00225000{i:02d}" for i in range(1, 7) for _ in range(2)],
        "player_id": list(range(12)), "points": [points] + [7] * 11, "comment": [None] * 12,
        "quality_flags": [[] for _ in range(12)], "source_line": list(range(2, 14)),
    }, schema_overrides={"comment": pl.String, "quality_flags": pl.List(pl.String)})
    return rows.filter(pl.col("game_id") != without) if without else rows


def versions(sched: pl.DataFrame, players: pl.DataFrame) -> dict[tuple[str, dt.date], str]:
    nights = night_versions(sched, [players, pl.DataFrame(schema={"game_id": pl.String})])
    return {(t, d): v for t, d, v in partition_versions(nights, SEASONS).iter_rows()}


def test_row_order_and_line_numbers_do_not_change_a_version():
    base = versions(schedule(), box())
    shuffled = box().sample(fraction=1.0, shuffle=True, seed=7).with_columns(pl.col("source_line") + 100)
    assert versions(schedule().reverse().with_columns(pl.col("source_line") * 3), shuffled) == base
    # the schedule's game_status is not part of the pre-game schedule
    assert versions(schedule().with_columns(pl.lit("scheduled").alias("game_status")), box()) == base


def test_a_changed_value_changes_its_night_and_every_later_pre_game_day_only():
    base, changed = versions(schedule(), box()), versions(schedule(), box(points=12))  # game 01, night 10-21
    differs = {k for k in base if base[k] != changed[k]}
    days = [D(2025, 10, 21) + dt.timedelta(days=i) for i in range(7)]
    assert differs == ({(t, NIGHTS[0]) for t in BOX_VERSION_TABLES}
                       | {(t, d) for t in PRE_GAME_TABLES for d in days if d > NIGHTS[0]})
    # a NULL is not an empty string: a value that becomes NULL is a change too
    nulled = versions(schedule(), box().with_columns(pl.when(pl.col("player_id") == 3).then(pl.lit(""))
                                                     .otherwise(pl.col("comment")).alias("comment")))
    assert nulled[(BOX_VERSION_TABLES[1], NIGHTS[0])] != base[(BOX_VERSION_TABLES[1], NIGHTS[0])]


def test_the_box_scores_of_d_arriving_do_not_change_the_pre_game_version_of_d():
    waiting = versions(schedule(), box(without="0022500006").filter(pl.col("game_id") != "0022500005"))
    arrived = versions(schedule(), box())
    for t in PRE_GAME_TABLES:
        assert waiting[(t, NIGHTS[2])] == arrived[(t, NIGHTS[2])]
        assert waiting[(t, NIGHTS[2] + dt.timedelta(days=1))] != arrived[(t, NIGHTS[2] + dt.timedelta(days=1))]
    for t in BOX_VERSION_TABLES:
        assert waiting[(t, NIGHTS[2])] != arrived[(t, NIGHTS[2])]
    # days without games have versions too (pre-game ones carry the season so far)
    assert (PRE_GAME_TABLES[0], D(2025, 10, 23)) in arrived


def test_a_moved_game_changes_both_nights_schedule():
    moved = schedule().with_columns(pl.when(pl.col("game_id") == "0022500004").then(pl.lit(NIGHTS[2]))
                                    .otherwise(pl.col("game_date")).alias("game_date"))
    base, after = versions(schedule(), box()), versions(moved, box())
    assert base[(BOX_VERSION_TABLES[0], NIGHTS[1])] != after[(BOX_VERSION_TABLES[0], NIGHTS[1])]
    assert base[(BOX_VERSION_TABLES[0], NIGHTS[2])] != after[(BOX_VERSION_TABLES[0], NIGHTS[2])]
    assert base[(BOX_VERSION_TABLES[0], NIGHTS[0])] == after[(BOX_VERSION_TABLES[0], NIGHTS[0])]


@pytest.mark.real_data
def test_rewriting_or_touching_the_real_files_changes_nothing(tmp_path, raw_data_dir):
    season_copy(raw_data_dir, tmp_path, 2025, D(2026, 1, 10))
    before = raw_night_versions(RawSources(tmp_path), [2025], with_2020=False)
    path = tmp_path / HOOPR / "player_game_logs1.csv.gz"
    _write(_read(path).sample(fraction=1.0, shuffle=True, seed=3), path)  # same rows, another order and bytes
    for f in (tmp_path / HOOPR).iterdir():
        os.utime(f, (1_700_000_000, 1_700_000_000))
    after = raw_night_versions(RawSources(tmp_path), [2025], with_2020=False)
    assert after.equals(before)


def test_refresh_runs_box_score_tables_first_one_run_per_contiguous_range_of_the_same_tables():
    from nba_precompute.refresh import plan_runs

    sched, pgs, pdc = "nba_analytics.nba_schedule", "nba_analytics.player_game_summary", \
        "nba_precompute.player_daily_cache"
    stale = pl.DataFrame({"table_name": [pdc, pdc, sched, pgs, sched, sched],
                          "partition_date": [D(2026, 1, 2), D(2026, 1, 3), D(2026, 1, 1), D(2026, 1, 1),
                                             D(2026, 1, 2), D(2026, 1, 5)]})
    assert plan_runs(stale) == [([sched, pgs], [D(2026, 1, 1)]), ([sched], [D(2026, 1, 2)]),
                                ([sched], [D(2026, 1, 5)]), ([pdc], [D(2026, 1, 2), D(2026, 1, 3)])]


def test_a_previous_season_night_reaches_the_roster_days_and_mlfs_365_days_of_the_next_season():
    """The two cross-season reads (read_windows): a changed night of 2024-25 changes the pre-game versions
    of the rest of 2024-25, the roster tables of 2025-26 until every team has played (2025-10-22 here: teams
    5 and 6 open then) and MLFS up to 365 days after the night; nothing else of 2025-26."""
    from nba_precompute.raw.versions import ROSTER_TABLES, read_windows

    seasons = pl.DataFrame({"season_year": [2024, 2025], "season_start_date": [D(2024, 10, 22), D(2025, 10, 21)],
                            "span_end": [D(2025, 10, 20), D(2025, 10, 27)]})
    old = pl.DataFrame({"game_id": ["0022400001", "0022400002"], "game_date": [D(2024, 10, 22), D(2024, 10, 23)],
                        "season_year": [2024, 2024], "home_team_id": [1, 3], "away_team_id": [2, 4],
                        "game_status": ["played"] * 2, "source_line": [8, 9]})
    sched = pl.concat([schedule(), old])
    old_box = pl.DataFrame({"game_id": ["0022400001", "0022400002"], "player_id": [1, 2], "points": [5, 9],
                            "comment": [None, None], "quality_flags": [[], []], "source_line": [14, 15]},
                           schema_overrides={"comment": pl.String, "quality_flags": pl.List(pl.String)})
    windows = read_windows(seasons, sched)

    def vs(players: pl.DataFrame, shots: pl.DataFrame | None = None) -> dict:
        shots = pl.DataFrame({"game_id": ["0022400002"], "basic_zone": ["Mid-Range"]}) if shots is None else shots
        nights = night_versions(sched, [players, shots], cross_frames=1)  # shots: read by their own season only
        return {(t, d): v for t, d, v in partition_versions(nights, seasons, windows=windows).iter_rows()}

    base = vs(pl.concat([box(), old_box]))
    changed = vs(pl.concat([box(), old_box.with_columns(pl.when(pl.col("player_id") == 2).then(10)
                                                         .otherwise(pl.col("points")).alias("points"))]))
    differs = {k for k in base if base[k] != changed[k]}
    night = D(2024, 10, 23)
    in_2025 = {(t, d) for t, d in differs if d >= D(2025, 10, 21)}
    assert in_2025 == ({(t, d) for t in ROSTER_TABLES for d in (D(2025, 10, 21), D(2025, 10, 22))}
                       | {("nba_predictions.ml_feature_store_v2", D(2025, 10, 23))})
    assert {(t, d) for t, d in differs if d < D(2025, 10, 21)} == (
        {(t, night) for t in BOX_VERSION_TABLES}
        | {(t, d) for t in PRE_GAME_TABLES for (tt, d) in base if tt == t and night < d < D(2025, 10, 21)})
    # a shot of 2024-25 moved to another zone: 2024-25 only
    moved = vs(pl.concat([box(), old_box]), pl.DataFrame({"game_id": ["0022400002"], "basic_zone": ["Restricted Area"]}))
    moved_keys = {k for k in base if base[k] != moved[k]}
    assert moved_keys and all(d < D(2025, 10, 21) for _, d in moved_keys)
    # the tables that read 2025-26 only have the versions of 2025-26 computed alone
    nights = night_versions(schedule(), [box(), pl.DataFrame(schema={"game_id": pl.String})], cross_frames=1)
    alone = {(t, d): v for t, d, v in partition_versions(nights, SEASONS).iter_rows()}
    same_season = {k: v for k, v in base.items() if k[1] >= D(2025, 10, 21) and k[0] not in ROSTER_TABLES}
    assert same_season and same_season == {k: v for k, v in alone.items() if k[0] not in ROSTER_TABLES}
    # the tables of a version kind share their version on every day (Dagster sees one asset per kind)
    from nba_precompute.raw.versions import VERSION_KINDS

    for tables in VERSION_KINDS.values():
        for version in (base, changed):
            per_day: dict[dt.date, set[str]] = {}
            for (t, d), v in version.items():
                if t in tables:
                    per_day.setdefault(d, set()).add(v)
            assert per_day and all(len(vs) == 1 for vs in per_day.values()), tables
