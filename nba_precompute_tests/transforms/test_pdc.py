"""PDC windows, sample standard deviation, OLS slope, completeness and failures on hand-built frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute.schemas import (
    PLAYER_DAILY_CACHE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute.transforms import pdc
from nba_precompute_tests.transforms.test_pcf import frame_of

D = dt.date(2022, 12, 20)
NOV1 = dt.date(2022, 11, 1)


def test_sample_std_ddof_1():
    # values 10, 20, 30, 40: mean 25, squared deviations 225 + 25 + 25 + 225 = 500, / (4 - 1) -> sqrt(166.67)
    df = pl.DataFrame({"s": [100.0, 7.0, 5.0], "ss": [3000.0, 49.0, 13.0], "n": [4, 1, 2]})
    out = df.select(pdc.sample_std(pl.col("s"), pl.col("ss"), pl.col("n")).alias("sd"))["sd"].to_list()
    assert out[0] == pytest.approx(12.909944487)
    assert out[1] is None  # one game: undefined
    # 2 and 3: mean 2.5, (0.25 + 0.25) / 1 -> 0.7071
    assert out[2] == pytest.approx(0.707106781)


def test_ols_slope_from_window_sums():
    # y = 10, 12, 14, 16, 18 at game numbers 3..7 -> slope 2
    # y = 1, 3, 2 at game numbers 8..10: x = 1..3, Σxy = 13, Σx = 6, Σx² = 14, Σy = 6 -> (39 - 36) / (42 - 36) = 0.5
    df = pl.DataFrame({"sy": [70.0, 6.0, 5.0], "sgy": [370.0, 55.0, 5.0], "n": [5, 3, 1], "g": [7.0, 10.0, 1.0]})
    out = df.select(pdc.ols_slope(pl.col("sy"), pl.col("sgy"), pl.col("n"), pl.col("g")).alias("b"))["b"].to_list()
    assert out[0] == pytest.approx(2.0)
    assert out[1] == pytest.approx(0.5)
    assert out[2] is None


def _schedule(n_games: int, start: dt.date, step: int = 2) -> pl.DataFrame:
    dates = [start + dt.timedelta(days=step * i) for i in range(n_games)] + [D]
    return pl.DataFrame({
        "game_id": [f"00222{i:05d}" for i in range(len(dates))], "game_date": dates,
        "season_year": [2022] * len(dates), "home_team_abbr": ["AAA"] * len(dates),
        "away_team_abbr": ["BBB"] * len(dates)})


def _player_games(schedule: pl.DataFrame, player_id: int, points: list[int | None], minutes: list[float | None],
                  first: int = 0) -> list[dict]:
    out = []
    for i, (p, m) in enumerate(zip(points, minutes)):
        row = schedule.row(first + i, named=True)
        out.append({"game_id": row["game_id"], "game_date": row["game_date"], "season_year": 2022, "player_id": player_id,
                        "player_lookup": f"p{player_id}", "team_abbr": "AAA", "opponent_team_abbr": "BBB", "minutes_played": m,
                        "points": p, "is_dnp": m is None, "usage_rate": 0.2 if m else None, "ts_pct": 0.5 if m else None,
                        "ft_makes": 1, "paint_attempts": 2, "mid_range_attempts": 1, "three_pt_attempts": 1})
    return out


def test_player_daily_cache_windows_and_failures():
    sched = _schedule(12, NOV1)  # 12 games every other day from Nov 1 (last on Nov 23), then D
    # player 1: 12 played games, points 5, 7, ..., 27; one DNP row is not a played game
    p1 = _player_games(sched, 1, list(range(5, 29, 2)), [30.0] * 12)
    # player 2: only 2 played games (+ a DNP) -> INCOMPLETE_DATA
    p2 = _player_games(sched, 2, [10, None, 12], [20.0, None, 22.0])
    # player 3: 4 played games, the last on Nov 7 -> 43 days before D -> STALE_DATA
    p3 = _player_games(sched, 3, [8, 8, 8, 8], [25.0] * 4)
    games = frame_of(PLAYER_GAME_SUMMARY, p1 + p2 + p3)
    team = frame_of(TEAM_OFFENSE_GAME_SUMMARY, [
        {"game_id": r["game_id"], "game_date": r["game_date"], "season_year": 2022, "team_abbr": "AAA",
             "pace": 100.0 + i, "offensive_rating": 110.0, "win_flag": i % 2 == 0, "margin_of_victory": 20 if i < 6 else 3}
        for i, r in enumerate(sched.head(12).iter_rows(named=True))])
    upcg = frame_of(UPCOMING_PLAYER_GAME_CONTEXT, [
        {"player_id": p, "player_lookup": f"p{p}", "game_id": sched["game_id"][-1], "game_date": D, "season_year": 2022,
             "team_abbr": "AAA", "games_in_last_7_days": 0} for p in (1, 2, 3, 4)])
    psza = frame_of(PLAYER_SHOT_ZONE_ANALYSIS, [{
        "player_id": 1, "player_lookup": "p1", "analysis_date": D, "season_year": 2022, "paint_rate_last_10": 0.5,
        "three_pt_rate_last_10": 0.25, "primary_scoring_zone": "paint", "has_shot_chart": True}])
    rows, failures = pdc.build_player_daily_cache(upcg, games, team, psza, sched, D, D)

    assert rows["player_id"].to_list() == [1]
    r = rows.row(0, named=True)
    assert r["points_avg_last_5"] == pytest.approx((19 + 21 + 23 + 25 + 27) / 5)
    assert r["points_avg_last_10"] == pytest.approx(sum(range(9, 29, 2)) / 10)  # 9..27 -> 18
    assert r["points_avg_season"] == pytest.approx(sum(range(5, 29, 2)) / 12)  # 16
    # 9, 11, ..., 27 = 9 + 2k (k = 0..9): std = 2 x std(0..9) = 2 x sqrt(82.5 / 9) = 6.0553
    assert r["points_std_last_10"] == pytest.approx(2 * (82.5 / 9) ** 0.5)
    assert r["minutes_avg_last_10"] == 30.0 and r["usage_rate_last_10"] == pytest.approx(0.2)
    assert r["games_played_season"] == 12 and not r["early_season_flag"]
    # team: last 10 of paces 100..111 -> 102..111, mean 106.5
    assert r["team_pace_last_10"] == pytest.approx(106.5) and r["team_off_rating_last_10"] == 110.0
    assert r["paint_rate_last_10"] == 0.5 and r["shot_zone_data_available"]
    assert r["days_since_last_game"] == (D - dt.date(2022, 11, 23)).days
    assert r["l5_completeness_pct"] == 1.0 and r["quality_tier"] == "gold" and r["is_production_ready"]

    f = {row["entity_id"]: row for row in failures.iter_rows(named=True)}
    assert f["2"]["failure_category"] == "INCOMPLETE_DATA" and f["2"]["games_found"] == 2
    assert f["4"]["failure_category"] == "INCOMPLETE_DATA" and f["4"]["games_found"] == 0  # debut
    assert f["3"]["failure_category"] == "STALE_DATA" and f["3"]["games_found"] == 4
    assert not any(row["is_failure"] for row in f.values())
    assert all(row["processor"] == "player_daily_cache" and row["games_required"] == 3 for row in f.values())


def test_shot_zone_data_available_means_zones_known():
    # three players with the same 12 played games: a PSZA row with a shot chart, a PSZA row of a season
    # without one (three-point share only), no PSZA row
    sched = _schedule(12, NOV1)
    pts = list(range(5, 29, 2))
    games = frame_of(PLAYER_GAME_SUMMARY, [g for p in (1, 2, 3) for g in _player_games(sched, p, pts, [30.0] * 12)])
    team = frame_of(TEAM_OFFENSE_GAME_SUMMARY, [
        {"game_id": r["game_id"], "game_date": r["game_date"], "season_year": 2022, "team_abbr": "AAA",
         "pace": 100.0, "offensive_rating": 110.0, "win_flag": True, "margin_of_victory": 3}
        for r in sched.head(12).iter_rows(named=True)])
    upcg = frame_of(UPCOMING_PLAYER_GAME_CONTEXT, [
        {"player_id": p, "player_lookup": f"p{p}", "game_id": sched["game_id"][-1], "game_date": D, "season_year": 2022,
         "team_abbr": "AAA", "games_in_last_7_days": 0} for p in (1, 2, 3)])
    psza = frame_of(PLAYER_SHOT_ZONE_ANALYSIS, [
        {"player_id": 1, "player_lookup": "p1", "analysis_date": D, "season_year": 2022, "paint_rate_last_10": 0.5,
         "three_pt_rate_last_10": 0.25, "primary_scoring_zone": "paint", "has_shot_chart": True},
        {"player_id": 2, "player_lookup": "p2", "analysis_date": D, "season_year": 2022, "paint_rate_last_10": None,
         "three_pt_rate_last_10": 0.4, "primary_scoring_zone": None, "has_shot_chart": False}])
    rows, _ = pdc.build_player_daily_cache(upcg, games, team, psza, sched, D, D)
    got = {r["player_id"]: r for r in rows.iter_rows(named=True)}
    assert set(got) == {1, 2, 3}
    assert got[1]["shot_zone_data_available"] is True and got[1]["paint_rate_last_10"] == 0.5
    # a PSZA row without zones: the three-point share is copied, the flag says the zones are unknown
    assert got[2]["shot_zone_data_available"] is False
    assert got[2]["three_pt_rate_last_10"] == 0.4 and got[2]["paint_rate_last_10"] is None
    assert got[3]["shot_zone_data_available"] is False and got[3]["three_pt_rate_last_10"] is None
    # false <=> the zone fields are NULL, on every row; and the description says so
    for r in got.values():
        assert r["shot_zone_data_available"] == (r["paint_rate_last_10"] is not None
                                                 and r["primary_scoring_zone"] is not None)
    desc = PLAYER_DAILY_CACHE.column("shot_zone_data_available").description
    assert "has_shot_chart" in desc and "without a shot chart" in desc


def test_multi_window_completeness_counts_missing_games_and_break_days():
    # AAA plays every day Dec 1..10, then nothing until D = Dec 20 (9 days without any game before D)
    days = [dt.date(2022, 12, d) for d in range(1, 11)]
    sched = pl.DataFrame({"game_id": [f"00222000{i:02d}" for i in range(10)], "game_date": days,
                          "season_year": [2022] * 10, "home_team_abbr": ["AAA"] * 10, "away_team_abbr": ["BBB"] * 10})
    present = sched.filter(pl.col("game_date") != dt.date(2022, 12, 9)).select("game_id", pl.lit("AAA").alias("team_abbr"))
    keys = pl.DataFrame({"team_abbr": ["AAA"], "season_year": [2022], "analysis_date": [D]})
    out = pdc.multi_window_completeness(sched, present, keys).row(0, named=True)
    assert out["break_days"] == 9
    assert (out["l5_expected"], out["l5_actual"]) == (5, 4)
    assert out["l5_completeness_pct"] == pytest.approx(0.8) and out["l5_is_complete"]
    assert (out["l10_expected"], out["l10_actual"]) == (10, 9)
    # [D - 16, D) = Dec 4..19 holds Dec 4..10: 7 scheduled, Dec 9 missing
    assert (out["l7d_expected"], out["l7d_actual"]) == (7, 6)
    # [D - 23, D) = Nov 27..Dec 19: all 10 scheduled
    assert (out["l14d_expected"], out["l14d_actual"]) == (10, 9)
    assert out["missing_games_before"] == 1


def test_quality_tiers():
    df = pl.DataFrame({"p": [1.0, 0.95, 0.8, 0.5, 0.3, 0.1]})
    assert df.select(pdc.quality_tier_expr(pl.col("p")).alias("t"))["t"].to_list() == [
        "gold", "gold", "silver", "bronze", "poor", "unusable"]
