import datetime as dt

import polars as pl

from nba_precompute.transforms.windows import (
    day_window,
    last_n_window,
    number_games,
    state_before,
)

D = dt.date


def _games():
    # player 1: five games in season 2022 and one in season 2021; player 2: one game
    return pl.DataFrame({
        "player_id": [1, 1, 1, 1, 1, 1, 2],
        "season_year": [2021, 2022, 2022, 2022, 2022, 2022, 2022],
        "game_date": [D(2022, 4, 1), D(2022, 10, 18), D(2022, 10, 20), D(2022, 10, 21), D(2022, 10, 25),
                      D(2022, 10, 27), D(2022, 10, 19)],
        "points": [99, 10, 20, None, 40, 50, 5],
    })


def _keys(dates, player=1, season=2022):
    return pl.DataFrame({"player_id": [player] * len(dates), "season_year": [season] * len(dates),
                         "analysis_date": dates})


def test_state_is_strictly_before_d_and_restarts_each_season():
    numbered = number_games(_games(), ["player_id", "season_year"], ["points"])
    st = state_before(_keys([D(2022, 10, 18), D(2022, 10, 25), D(2022, 10, 26)]), numbered,
                      ["player_id", "season_year"], ["points"]).sort("analysis_date")
    # opening night: nothing before D this season (the 2021-22 game is another season)
    assert st.get_column("game_number").to_list() == [0, 3, 4]
    # the game on 10-25 itself is not used for D = 10-25 (as-of rule)
    assert st.get_column("cum_points").to_list() == [0.0, 30.0, 70.0]
    assert st.get_column("last_game_date").to_list() == [None, D(2022, 10, 21), D(2022, 10, 25)]


def test_last_n_window_sums_only_the_last_n_games():
    numbered = number_games(_games(), ["player_id", "season_year"], ["points"])
    st = state_before(_keys([D(2022, 10, 28), D(2022, 10, 21)]), numbered, ["player_id", "season_year"],
                      ["points"])
    out = last_n_window(st, numbered, ["player_id", "season_year"], ["points"], 2).sort("analysis_date")
    # D = 10-21: two games before (10, 20); D = 10-28: last two are 40 and 50
    assert out.get_column("games_last_2").to_list() == [2, 2]
    assert out.get_column("sum_points_last_2").to_list() == [30.0, 90.0]


def test_window_shorter_than_n_counts_the_games_it_has():
    numbered = number_games(_games(), ["player_id", "season_year"], ["points"])
    st = state_before(_keys([D(2022, 10, 20)]), numbered, ["player_id", "season_year"], ["points"])
    out = last_n_window(st, numbered, ["player_id", "season_year"], ["points"], 10)
    assert out.get_column("games_last_10").to_list() == [1]
    assert out.get_column("sum_points_last_10").to_list() == [10.0]


def test_day_window_is_half_open_d_minus_k_to_d():
    numbered = number_games(_games(), ["player_id", "season_year"], ["points"])
    out = day_window(_keys([D(2022, 10, 25), D(2022, 10, 27)]), numbered, ["player_id", "season_year"],
                     ["points"], 7).sort("analysis_date")
    # [10-18, 10-25): games on 10-18, 10-20, 10-21 (NULL points count as a game with 0 points)
    # [10-20, 10-27): 10-20, 10-21, 10-25
    assert out.get_column("games_last_7d").to_list() == [3, 3]
    assert out.get_column("sum_points_last_7d").to_list() == [30.0, 60.0]
