import datetime as dt

import polars as pl
import pytest

from nba_precompute.transforms.tdza import (
    LEAGUE_DEFAULTS,
    build_team_defense_zone_analysis,
    league_averages,
)
from nba_precompute_tests.builders import OPENING, days

N_DATES = 16


def _league(n_teams: int = 12, n_dates: int = N_DATES, start: dt.date = OPENING):
    """n_teams teams paired T00-T01, T02-T03, ... every day. Opponent shooting allowed by team k:
    paint 10 attempts / 5 makes (k even) or 6 (k odd); mid 10 / 4; three 10 / 3 (T00 allows 4)."""
    sched, td = [], []
    for di, d in enumerate(days(start, n_dates)):
        for g in range(n_teams // 2):
            gid = f"00222{di:02d}{g:03d}"
            home, away = f"T{2 * g:02d}", f"T{2 * g + 1:02d}"
            sched.append({"game_id": gid, "game_date": d, "season_year": 2022, "home_team_id": 2 * g,
                          "away_team_id": 2 * g + 1, "home_team_abbr": home, "away_team_abbr": away})
            for k, team, opp in ((2 * g, home, away), (2 * g + 1, away, home)):
                td.append({
                    "game_id": gid, "game_date": d, "season_year": 2022, "defending_team_abbr": team,
                    "opponent_team_abbr": opp, "points_allowed": 100,
                    "opp_paint_attempts": 10, "opp_paint_makes": 5 if k % 2 == 0 else 6,
                    "opp_mid_range_attempts": 10, "opp_mid_range_makes": 4,
                    "opp_three_pt_attempts": 10, "opp_three_pt_makes": 4 if k == 0 else 3,
                    "points_in_paint_allowed": 2 * (5 if k % 2 == 0 else 6), "mid_range_points_allowed": 8,
                    "three_pt_points_allowed": 3 * (4 if k == 0 else 3),
                    "defensive_rating": 100.0 + di + 1, "opponent_pace": 98.0,
                })
    return pl.DataFrame(sched), pl.DataFrame(td)


def test_tdza_window_is_the_last_15_games_before_d():
    sched, td = _league()
    d = OPENING + dt.timedelta(days=N_DATES)  # 16 games before D
    rows, failures = build_team_defense_zone_analysis(td, sched, d, d)
    assert rows.height == 12 and failures.is_empty()
    t0 = rows.filter(pl.col("team_abbr") == "T00").row(0, named=True)
    assert t0["games_in_sample"] == 15
    assert t0["paint_pct_allowed_last_15"] == pytest.approx(0.5)
    assert t0["three_pt_pct_allowed_last_15"] == pytest.approx(0.4)
    assert t0["paint_attempts_allowed_per_game"] == pytest.approx(10.0)
    assert t0["paint_points_allowed_per_game"] == pytest.approx(10.0)
    # games 2..16 of the season: ratings 102..116
    assert t0["defensive_rating_last_15"] == pytest.approx(109.0)
    assert t0["opponent_pace"] == pytest.approx(98.0)
    # league: unweighted mean of 12 team FG%: paint (0.5+0.6)/2, mid 0.4, three (0.4 + 11 x 0.3)/12
    assert t0["league_paint_pct"] == pytest.approx(0.55)
    assert t0["league_three_pt_pct"] == pytest.approx(3.7 / 12)
    assert t0["paint_defense_vs_league_avg"] == pytest.approx(-0.05)
    assert t0["mid_range_defense_vs_league_avg"] == pytest.approx(0.0)
    assert t0["three_pt_defense_vs_league_avg"] == pytest.approx(0.4 - 3.7 / 12)
    assert t0["strongest_zone"] == "paint"
    assert t0["weakest_zone"] == "perimeter"
    assert t0["league_avg_is_default"] is False
    assert t0["data_quality_tier"] == "high"


def test_tdza_fifteen_game_minimum():
    sched, td = _league()
    d = OPENING + dt.timedelta(days=14)  # 14 games before D
    rows, failures = build_team_defense_zone_analysis(td, sched, d, d + dt.timedelta(days=1))
    assert rows.get_column("analysis_date").unique().to_list() == [d + dt.timedelta(days=1)]
    f = failures.filter(pl.col("analysis_date") == d)
    assert f.height == 12
    assert set(f.get_column("failure_category").to_list()) == {"INCOMPLETE_DATA"}
    assert set(f.get_column("games_found").to_list()) == {14}
    assert not f.get_column("is_failure").any()


def test_league_average_defaults_below_ten_teams():
    sched, td = _league(n_teams=8)
    d = OPENING + dt.timedelta(days=N_DATES)
    rows, _ = build_team_defense_zone_analysis(td, sched, d, d)
    r = rows.row(0, named=True)
    assert r["league_avg_is_default"] is True
    assert r["league_avg_teams"] == 8
    assert (r["league_paint_pct"], r["league_mid_range_pct"], r["league_three_pt_pct"]) == (
        LEAGUE_DEFAULTS["paint"], LEAGUE_DEFAULTS["mid_range"], LEAGUE_DEFAULTS["three_pt"])


def test_league_average_uses_d_minus_30_to_d_exclusive():
    # one team's games: 5 old games (> 30 days before D) allowing 100 %, 10 recent ones allowing 50 %,
    # and a game on D itself allowing 0 % (must not leak in: legacy bug B16)
    d = dt.date(2023, 1, 31)
    dates = days(d - dt.timedelta(days=45), 5) + days(d - dt.timedelta(days=12), 10) + [d]
    makes = [10] * 5 + [5] * 10 + [0]
    rows = []
    for team in [f"T{i:02d}" for i in range(10)]:
        for gd, m in zip(dates, makes):
            rows.append({"team_abbr": team, "season_year": 2022, "game_date": gd,
                         "opp_paint_attempts": 10, "opp_paint_makes": m, "opp_mid_range_attempts": 10,
                         "opp_mid_range_makes": m, "opp_three_pt_attempts": 10, "opp_three_pt_makes": m})
    td = pl.DataFrame(rows)
    keys = td.select("team_abbr", "season_year").unique().with_columns(pl.lit(d).alias("analysis_date"))
    out = league_averages(td, keys).row(0, named=True)
    assert out["league_avg_teams"] == 10
    assert out["league_paint_pct"] == pytest.approx(0.5)
    assert out["league_avg_is_default"] is False
