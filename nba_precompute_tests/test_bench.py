"""The benchmark's non-timing parts: the legacy pandas PSZA and the DuckDB SQL PSZA must compute what
the Polars transform computes, season stacking must only shift, and the transform registry must
tolerate transforms that do not exist yet. Hand-built frames; no timing assertions."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute import bench
from nba_precompute.transforms.psza import build_player_shot_zone_analysis

OPENING = dt.date(2022, 10, 18)
N_GAMES = 30


def _schedule() -> pl.DataFrame:
    """AAA vs BBB every day from opening night, 30 regular-season games."""
    return pl.DataFrame({
        "game_id": [f"00222{i + 1:05d}" for i in range(N_GAMES)],
        "game_date": [OPENING + dt.timedelta(days=i) for i in range(N_GAMES)],
        "season_year": [2022] * N_GAMES,
        "home_team_id": [1 if i % 2 == 0 else 2 for i in range(N_GAMES)],
        "away_team_id": [2 if i % 2 == 0 else 1 for i in range(N_GAMES)],
        "home_team_abbr": ["AAA" if i % 2 == 0 else "BBB" for i in range(N_GAMES)],
        "away_team_abbr": ["BBB" if i % 2 == 0 else "AAA" for i in range(N_GAMES)],
    })


def _player_games() -> pl.DataFrame:
    """Four players:

    1 (AAA) plays every game: paint 2+i%3 (makes i%2), mid i%4 (makes 0 or 1), three 3-(i%3) (makes 1);
    2 (BBB) sits every 4th game (minutes 0), has NULL minutes in game 5, and a shot-chart disagreement in
      game 13;
    3 (BBB) plays only games 0-4 (always below the 10-game minimum);
    4 (AAA) plays every game without a shot (every rate NULL, no primary zone).
    """
    rows = []
    for i in range(N_GAMES):
        gid, day = f"00222{i + 1:05d}", OPENING + dt.timedelta(days=i)
        base = {"game_id": gid, "game_date": day, "season_year": 2022}
        rows.append(dict(base, player_id=1, player_lookup="one", team_abbr="AAA", minutes_played=30.0,
                         paint_attempts=2 + i % 3, paint_makes=i % 2, mid_range_attempts=i % 4,
                         mid_range_makes=min(i % 4, 1), three_pt_attempts=3 - i % 3, three_pt_makes=1,
                         has_complete_shot_zones=True, data_quality_issues=[]))
        minutes = None if i == 5 else (0.0 if i % 4 == 0 else 25.0)
        rows.append(dict(base, player_id=2, player_lookup="two", team_abbr="BBB", minutes_played=minutes,
                         paint_attempts=5, paint_makes=3, mid_range_attempts=1, mid_range_makes=0,
                         three_pt_attempts=i % 2, three_pt_makes=0, has_complete_shot_zones=i != 13,
                         data_quality_issues=["FGA 7 (box) vs 6 (shots)"] if i == 13 else []))
        if i < 5:
            rows.append(dict(base, player_id=3, player_lookup="three", team_abbr="BBB", minutes_played=10.0,
                             paint_attempts=1, paint_makes=1, mid_range_attempts=0, mid_range_makes=0,
                             three_pt_attempts=0, three_pt_makes=0, has_complete_shot_zones=True,
                             data_quality_issues=[]))
        rows.append(dict(base, player_id=4, player_lookup="four", team_abbr="AAA", minutes_played=3.0,
                         paint_attempts=0, paint_makes=0, mid_range_attempts=0, mid_range_makes=0,
                         three_pt_attempts=0, three_pt_makes=0, has_complete_shot_zones=True,
                         data_quality_issues=[]))
    for r in rows:  # box-score FGA = the shot chart's attempts
        r["fg_attempts"] = r["paint_attempts"] + r["mid_range_attempts"] + r["three_pt_attempts"]
    return pl.DataFrame(rows, schema_overrides={"minutes_played": pl.Float64,
                                                "data_quality_issues": pl.List(pl.String)})


START, END = OPENING, OPENING + dt.timedelta(days=N_GAMES - 1)
DATES = [dt.date(2022, 10, 28), dt.date(2022, 11, 3), dt.date(2022, 11, 16)]


@pytest.fixture(scope="module")
def polars_psza():
    return build_player_shot_zone_analysis(_player_games(), _schedule(), START, END)


def test_legacy_pandas_matches_polars_and_hand_values(polars_psza):
    rows, failures = polars_psza
    legacy = bench.run_legacy(_player_games(), _schedule(), DATES)
    agreement = bench.compare_psza(rows.filter(pl.col("analysis_date").is_in(DATES)), legacy["rows"])
    assert agreement.ok, agreement.details
    assert agreement.rows > 0 and agreement.max_abs_diff <= bench.TOLERANCE

    # hand values: player 1 on 2022-10-28 has exactly games 0-9 before D
    p1 = legacy["rows"].filter((pl.col("player_id") == 1) & (pl.col("analysis_date") == DATES[0])).row(0, named=True)
    paint = sum(2 + i % 3 for i in range(10))          # 29
    mid = sum(i % 4 for i in range(10))                # 13
    three = sum(3 - i % 3 for i in range(10))          # 21
    assert p1["paint_rate_last_10"] == pytest.approx(paint / (paint + mid + three))
    assert p1["paint_pct_last_10"] == pytest.approx(5 / paint)            # makes on odd games: 5
    assert p1["three_pt_pct_last_10"] == pytest.approx(10 / three)
    assert p1["mid_range_attempts_per_game"] == pytest.approx(mid / 10)
    assert p1["paint_rate_last_20"] is None                                 # 10 games < 15
    assert p1["primary_scoring_zone"] == "paint"                           # 29/63 = 0.46 >= 0.40
    # player 4 never shoots: no rates, no zone; player 3 never reaches 10 games
    p4 = legacy["rows"].filter(pl.col("player_id") == 4)
    assert p4.get_column("paint_rate_last_10").is_null().all()
    assert p4.get_column("primary_scoring_zone").is_null().all()

    ours_incomplete = failures.filter(pl.col("analysis_date").is_in(DATES)
                                      & (pl.col("failure_category") == "INCOMPLETE_DATA"))
    assert sorted(zip(ours_incomplete["analysis_date"], ours_incomplete["entity_id"].cast(pl.Int64))) == \
        sorted(legacy["incomplete"].iter_rows())


def test_duckdb_sql_matches_polars_on_every_date(polars_psza):
    rows, _ = polars_psza
    duck = bench.duckdb_psza(_player_games(), _schedule(), START, END)
    agreement = bench.compare_psza(rows, duck)
    assert agreement.ok, agreement.details
    assert agreement.rows == rows.height
    # player 2 before 2022-11-03 (games 0-15) played games 1-3, 6, 7, 9-11, 13-15 (11 games): the
    # disagreement in game 13 is inside his last 10
    p2 = duck.filter((pl.col("player_id") == 2) & (pl.col("analysis_date") == DATES[1]))
    assert p2.item(0, "games_in_sample_10") == 10
    assert p2.item(0, "has_complete_shot_zones") is False


def test_compare_psza_reports_differences(polars_psza):
    rows, _ = polars_psza
    changed = rows.with_columns(
        pl.when(pl.col("player_id") == 1).then(pl.col("paint_rate_last_10") + 1e-6)
        .otherwise(pl.col("paint_rate_last_10")).alias("paint_rate_last_10"))
    agreement = bench.compare_psza(rows, changed)
    assert not agreement.ok and agreement.numeric_mismatches > 0
    missing_row = bench.compare_psza(rows, rows.slice(1))
    assert not missing_row.ok and missing_row.only_left == 1


def test_stacked_season_only_shifts():
    inputs = {"player_games": _player_games(), "schedule": _schedule(), "start": START, "end": END}
    stacked = bench.stack_seasons(inputs, 2, shift_days=40)
    assert stacked["player_games"].height == 2 * inputs["player_games"].height
    assert stacked["schedule"].get_column("game_id").n_unique() == 2 * N_GAMES
    assert stacked["end"] == END + dt.timedelta(days=40)
    rows, _ = build_player_shot_zone_analysis(stacked["player_games"], stacked["schedule"], START, stacked["end"])
    # days between the copies belong to the first season (its latest opening night): compare the season itself
    first = rows.filter((pl.col("season_year") == 2022) & (pl.col("analysis_date") <= END))
    second = rows.filter(pl.col("season_year") == 2023).with_columns(
        pl.col("analysis_date") - pl.duration(days=40), pl.lit(2022, pl.Int64).alias("season_year"))
    assert bench.compare_psza(first, second).ok
    assert first.height == second.height > 0


def test_transforms_are_bound_by_their_declared_parameters():
    from nba_precompute.defs.phase4.tables import PCF, PSZA

    results = bench.run_transforms({"player_games": _player_games(), "schedule": _schedule(), "start": START,
                                    "end": END}, runs=1, tables=[PSZA])
    rows, _ = results["PSZA"]["result"]
    assert rows.height == results["PSZA"]["rows"] > 0
    with pytest.raises(KeyError, match="tdza"):  # PCF needs inputs this set does not hold (TDZA rows)
        bench.transform_inputs(PCF, {"psza": rows, "schedule": _schedule(), "start": START, "end": END})
