"""The data versions of the raw nights (issue 18), on hand-built frames and on a copy of the real files."""

from __future__ import annotations

import datetime as dt
import os

import polars as pl
import pytest

from nba_precompute.raw.sources import RawSources
from nba_precompute.raw.versions import (
    BOX_VERSION_TABLES,
    CROSS_SEASON_TABLES,
    PRE_GAME_TABLES,
    SEASON_PRE_GAME_TABLES,
    night_versions,
    partition_versions,
    raw_night_versions,
    seasons_to_read,
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


# two seasons: the previous one's last night (2025-04-13) lies in the 366 days before 2025-10-21
TWO_SEASONS = pl.DataFrame({"season_year": [2024, 2025], "season_start_date": [D(2025, 4, 12), D(2025, 10, 21)],
                            "span_end": [D(2025, 4, 13), D(2025, 10, 27)]})


def two_season_versions(last_night_points: int) -> dict[tuple[str, dt.date], str]:
    previous = pl.DataFrame({"game_id": ["0022401229", "0022401230"], "game_date": [D(2025, 4, 12), D(2025, 4, 13)],
                             "season_year": [2024, 2024], "home_team_id": [1, 3], "away_team_id": [2, 4]})
    sched = pl.concat([previous, schedule().select(previous.columns)])
    players = pl.concat([pl.DataFrame({"game_id": ["0022401229", "0022401230"], "player_id": [1, 2],
                                       "points": [5, last_night_points]}),
                         box().select("game_id", "player_id", "points")])
    nights = night_versions(sched, [players])
    return {(t, d): v for t, d, v in partition_versions(nights, TWO_SEASONS.filter(pl.col("season_year") == 2025))
            .iter_rows()}


def test_a_correction_of_last_seasons_last_night_changes_the_cross_season_tables_of_the_next_season_only():
    base, corrected = two_season_versions(20), two_season_versions(22)
    differs = {k for k in base if base[k] != corrected[k]}
    days = [D(2025, 10, 21) + dt.timedelta(days=i) for i in range(7)]
    # every day of 2025-26 of the tables that read the previous season (opening-night rosters, MLFS's
    # games vs the opponent), nothing of the box-score tables, TDZA, PSZA or the team context
    assert differs == {(t, d) for t in CROSS_SEASON_TABLES for d in days}
    assert not {k for k in differs if k[0] in (*SEASON_PRE_GAME_TABLES, *BOX_VERSION_TABLES)}


def test_the_seasons_read_for_a_seasons_versions_include_the_previous_one_only_when_it_is_within_366_days():
    cal = pl.DataFrame({"season_year": [2020, 2022, 2023],
                        "season_start_date": [D(2020, 12, 22), D(2022, 10, 18), D(2023, 10, 24)],
                        "span_end": [D(2021, 5, 16), D(2023, 4, 9), D(2024, 4, 14)]})
    assert seasons_to_read(cal, [2023]) == [2022, 2023]
    assert seasons_to_read(cal, [2022]) == [2022]  # 2020-21 ended more than 366 days before 2022-10-18
    assert seasons_to_read(cal, [2020, 2023]) == [2020, 2022, 2023]


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
