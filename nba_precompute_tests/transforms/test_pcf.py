"""PCF factor formulas on hand-built frames with hand-computed values (reference §6.2, SPEC §5)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute.schemas import (
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
)
from nba_precompute.transforms import pcf


def frame_of(spec, rows: list[dict]) -> pl.DataFrame:
    """Rows with the table's full schema; unspecified columns NULL."""
    return pl.DataFrame([{c: r.get(c) for c in spec.column_names} for r in rows], schema=spec.polars_schema)


FATIGUE_COLS = {"days_rest": pl.Int64, "back_to_back": pl.Boolean, "games_in_last_7_days": pl.Int64,
                "minutes_in_last_7_days": pl.Float64, "avg_minutes_per_game_last_7": pl.Float64,
                "back_to_backs_last_14_days": pl.Int64, "player_age": pl.Float64}


def test_fatigue_every_branch_and_clamp():
    rows = [
        # every penalty: 100 - 15 (b2b) - 10 (4 games) - 10 (> 240 min) - 8 (> 35 mpg) - 12 (2 b2bs) - 10 (age 36)
        (1, True, 4, 250.0, 36.0, 2, 36.0),
        # rest bonus +5, one b2b -5, age 31 -5; thresholds not crossed (3 games, 240 min, 35 mpg)
        (3, False, 3, 240.0, 35.0, 1, 31.0),
        # all NULL -> defaults (rest 1, no b2b, 3 games, 200 min, 30 mpg, 0 b2bs, age 25) -> 100
        (None, None, None, None, None, None, None),
        # +5 rest bonus clamps at 100; age 35 -> -10
        (4, False, 1, 30.0, 30.0, 0, 35.0),
        # age exactly 30 -> -5; 2 days rest: no bonus
        (2, False, 2, 60.0, 30.0, 0, 30.0),
    ]
    df = pl.DataFrame(rows, schema=FATIGUE_COLS, orient="row")
    out = pcf.add_fatigue(df)
    assert out["fatigue_score"].to_list() == [35, 95, 100, 95, 95]
    assert out["fatigue_adjustment"].to_list() == [-3.25, -0.25, 0.0, -0.25, -0.25]
    assert out.row(0, named=True)["fatigue_rest_points"] == -15
    assert out.row(1, named=True)["fatigue_rest_points"] == 5
    assert out.row(1, named=True)["fatigue_b2b_points"] == -5
    assert out.row(3, named=True)["fatigue_age_points"] == -10
    # 100 + 5 - 10 = 95: the clamp applies to the sum, not to the bonus alone
    clamp = pcf.add_fatigue(pl.DataFrame([(4, False, 1, 30.0, 30.0, 0, 20.0)], schema=FATIGUE_COLS, orient="row"))
    assert clamp["fatigue_score"].to_list() == [100]
    assert clamp["fatigue_rest_points"].to_list() == [5]


MISMATCH_SCHEMA = {"psza_present": pl.Boolean, "tdza_present": pl.Boolean, "primary_scoring_zone": pl.String,
                   "paint_rate_last_10": pl.Float64, "mid_range_rate_last_10": pl.Float64,
                   "three_pt_rate_last_10": pl.Float64, "opp_paint_defense_vs_league_avg": pl.Float64,
                   "opp_mid_range_defense_vs_league_avg": pl.Float64, "opp_three_pt_defense_vs_league_avg": pl.Float64}


def test_shot_zone_mismatch_branches():
    rows = [
        # paint: rate 0.6 -> w = min(1.2, 1) = 1; d = 0.03 x 100 = 3 -> 3.0 (favorable, > 2)
        (True, True, "paint", 0.6, 0.1, 0.3, 0.03, 0.0, 0.0),
        # mid_range: w = 0.2 / 0.5 = 0.4; d = 5 -> 2.0 (neutral: not > 2)
        (True, True, "mid_range", 0.5, 0.2, 0.3, 0.0, 0.05, 0.0),
        # perimeter uses the three fields: d = -6, w = 1 -> -6, |m| > 5 -> x 1.2 = -7.2
        (True, True, "perimeter", 0.2, 0.3, 0.5, 0.0, 0.0, -0.06),
        # d = 10 -> 12 after amplification -> clamped to 10
        (True, True, "perimeter", 0.05, 0.05, 0.9, 0.0, 0.0, 0.10),
        # balanced falls back to paint: w = 0.3 / 0.5 = 0.6, d = 4 -> 2.4
        (True, True, "balanced", 0.3, 0.3, 0.4, 0.04, -0.05, 0.05),
        # no zone and no rates: paint fields, rate default 0.5 -> w = 1; d = 2 -> 2.0
        (True, True, None, None, None, None, 0.02, 0.0, 0.0),
        # opponent TDZA row missing -> 0.0, no type
        (True, False, "paint", 0.6, 0.1, 0.3, None, None, None),
        # PSZA row missing -> 0.0
        (False, True, None, None, None, None, 0.05, 0.05, 0.05),
    ]
    out = pcf.add_shot_zone_mismatch(pl.DataFrame(rows, schema=MISMATCH_SCHEMA, orient="row"))
    assert out["shot_zone_mismatch_score"].to_list() == pytest.approx([3.0, 2.0, -7.2, 10.0, 2.4, 2.0, 0.0, 0.0])
    assert out["shot_zone_mismatch_type"].to_list() == [
        "favorable", "neutral", "unfavorable", "favorable", "favorable", "neutral", None, None]
    assert out["primary_zone_frequency"].to_list()[:3] == [0.6, 0.2, 0.5]
    assert out["opponent_defense_vs_league"].to_list()[2] == -0.06


def test_pace_score_and_clamp():
    df = pl.DataFrame({"pace_differential": [3.0, -8.0, None, 1.0, 7.0]})
    out = pcf.add_pace(df)
    # diff / 2, clamped to [-3, 3]; NULL -> 0
    assert out["pace_score"].to_list() == [1.5, -3.0, 0.0, 0.5, 3.0]
    assert out["pace_environment"].to_list() == ["fast", "slow", "normal", "normal", "fast"]


def test_usage_spike_on_unit_scale():
    df = pl.DataFrame({
        "projected_usage_rate": [0.30, 0.22, 0.22, 0.17, 0.25, None, 0.40],
        "avg_usage_rate_last_7_games": [0.20, 0.20, 0.20, 0.20, 0.0, None, 0.20],
        "star_teammates_out": [0, 1, 2, 2, 0, 0, 0],
    }, schema_overrides={"star_teammates_out": pl.Int64})
    out = pcf.add_usage_spike(df)
    # (proj - base) x 100 x 0.3:  0.10 -> 3.0;  0.02 -> 0.6 x 1.15 = 0.69;  0.6 x 1.30 = 0.78;
    # -0.03 -> -0.9 (no boost when negative);  base 0 -> 0;  NULLs -> 0.25 - 0.25 = 0;  0.20 -> 6 -> clamp 3
    assert out["usage_spike_score"].to_list() == pytest.approx([3.0, 0.69, 0.78, -0.9, 0.0, 0.0, 3.0])
    assert out["usage_trend"].to_list() == ["spike", "stable", "stable", "drop", "spike", "stable", "spike"]


def test_totals_completeness_and_warnings():
    df = pl.DataFrame({
        "fatigue_score": [35], "fatigue_adjustment": [-3.25], "shot_zone_mismatch_score": [9.0],
        "pace_score": [3.0], "usage_spike_score": [3.0], "days_rest": [1], "projected_usage_rate": [None],
        "pace_differential": [6.0], "psza_present": [True], "tdza_present": [False],
    }, schema_overrides={"projected_usage_rate": pl.Float64})
    out = pcf.add_totals_and_flags(df).row(0, named=True)
    assert out["total_composite_adjustment"] == pytest.approx(-3.25 + 9 + 3 + 3)
    assert out["referee_favorability_score"] == 0.0 and out["opponent_strength_score"] == 0.0
    assert out["data_completeness_pct"] == pytest.approx(0.6)
    assert out["missing_data_fields"] == ["projected_usage_rate", "opponent_team_defense_zone_analysis"]
    assert out["warning_details"] == ["EXTREME_FATIGUE", "EXTREME_MATCHUP"]
    assert out["has_warnings"] is True


def test_build_uses_the_opponents_tdza_row_and_writes_every_player():
    d = dt.date(2022, 12, 1)
    upcg = frame_of(UPCOMING_PLAYER_GAME_CONTEXT, [
        {"player_id": 1, "player_lookup": "a", "game_id": "0022200100", "game_date": d, "season_year": 2022, "team_abbr": "AAA",
             "opponent_team_abbr": "BBB", "days_rest": 2, "back_to_back": False, "games_in_last_7_days": 3,
             "minutes_in_last_7_days": 90.0, "avg_minutes_per_game_last_7": 30.0, "back_to_backs_last_14_days": 0,
             "projected_usage_rate": 0.2, "avg_usage_rate_last_7_games": 0.2, "star_teammates_out": 0,
             "pace_differential": 2.0, "is_production_ready": True},
        {"player_id": 2, "player_lookup": "b", "game_id": "0022200100", "game_date": d, "season_year": 2022, "team_abbr": "BBB",
             "opponent_team_abbr": "AAA", "days_rest": None, "back_to_back": False, "games_in_last_7_days": 0,
             "minutes_in_last_7_days": 0.0, "star_teammates_out": 0, "is_production_ready": False},
    ])
    psza = frame_of(PLAYER_SHOT_ZONE_ANALYSIS, [{
        "player_id": 1, "player_lookup": "a", "analysis_date": d, "season_year": 2022, "paint_rate_last_10": 0.6,
        "mid_range_rate_last_10": 0.1, "three_pt_rate_last_10": 0.3, "primary_scoring_zone": "paint", "is_production_ready": True}])
    tdza = frame_of(TEAM_DEFENSE_ZONE_ANALYSIS, [
        {"team_abbr": "AAA", "analysis_date": d, "season_year": 2022, "paint_defense_vs_league_avg": -0.05,
             "mid_range_defense_vs_league_avg": 0.0, "three_pt_defense_vs_league_avg": 0.0, "is_production_ready": True},
        {"team_abbr": "BBB", "analysis_date": d, "season_year": 2022, "paint_defense_vs_league_avg": 0.04,
             "mid_range_defense_vs_league_avg": 0.0, "three_pt_defense_vs_league_avg": 0.0, "is_production_ready": True},
    ])
    uptgc = frame_of(UPCOMING_TEAM_GAME_CONTEXT, [
        {"team_abbr": t, "game_id": "0022200100", "game_date": d, "season_year": 2022, "is_production_ready": True}
        for t in ("AAA", "BBB")])
    schedule = pl.DataFrame({"game_id": ["0022200001", "0022200100"], "game_date": [dt.date(2022, 11, 1), d],
                             "season_year": [2022, 2022], "home_team_abbr": ["AAA", "AAA"],
                             "away_team_abbr": ["BBB", "BBB"]})
    present = pl.DataFrame({"game_id": ["0022200001", "0022200001"], "team_abbr": ["AAA", "BBB"]})
    rows, failures = pcf.build_player_composite_factors(upcg, psza, tdza, uptgc, present, schedule, d, d)
    assert failures.is_empty()
    assert rows["player_id"].to_list() == [1, 2]
    a, b = rows.row(0, named=True), rows.row(1, named=True)
    # player 1 (AAA) faces BBB: paint diff +0.04 -> 4 pp x w 1 = 4.0
    assert a["shot_zone_mismatch_score"] == pytest.approx(4.0)
    assert a["pace_score"] == 1.0 and a["fatigue_score"] == 100
    assert a["all_upstreams_ready"] and a["is_production_ready"]
    assert a["completeness_pct"] == 1.0 and a["expected_games_count"] == 1
    # player 2 has no PSZA row: factor 0, readiness false, still written
    assert b["shot_zone_mismatch_score"] == 0.0 and not b["upstream_player_shot_ready"]
    assert not b["is_production_ready"]
    assert "player_shot_zone_analysis" in b["missing_data_fields"]
    assert "upstream_player_shot_zone_incomplete" in b["data_quality_issues"]
