import datetime as dt

import polars as pl
import pytest

from nba_precompute.transforms.psza import (
    build_player_shot_zone_analysis,
    primary_scoring_zone_expr,
)
from nba_precompute_tests.builders import OPENING, days, player_games, schedule

D = dt.date(2022, 10, 31)
GAME_DAYS = days(OPENING, 14)  # 10-18 .. 10-31, one AAA-BBB game a day
DNP_DAY = dt.date(2022, 10, 22)


def _season():
    sched = pl.concat([schedule([dt.date(2022, 4, 1)], season=2021), schedule(GAME_DAYS)])
    rows = [
        # previous season: must never enter a 2022 window
        {"player_id": 1, "team_abbr": "AAA", "game_date": dt.date(2022, 4, 1), "paint_attempts": 99},
    ]
    for d in GAME_DAYS:
        if d == DNP_DAY:
            rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "minutes_played": None,
                         "paint_attempts": 0})
        elif d == OPENING:  # outside player 1's last-10 window on D
            rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "paint_attempts": 10,
                         "paint_makes": 10})
        elif d == D:  # the game on D itself must not be used (as-of rule)
            rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "paint_attempts": 50})
        else:
            rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "paint_attempts": 2,
                         "paint_makes": 1, "mid_range_attempts": 1, "three_pt_attempts": 1,
                         "three_pt_makes": 1})
        # player 3: threes only
        rows.append({"player_id": 3, "team_abbr": "AAA", "game_date": d, "three_pt_attempts": 3,
                     "three_pt_makes": 1})
        # player 2 (BBB): played the first 9 games, DNP afterwards
        played = d < OPENING + dt.timedelta(days=9)
        rows.append({"player_id": 2, "team_abbr": "BBB", "game_date": d, "paint_attempts": 1 if played else 0,
                     "minutes_played": 20.0 if played else None})
    return sched, player_games(rows, sched)


def test_psza_last_10_skips_dnp_excludes_d_and_other_seasons():
    sched, pg = _season()
    rows, failures = build_player_shot_zone_analysis(pg, sched, D, D)
    p1 = rows.filter(pl.col("player_id") == 1).row(0, named=True)
    # 12 played games before D (13 dates minus the DNP); last 10 = 10-20, 10-21, 10-23 .. 10-30
    assert p1["games_in_sample_10"] == 10
    assert p1["games_in_sample_20"] == 12
    assert p1["total_shots_last_10"] == 40
    assert p1["paint_rate_last_10"] == pytest.approx(0.5)
    assert p1["mid_range_rate_last_10"] == pytest.approx(0.25)
    assert p1["three_pt_rate_last_10"] == pytest.approx(0.25)
    assert p1["paint_pct_last_10"] == pytest.approx(0.5)
    assert p1["mid_range_pct_last_10"] == 0.0
    assert p1["three_pt_pct_last_10"] == 1.0
    assert p1["paint_attempts_per_game"] == pytest.approx(2.0)
    assert p1["primary_scoring_zone"] == "paint"
    assert p1["paint_rate_last_20"] is None  # fewer than 15 games in the 20-game window
    assert p1["sample_quality_10"] == "excellent"
    assert p1["team_abbr"] == "AAA"


def test_psza_zero_attempt_zones_give_null_pct_not_zero():
    sched, pg = _season()
    rows, _ = build_player_shot_zone_analysis(pg, sched, D, D)
    p3 = rows.filter(pl.col("player_id") == 3).row(0, named=True)
    assert p3["paint_pct_last_10"] is None
    assert p3["mid_range_pct_last_10"] is None
    assert p3["three_pt_pct_last_10"] == pytest.approx(1 / 3)
    assert p3["paint_rate_last_10"] == 0.0
    assert p3["three_pt_rate_last_10"] == 1.0
    assert p3["primary_scoring_zone"] == "perimeter"


def test_psza_ten_game_minimum_is_incomplete_data_not_a_failure():
    sched, pg = _season()
    rows, failures = build_player_shot_zone_analysis(pg, sched, D, D)
    assert 2 not in rows.get_column("player_id").to_list()
    f = failures.filter(pl.col("entity_id") == "2").row(0, named=True)
    assert f["failure_category"] == "INCOMPLETE_DATA"
    assert f["is_failure"] is False
    assert f["games_found"] == 9
    assert f["games_required"] == 10
    assert failures.filter(pl.col("is_failure")).is_empty()


def test_psza_range_is_one_pass_over_every_date():
    sched, pg = _season()
    rows, failures = build_player_shot_zone_analysis(pg, sched, dt.date(2022, 10, 27), D)
    # player 1 reaches 10 played games before 10-29 (10-18..10-28 minus the DNP = 10 games)
    p1_dates = rows.filter(pl.col("player_id") == 1).get_column("analysis_date").to_list()
    assert p1_dates == [dt.date(2022, 10, 29), dt.date(2022, 10, 30), D]
    p1_fail = failures.filter(pl.col("entity_id") == "1").sort("analysis_date")
    assert p1_fail.get_column("games_found").to_list() == [8, 9]


def test_psza_missing_upstream_game_is_missing_dependency():
    sched, pg = _season()
    gone = dt.date(2022, 10, 25)
    rows, failures = build_player_shot_zone_analysis(pg.filter(pl.col("game_date") != gone), sched, D, D)
    assert rows.is_empty()  # every entity's team missed a game that the schedule says was played
    cats = failures.group_by("failure_category").len().sort("failure_category").rows()
    assert ("MISSING_DEPENDENCY", 4) in cats  # players 1, 2, 3 + the DATE_LEVEL row
    date_level = failures.filter(pl.col("entity_id") == "DATE_LEVEL").row(0, named=True)
    assert "2022-10-25" in date_level["reason"]
    assert date_level["is_failure"] is True


@pytest.mark.parametrize("paint,mid,three,expected", [
    (0.40, 0.0, 0.60, "paint"),
    (0.39, 0.20, 0.41, "perimeter"),
    (0.30, 0.35, 0.35, "mid_range"),
    (0.34, 0.33, 0.33, "balanced"),
    (0.0, 0.0, 0.0, None),
    (None, None, None, None),
])
def test_primary_scoring_zone_thresholds_on_0_1_scale(paint, mid, three, expected):
    df = pl.DataFrame({"p": [paint], "m": [mid], "t": [three]}, schema={"p": pl.Float64, "m": pl.Float64,
                                                                         "t": pl.Float64})
    got = df.select(primary_scoring_zone_expr(pl.col("p"), pl.col("m"), pl.col("t"))).item()
    assert got == expected
