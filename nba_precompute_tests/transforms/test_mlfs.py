"""MLFS feature resolution, calculated features and the quality score on hand-built frames."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute import schemas
from nba_precompute.schemas import ML_FEATURE_STORE_V2
from nba_precompute.transforms import mlfs

NO_SOURCE = (25, 26, 27, 38, 41, 42, 47, 50, 51, 52, 53, 54, 55, 56)


def test_feature_list_is_the_single_source_of_truth():
    assert [f.index for f in schemas.FEATURES] == list(range(60))
    assert len(set(schemas.FEATURE_NAMES)) == 60
    optional = {25, 26, 27, *range(37, 60)}
    assert {f.index for f in schemas.FEATURES if not f.required} == optional
    # the table's feature columns are generated from FEATURES, in order, each with its source tag
    cols = ML_FEATURE_STORE_V2.column_names
    start = cols.index("points_avg_last_5")
    expected = [c for f in schemas.FEATURES for c in (f.name, f"{f.name}_source")]
    assert cols[start:start + 120] == expected
    assert all(ML_FEATURE_STORE_V2.column(f.name).type == "FLOAT64" for f in schemas.FEATURES)
    # features without a source here have no candidate and no default: NULL, source missing
    cands = mlfs._candidates(pl.DataFrame())
    for i in NO_SOURCE:
        assert schemas.FEATURES[i].name not in cands and schemas.FEATURES[i].default is None
    # usage default on the 0-1 scale (reference 20.0 -> 0.20); only fatigue is 0-100
    assert schemas.FEATURES_BY_NAME["usage_rate_last_5"].default == 0.20
    assert [f.name for f in schemas.FEATURES if f.valid_range and f.valid_range[1] == 100 and f.unit != "games"] == [
        "fatigue_score"]


def _working_frame(n: int, **values) -> pl.DataFrame:
    """A working frame with every column the candidates read, NULL unless given."""
    strings = {"player_status", "season_phase"}
    roots = sorted({r for cs in mlfs._candidates(pl.DataFrame()).values() for _, e in cs for r in e.meta.root_names()})
    data = {c: pl.Series(c, values.get(c, [None] * n), dtype=pl.String if c in strings else pl.Float64)
            for c in roots}
    return pl.DataFrame(data)


def test_fallback_chain_nullable_and_defaults():
    nan = float("nan")
    w = _working_frame(
        3,
        pdc_points_avg_last_5=[20.0, nan, None], p3_points_avg_last_5=[18.0, 18.0, None],
        psza_paint_rate_last_10=[0.45, None, None], p3_paint_rate_last_10=[0.5, 0.3, None],
        days_rest=[3.0, 1.0, None], opponent_days_rest=[0.0, 1.0, 2.0],
        player_status=[None, "Questionable", "out"],
        pcf_fatigue_score=[80.0, None, None],
    )
    out = mlfs.resolve_features(w)
    assert out["points_avg_last_5"].to_list() == [20.0, 18.0, 10.0]
    assert out["points_avg_last_5_source"].to_list() == ["phase4", "phase3", "default"]  # NaN counts as missing
    # PSZA rates are already 0-1: no division by 100 (legacy bug B1); nullable -> NULL / missing
    assert out["pct_paint"].to_list() == [0.45, 0.3, None]
    assert out["pct_paint_source"].to_list() == ["phase4", "phase3", "missing"]
    assert out["rest_advantage"].to_list() == [2.0, 0.0, 0.0]
    assert out["rest_advantage_source"].to_list() == ["calculated", "calculated", "default"]
    assert out["injury_risk"].to_list() == [0.0, 2.0, 3.0]
    assert out["fatigue_score"].to_list() == [80.0, 50.0, 50.0]
    assert out["fatigue_score_source"].to_list() == ["phase4", "default", "default"]
    assert out["vegas_points_line"].to_list() == [None] * 3
    assert set(out["vegas_points_line_source"]) == {"missing"}
    assert out["has_vegas_line"].to_list() == [0.0] * 3
    assert set(out["has_vegas_line_source"]) == {"calculated"}


def test_recent_trend_and_minutes_change_branches():
    df = pl.DataFrame({"s2": [40.0, 30.0, 20.0, 16.0, 10.0, 40.0], "s5": [70.0, 66.0, 50.0, 46.0, 40.0, 70.0],
                       "n5": [5, 5, 5, 5, 5, 4]})
    # d = s2 / 2 - (s5 - s2) / 3 = 10, 3, 0, -2, -5, (4 games -> NULL)
    out = df.select(mlfs.recent_trend_expr(pl.col("s2"), pl.col("s5"), pl.col("n5")).alias("t"))["t"].to_list()
    assert out == [2.0, 1.0, 0.0, -1.0, -2.0, None]
    m = pl.DataFrame({"r": [36.0, 34.0, 30.0, 26.0, 20.0, 0.0, 30.0], "s": [30.0] * 6 + [None]})
    # (r - s) / s = 0.2, 0.133, 0, -0.133, -0.333, (recent 0), (season NULL)
    out = m.select(mlfs.minutes_change_expr(pl.col("r"), pl.col("s")).alias("c"))["c"].to_list()
    assert out == [2.0, 1.0, 0.0, -1.0, -2.0, None, None]


def _sources(base: str = "phase4", **tags: str) -> pl.DataFrame:
    return pl.DataFrame({f"{f.name}_source": [tags.get(f.name, base)] for f in schemas.FEATURES})


def test_quality_score_all_phase4_and_all_phase3():
    q = mlfs.add_quality(_sources()).row(0, named=True)
    assert q["feature_quality_score"] == 1.0 and q["quality_tier"] == "gold"
    assert q["quality_alert_level"] == "green" and q["is_quality_ready"] and q["is_training_ready"]
    assert q["quality_alerts"] == [] and q["data_source"] == "phase4" and q["required_default_count"] == 0
    q = mlfs.add_quality(_sources("phase3")).row(0, named=True)
    assert q["feature_quality_score"] == pytest.approx(0.87) and q["quality_tier"] == "silver"
    assert q["is_quality_ready"] and q["is_training_ready"] and q["quality_alert_level"] == "green"
    assert q["data_source"] == "phase3"


def test_quality_cap_069_for_one_required_default():
    q = mlfs.add_quality(_sources(points_avg_last_5="default")).row(0, named=True)
    # uncapped mean (59 x 1 + 0.4) / 60 = 0.99 -> capped at 0.69
    assert q["required_default_count"] == 1 and q["feature_quality_score"] == pytest.approx(0.69)
    assert q["quality_tier"] == "poor" and q["quality_alert_level"] == "yellow" and not q["is_quality_ready"]
    assert q["default_features"] == ["points_avg_last_5"] and q["player_history_quality"] == pytest.approx(
        (23 + 0.4) / 24)  # 24 player-history features


def test_quality_cap_049_for_five_required_defaults_and_missing_counts_as_default():
    tags = dict.fromkeys(("points_avg_last_5", "points_avg_last_10", "points_avg_season", "points_std_last_10"), "default")
    q = mlfs.add_quality(_sources(pct_paint="missing", **tags)).row(0, named=True)
    # (55 + 4 x 0.4 + 0) / 60 = 0.9433 uncapped -> 0.49 with 5 required defaults (a missing one counts)
    assert q["required_default_count"] == 5 and q["feature_quality_score"] == pytest.approx(0.49)
    assert q["quality_tier"] == "critical" and q["quality_alert_level"] == "red"
    assert q["missing_feature_count"] == 1 and q["default_feature_count"] == 4


def test_optional_defaults_are_left_out_and_matchup_alerts():
    optional = {schemas.FEATURES[i].name: "missing" for i in NO_SOURCE}
    optional.update({schemas.FEATURES[i].name: "default" for i in range(43, 50)})
    q = mlfs.add_quality(_sources(**optional)).row(0, named=True)
    assert q["feature_quality_score"] == 1.0  # optional defaulted features are not averaged
    assert q["vegas_quality"] == pytest.approx(0.25)  # 3 missing (0) + has_vegas_line (1)
    # 7 default of 60 = 11.7 %: no high-default alert; with 13 it fires
    assert "high_default_rate_12pct" not in q["quality_alerts"]
    many = {schemas.FEATURES[i].name: "default" for i in range(37, 50)}
    q = mlfs.add_quality(_sources(**many)).row(0, named=True)
    assert q["quality_alerts"] == ["high_default_rate_22pct"]  # 13 / 60 = 21.7 %
    matchup = {schemas.FEATURES[i].name: "default" for i in mlfs.CATEGORIES["matchup"]}
    q = mlfs.add_quality(_sources(**matchup)).row(0, named=True)
    assert q["matchup_quality"] == pytest.approx(0.4)
    assert q["quality_alerts"] == ["all_matchup_features_defaulted", "composite_factors_missing",
                                   "opponent_defense_missing", "matchup_quality_critical"]
    assert not q["has_composite_factors"] and not q["has_opponent_defense"]
    assert q["quality_alert_level"] == "red" and q["feature_quality_score"] == pytest.approx(0.49)


def test_tiers():
    df = pl.DataFrame({"s": [0.95, 0.9, 0.7, 0.5, 0.49]})
    assert df.select(mlfs.tier_expr(pl.col("s")).alias("t"))["t"].to_list() == [
        "gold", "silver", "bronze", "poor", "critical"]


def test_zone_features_of_a_season_without_shot_chart_are_not_applicable():
    zone = dict.fromkeys(mlfs.SHOT_CHART_FEATURES, "missing")
    frame = pl.concat([_sources(**zone)] * 2).with_columns(season_has_shot_chart=pl.Series([False, True]))
    no_chart, chart = mlfs.add_quality(frame).rows(named=True)
    # no chart: the 3 zone features leave every mean and count; 57 phase4 features -> 1.0, gold
    assert no_chart["feature_quality_score"] == 1.0 and no_chart["required_default_count"] == 0
    assert no_chart["matchup_quality"] == 1.0 and no_chart["quality_tier"] == "gold"
    assert no_chart["quality_alerts"] == [] and no_chart["missing_feature_count"] == 3  # still counted as missing
    # same tags in a season with a chart: 3 required features are real gaps -> capped 0.69
    assert chart["required_default_count"] == 3 and chart["feature_quality_score"] == pytest.approx(0.69)
    assert chart["matchup_quality"] == pytest.approx(5 / 6)
    assert chart["quality_alerts"] == ["composite_factors_missing"]
    # every applicable matchup feature defaulted still raises the all-defaulted alert without a chart
    matchup = {schemas.FEATURES[i].name: "default" for i in mlfs.CATEGORIES["matchup"]} | zone
    q = mlfs.add_quality(_sources(**matchup).with_columns(season_has_shot_chart=pl.lit(False))).row(0, named=True)
    assert q["matchup_quality"] == pytest.approx(0.4) and q["required_default_count"] == 5
    assert q["quality_alerts"][:3] == ["all_matchup_features_defaulted", "composite_factors_missing",
                                       "opponent_defense_missing"]


def test_recent_game_features_streak_and_games_since_change():
    """Features 46 (below_avg_streak) and 49 (games_since_change) on hand-built games, D = 2023-02-20."""
    def game(pid, day, team, points, minutes=30.0):
        return {"player_id": pid, "season_year": 2022, "game_date": dt.date(2023, 2, day), "team_abbr": team,
                "points": points, "minutes_played": minutes, "usage_rate": None, "ts_pct": None,
                "paint_attempts": None}
    games = pl.DataFrame([
        # player 1: BOS, BOS, then traded to LAL for 3 games; the last 2 below his mean of 10
        game(1, 11, "BOS", 20), game(1, 13, "BOS", 12), game(1, 15, "LAL", 11), game(1, 17, "LAL", 9),
        game(1, 19, "LAL", 8),
        # player 2: a 15-day gap (> 14) between the 2nd and 3rd game restarts the count; a DNP is no game
        game(2, 1, "MIA", 5), game(2, 2, "MIA", 5), game(2, 17, "MIA", 15), game(2, 18, "MIA", 0, minutes=0.0),
        game(2, 19, "MIA", 4),
        # player 3: last game 19 days before D -> the gap to D itself is structural: 0
        game(3, 1, "NYK", 10),
        # player 4: a game on D itself is not before D -> no game in the window
        game(4, 20, "DEN", 30),
    ])
    d = dt.date(2023, 2, 20)
    keys = pl.DataFrame({"player_id": [1, 2, 3, 4], "season_year": [2022] * 4, "game_date": [d] * 4,
                         "team_abbr": ["LAL", "MIA", "NYK", "DEN"], "mean60": [10.0, 6.0, 10.0, 10.0]})
    out = mlfs._recent_game_features(games, keys).sort("player_id")
    # 1: BOS BOS | LAL LAL LAL -> 3 games since the change; streak: 8 < 10, 9 < 10, 11 >= 10 -> 2
    # 2: gap 02-02 -> 02-17 (15 days) -> 2 games since (02-17, 02-19); streak: 4 < 6, then 15 -> 1
    # 3: 02-01 -> D is 19 days -> 0; streak: 10 < 10 is false -> 0.  4: nothing before D -> NULL
    assert out.get_column("games_since_change").to_list() == [3, 2, 0, None]
    assert out.get_column("below_avg_streak").to_list() == [2, 1, 0, None]
    # on D with another team than his last game's: 0
    moved = mlfs._recent_game_features(games, keys.with_columns(team_abbr=pl.lit("PHX"))).sort("player_id")
    assert moved.get_column("games_since_change").to_list()[:3] == [0, 0, 0]
