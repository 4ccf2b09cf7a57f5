import datetime as dt

import polars as pl
import pytest

from nba_precompute.transforms.phase3 import (
    build_player_game_summary,
    build_team_defense_game_summary,
    build_team_offense_game_summary,
    build_upcoming_player_game_context,
    build_upcoming_team_game_context,
)
from nba_precompute_tests.builders import days, player_games, schedule

D0 = dt.date(2022, 10, 18)
SCHED = pl.DataFrame({
    "game_id": ["0022200001"], "game_date": [D0], "season_year": [2022], "home_team_id": [1],
    "away_team_id": [2], "home_team_abbr": ["HOM"], "away_team_abbr": ["AWY"],
})


def _team_logs(home_minutes=240):
    base = {"game_id": "0022200001", "game_date": D0, "three_pt_makes": 10, "three_pt_attempts": 30,
            "ft_makes": 15, "defensive_rebounds": 30, "assists": 20}
    return pl.DataFrame([
        {**base, "team_id": 1, "fg_makes": 40, "fg_attempts": 90, "ft_attempts": 20, "offensive_rebounds": 10,
         "turnovers": 12, "points": 110, "team_minutes": home_minutes},
        {**base, "team_id": 2, "fg_makes": 38, "fg_attempts": 85, "ft_attempts": 25, "offensive_rebounds": 8,
         "turnovers": 15, "points": 100, "team_minutes": home_minutes},
    ])


def test_possessions_pace_and_ratings():
    out = build_team_offense_game_summary(_team_logs(home_minutes=265), SCHED, D0, D0).sort("team_abbr")
    hom = out.filter(pl.col("team_abbr") == "HOM").row(0, named=True)
    poss = 90 + 0.44 * 20 + 12 - 10  # 100.8
    assert hom["possessions"] == pytest.approx(poss)
    assert hom["pace"] == pytest.approx(poss * 48 / (265 / 5))  # one overtime: 53 minutes per player-slot
    assert hom["offensive_rating"] == pytest.approx(110 / poss * 100)
    assert hom["win_flag"] is True and hom["margin_of_victory"] == 10
    assert hom["opponent_team_abbr"] == "AWY" and hom["is_home"] is True


def test_team_defense_is_the_opponent_offense_flipped():
    shots = pl.DataFrame({
        "game_id": ["0022200001"] * 3, "game_date": [D0] * 3, "team_id": [2, 2, 1], "player_id": [7, 7, 8],
        "shot_made": [True, False, True], "shot_type": ["2PT Field Goal", "3PT Field Goal", "2PT Field Goal"],
        "basic_zone": ["Restricted Area", "Left Corner 3", "Mid-Range"], "shot_distance": [1.0, 23.0, 15.0],
    })
    out = build_team_defense_game_summary(_team_logs(), SCHED, shots, D0, D0)
    hom = out.filter(pl.col("defending_team_abbr") == "HOM").row(0, named=True)
    assert (hom["opp_paint_attempts"], hom["opp_paint_makes"]) == (1, 1)
    assert (hom["opp_three_pt_attempts"], hom["opp_three_pt_makes"]) == (1, 0)
    assert hom["opp_mid_range_attempts"] == 0
    assert hom["points_in_paint_allowed"] == 2
    assert hom["points_allowed"] == 100
    opp_poss = 85 + 0.44 * 25 + 15 - 8
    assert hom["opponent_possessions"] == pytest.approx(opp_poss)
    assert hom["defensive_rating"] == pytest.approx(100 / opp_poss * 100)
    assert hom["opponent_pace"] == pytest.approx(opp_poss * 48 / 48)  # per 48 minutes (legacy bug B19)
    assert hom["blocks_paint"] is None
    awy = out.filter(pl.col("defending_team_abbr") == "AWY").row(0, named=True)
    assert (awy["opp_mid_range_attempts"], awy["opp_mid_range_makes"]) == (1, 1)


def _box(rows):
    base = {"game_id": "0022200001", "first_name": "A", "family_name": "B", "position": None, "comment": None,
            "plus_minus": 0.0, "box_three_pt_makes": 0, "box_three_pt_attempts": 0, "ft_makes": 0,
            "offensive_rebounds": 0, "defensive_rebounds": 0, "rebounds": 0, "assists": 0, "steals": 0,
            "blocks": 0, "personal_fouls": 0, "team_abbr": "X"}
    return pl.DataFrame([{**base, **r} for r in rows])


def test_player_game_summary_usage_ts_dnp_and_shot_chart_disagreement():
    box = _box([
        {"team_id": 1, "player_id": 7, "first_name": "Nikola", "family_name": "Jokić", "minutes_played": 36.0,
         "fg_makes": 1, "fg_attempts": 2, "ft_attempts": 5, "turnovers": 3, "points": 10},
        {"team_id": 1, "player_id": 8, "minutes_played": None, "comment": "DNP - Coach's Decision",
         "fg_makes": 0, "fg_attempts": 0, "ft_attempts": 0, "turnovers": 0, "points": 0},
    ])
    shots = pl.DataFrame({  # the shot chart has only 1 of player 7's 2 attempts
        "game_id": ["0022200001"], "game_date": [D0], "team_id": [1], "player_id": [7], "shot_made": [True],
        "shot_type": ["2PT Field Goal"], "basic_zone": ["Restricted Area"], "shot_distance": [2.0],
    })
    out = build_player_game_summary(box, _team_logs(), SCHED, shots, D0, D0).sort("player_id")
    p7, p8 = out.row(0, named=True), out.row(1, named=True)
    assert p7["player_lookup"] == "nikolajokic"
    usage = (2 + 0.44 * 5 + 3) * (240 / 5) / (36.0 * (90 + 0.44 * 20 + 12))
    assert p7["usage_rate"] == pytest.approx(usage)
    assert 0 < p7["usage_rate"] < 1
    assert p7["ts_pct"] == pytest.approx(10 / (2 * (2 + 0.44 * 5)))
    assert p7["has_complete_shot_zones"] is False
    assert p7["data_quality_issues"] == ["shot chart FGA 1 != box score FGA 2"]
    assert p7["opponent_team_abbr"] == "AWY" and p7["team_abbr"] == "HOM" and p7["win_flag"] is True
    # DNP row kept, distinguishable from "no data"
    assert p8["is_dnp"] is True and p8["minutes_played"] is None
    assert p8["dnp_reason"] == "DNP - Coach's Decision"
    assert p8["usage_rate"] is None and p8["ts_pct"] is None


def test_upcoming_player_context_rest_load_usage_and_stars_out():
    dates = days(D0, 10)
    sched = schedule(dates, home="AAA", away="BBB")
    d = dates[-1]  # 10-27
    rows = []
    # player 1 plays 10-18, 19 (b2b), 21, 23, 24 (b2b), 25 (b2b), 26 (b2b) and on D
    p1_days = [dates[i] for i in (0, 1, 3, 5, 6, 7, 8, 9)]
    for i, gd in enumerate(p1_days):
        rows.append({"player_id": 1, "team_abbr": "AAA", "opponent_team_abbr": "BBB", "is_home": True,
                     "game_date": gd, "minutes_played": 30.0, "usage_rate": 0.10 * (i + 1) if i < 7 else 0.9,
                     "points": 10})
    # player 2 (AAA) averages 25 points and sat out AAA's last game before D (10-26): a star out.
    # His box score of D (DNP) is a post-game fact and is not read.
    for gd in dates:
        rows.append({"player_id": 2, "team_abbr": "AAA", "opponent_team_abbr": "BBB", "is_home": True,
                     "game_date": gd, "minutes_played": None if gd in (dates[-2], d) else 30.0, "points": 25})
    pg = player_games(rows, sched)
    team_off = pl.DataFrame({
        "team_abbr": ["AAA"] * 10 + ["BBB"] * 10, "season_year": [2022] * 20, "game_date": dates * 2,
        "pace": [100.0] * 10 + [96.0] * 10,
    })
    out = build_upcoming_player_game_context(pg, team_off, sched, d, d)
    # the pre-game universe: both played for AAA within the 30 days before D (player 2's DNP on D unknown)
    assert out.get_column("player_id").to_list() == [1, 2]
    r = out.row(0, named=True)
    assert r["days_rest"] == 1 and r["back_to_back"] is True
    # [D-7, D) = 10-20 .. 10-26: games on 21, 23, 24, 25, 26
    assert r["games_in_last_7_days"] == 5
    assert r["minutes_in_last_7_days"] == pytest.approx(150.0)
    assert r["avg_minutes_per_game_last_7"] == pytest.approx(30.0)
    # [D-14, D): pairs (18,19), (23,24), (24,25), (25,26)
    assert r["back_to_backs_last_14_days"] == 4
    # last 7 played games before D: usage 0.1 .. 0.7 -> mean 0.4 (games, not days: bug B5)
    assert r["avg_usage_rate_last_7_games"] == pytest.approx(0.4)
    assert r["projected_usage_rate"] == pytest.approx(0.4)
    # AAA's stars (>= 5 played games): 2 (25 ppg) and 1 (10 ppg); 2 missed AAA's last game -> out for 1;
    # a player is not his own teammate
    assert r["star_teammates_out"] == 1
    assert out.row(1, named=True)["star_teammates_out"] == 0
    assert r["pace_differential"] == pytest.approx(4.0)
    assert r["team_pace_last_10"] == pytest.approx(100.0)


def test_upcoming_team_context_rest():
    sched = schedule([D0, D0 + dt.timedelta(days=1), D0 + dt.timedelta(days=4)])
    out = build_upcoming_team_game_context(sched, D0, D0 + dt.timedelta(days=4))
    assert out.filter(pl.col("team_abbr") == "AAA").get_column("days_rest").to_list() == [None, 1, 3]
    assert out.filter(pl.col("team_abbr") == "AAA").get_column("back_to_back").to_list() == [None, True, False]


# ------------------------------------------------------------------ quality flags (2020-21 reader outputs)

def _flagged_inputs():
    box = _box([
        {"team_id": 1, "player_id": 7, "minutes_played": 36.0, "fg_makes": 1, "fg_attempts": 2, "ft_attempts": 5,
         "turnovers": 3, "points": 10},
        {"team_id": 1, "player_id": 9, "minutes_played": 12.0, "fg_makes": 1, "fg_attempts": 1, "ft_attempts": 2,
         "turnovers": 0, "points": 3},
    ]).with_columns(pl.Series("quality_flags", [
        ["inferred:game_id", "rounded:minutes_played", "unknown:position"],
        ["inferred:game_id", "unknown:position", "estimated:ft_attempts"],
    ], dtype=pl.List(pl.String)))
    logs = _team_logs().with_columns(pl.Series("quality_flags", [["inferred:game_id"], ["estimated:ft_attempts"]],
                                               dtype=pl.List(pl.String)))
    shots = pl.DataFrame({
        "game_id": ["0022200001"] * 3, "game_date": [D0] * 3, "team_id": [1] * 3, "player_id": [7, 7, 9],
        "shot_made": [True, False, True], "shot_type": ["2PT Field Goal"] * 3,
        "basic_zone": ["Restricted Area", "Mid-Range", "Restricted Area"], "shot_distance": [1.0, 15.0, 2.0],
    })
    return box, logs, shots


def test_player_game_summary_appends_quality_flags_and_marks_dependent_metrics():
    box, logs, shots = _flagged_inputs()
    out = build_player_game_summary(box, logs, SCHED, shots, D0, D0).sort("player_id")
    p7, p9 = out.row(0, named=True), out.row(1, named=True)
    # own flags appended after the (empty) shot-chart checks; usage uses the rounded minutes -> estimated;
    # ts_pct needs points/FGA/FTA only, none flagged for player 7 -> not marked
    assert p7["data_quality_issues"] == ["inferred:game_id", "rounded:minutes_played", "unknown:position",
                                         "estimated:usage_rate"]
    # player 9: his FTA is estimated -> both usage and ts_pct are marked
    assert p9["data_quality_issues"] == ["inferred:game_id", "unknown:position", "estimated:ft_attempts",
                                         "estimated:usage_rate", "estimated:ts_pct"]
    # the values themselves are still computed (marked, not NULLed)
    assert p7["usage_rate"] == pytest.approx((2 + 0.44 * 5 + 3) * (240 / 5) / (36.0 * (90 + 0.44 * 20 + 12)))
    # flags are provenance, not shot-zone disagreements; starters unknown -> NULL, not false
    assert p7["has_complete_shot_zones"] is True and p9["has_complete_shot_zones"] is True
    assert p7["is_starter"] is None and p9["is_starter"] is None


def test_team_flag_on_an_input_marks_usage_of_every_player_of_that_team():
    box, logs, shots = _flagged_inputs()
    # player on the away team (team 2, whose FTA is estimated), with no flags of his own
    away = _box([{"team_id": 2, "player_id": 5, "minutes_played": 30.0, "fg_makes": 0, "fg_attempts": 0,
                  "ft_attempts": 0, "turnovers": 2, "points": 0}]).with_columns(
        pl.lit([], dtype=pl.List(pl.String)).alias("quality_flags"))
    out = build_player_game_summary(pl.concat([box, away]), logs, SCHED, shots, D0, D0)
    p5 = out.filter(pl.col("player_id") == 5).row(0, named=True)
    assert p5["data_quality_issues"] == ["estimated:usage_rate"]
    assert p5["is_starter"] is False  # position known (NULL = bench) when not flagged unknown


def test_builders_without_flags_column_are_unchanged_and_team_tables_ignore_it():
    box, logs, shots = _flagged_inputs()
    with_flags = build_team_offense_game_summary(logs, SCHED, D0, D0)
    without = build_team_offense_game_summary(logs.drop("quality_flags"), SCHED, D0, D0)
    assert with_flags.equals(without) and "quality_flags" not in with_flags.columns
    d1 = build_team_defense_game_summary(logs, SCHED, shots, D0, D0)
    d2 = build_team_defense_game_summary(logs.drop("quality_flags"), SCHED, shots, D0, D0)
    assert d1.equals(d2)
    plain = build_player_game_summary(box.drop("quality_flags"), logs.drop("quality_flags"), SCHED, shots, D0, D0)
    assert plain.get_column("data_quality_issues").to_list() == [[], []]
    assert plain.get_column("is_starter").to_list() == [False, False]


def test_null_pace_is_not_averaged_as_zero_in_pace_last_10():
    dates = days(D0, 4)
    sched = schedule(dates, home="AAA", away="BBB")
    d = dates[-1]
    pg = player_games([{"player_id": 1, "team_abbr": "AAA", "opponent_team_abbr": "BBB", "is_home": True,
                        "game_date": gd} for gd in dates], sched)
    team_off = pl.DataFrame({
        "team_abbr": ["AAA"] * 4 + ["BBB"] * 4, "season_year": [2022] * 8, "game_date": dates * 2,
        # AAA: one game without possessions (NULL pace); BBB: no pace at all (as in 2020-21, no ORB)
        "pace": [100.0, None, 98.0, 50.0, None, None, None, None],
    }, schema_overrides={"pace": pl.Float64})
    r = build_upcoming_player_game_context(pg, team_off, sched, d, d).row(0, named=True)
    assert r["team_pace_last_10"] == pytest.approx(99.0)  # mean of 100 and 98, not (100 + 0 + 98) / 3
    assert r["opponent_pace_last_10"] is None and r["pace_differential"] is None


def test_star_teammates_out_needs_no_dnp_rows():
    dates = days(D0, 8)
    sched = schedule(dates, home="AAA", away="BBB")
    d = dates[-1]
    before = dates[:-1]
    rows = [{"player_id": 1, "team_abbr": "AAA", "opponent_team_abbr": "BBB", "is_home": True, "game_date": gd}
            for gd in before]
    # player 2 (AAA) averages 25 points and is listed DNP in AAA's last game before D; player 3 plays for BBB
    rows += [{"player_id": 2, "team_abbr": "AAA", "opponent_team_abbr": "BBB", "is_home": True, "game_date": gd,
              "minutes_played": None if gd == before[-1] else 30.0, "points": 25} for gd in before]
    rows += [{"player_id": 3, "team_abbr": "BBB", "opponent_team_abbr": "AAA", "is_home": False, "game_date": gd}
             for gd in before]
    team_off = pl.DataFrame({"team_abbr": ["AAA"] * 8 + ["BBB"] * 8, "season_year": [2022] * 16,
                             "game_date": dates * 2, "pace": [100.0] * 16})
    pg = player_games(rows, sched)
    out = build_upcoming_player_game_context(pg, team_off, sched, d, d).sort("player_id")
    assert out.get_column("star_teammates_out").to_list() == [1, 0, 0]  # hoopR-like source: DNP rows listed
    # a source that lists only players who appeared (2020-21: no DNP rows, flagged): the same answer,
    # because "did not play" is "no played row", not "a DNP row"
    flagged = pg.filter(~pl.col("is_dnp")).with_columns(
        pl.lit(["unknown:dnp_rows"], dtype=pl.List(pl.String)).alias("data_quality_issues"))
    assert build_upcoming_player_game_context(flagged, team_off, sched, d, d).sort("player_id").equals(out)
