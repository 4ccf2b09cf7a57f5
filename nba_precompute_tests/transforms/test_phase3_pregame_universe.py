"""The pre-game player universe of D (SPEC §2, §4) and the features redefined from what is known
before D (``star_teammates_out``), on small hand-built frames with hand-computed answers."""

import datetime as dt

import polars as pl

from nba_precompute.transforms.phase3 import build_upcoming_player_game_context, pregame_universe
from nba_precompute_tests.builders import player_games, schedule

D = dt.date(2022, 12, 1)


def ago(n: int) -> dt.date:
    return D - dt.timedelta(days=n)


def _universe_inputs():
    """AAA-BBB on D-31, D-30, D-5, D-3, D-2, D and D+1; CCC-DDD on D-20 and D."""
    ab = schedule([ago(31), ago(30), ago(5), ago(3), ago(2), D, D + dt.timedelta(days=1)],
                  home="AAA", away="BBB", first_id=1)
    cd = schedule([ago(20), D], home="CCC", away="DDD", first_id=50)
    ab_rows = [
        # 1: CCC on D-20, traded, AAA on D-5 -> AAA (most recent team wins)
        {"player_id": 1, "team_abbr": "AAA", "game_date": ago(5)},
        # 2: last played game 31 days before D -> out of the window; his game on D+1 is never read
        {"player_id": 2, "team_abbr": "AAA", "game_date": ago(31)},
        {"player_id": 2, "team_abbr": "AAA", "game_date": D + dt.timedelta(days=1)},
        # 3: exactly 30 days before D -> in
        {"player_id": 3, "team_abbr": "AAA", "game_date": ago(30)},
        # 4: only a DNP row (no played game) -> out
        {"player_id": 4, "team_abbr": "AAA", "game_date": ago(3), "minutes_played": None},
        # 5: debut on D -> not knowable before D, absent
        {"player_id": 5, "team_abbr": "AAA", "game_date": D},
        # 6: BBB on D-2 and on D -> in (for BBB), his box score of D unused
        {"player_id": 6, "team_abbr": "BBB", "game_date": ago(2)},
        {"player_id": 6, "team_abbr": "BBB", "game_date": D, "points": 40},
    ]
    cd_rows = [
        {"player_id": 1, "team_abbr": "CCC", "game_date": ago(20)},
        # 7: played for CCC on D only -> absent (CCC and DDD have no pre-game universe on D)
        {"player_id": 7, "team_abbr": "CCC", "game_date": D},
    ]
    sched = pl.concat([ab, cd])
    pg = pl.concat([player_games(ab_rows, ab), player_games(cd_rows, cd)])
    return sched, pg


def test_universe_rule_trade_window_dnp_and_debut():
    sched, pg = _universe_inputs()
    u = pregame_universe(pg, sched, D, D).sort("player_id")
    game_on_d = sched.filter((pl.col("game_date") == D) & (pl.col("home_team_abbr") == "AAA")).item(0, "game_id")
    assert u.select("player_id", "team_abbr", "opponent_team_abbr", "home_game", "game_id").rows() == [
        (1, "AAA", "BBB", True, game_on_d),
        (3, "AAA", "BBB", True, game_on_d),
        (6, "BBB", "AAA", False, game_on_d),
    ]
    assert u.get_column("last_game_date").to_list() == [ago(5), ago(30), ago(2)]


def test_universe_reads_no_row_at_or_after_d():
    sched, pg = _universe_inputs()
    before = pg.filter(pl.col("game_date") < D)
    # rows of D and later scrambled: other teams, other minutes, extra players -> same universe
    scrambled = pl.concat([before, pg.filter(pl.col("game_date") >= D).with_columns(
        pl.lit("CCC").alias("team_abbr"), pl.lit(48.0).alias("minutes_played"), (pl.col("player_id") + 100))])
    expected = pregame_universe(before, sched, D, D).sort("player_id")
    assert pregame_universe(pg, sched, D, D).sort("player_id").equals(expected)
    assert pregame_universe(scrambled, sched, D, D).sort("player_id").equals(expected)
    team_off = pl.DataFrame(schema={"team_abbr": pl.String, "season_year": pl.Int64, "game_date": pl.Date,
                                    "pace": pl.Float64})
    full = build_upcoming_player_game_context(pg, team_off, sched, D, D)
    assert full.equals(build_upcoming_player_game_context(before, team_off, sched, D, D))
    assert full.equals(build_upcoming_player_game_context(scrambled, team_off, sched, D, D))
    # teams scheduled on D without anybody (CCC, DDD) simply have no rows
    assert set(full.get_column("team_abbr").to_list()) == {"AAA", "BBB"}


def test_opening_night_has_an_empty_universe_without_raising():
    sched, pg = _universe_inputs()
    first = sched.get_column("game_date").min()
    assert pregame_universe(pg, sched, first, first).is_empty()
    team_off = pl.DataFrame(schema={"team_abbr": pl.String, "season_year": pl.Int64, "game_date": pl.Date,
                                    "pace": pl.Float64})
    out = build_upcoming_player_game_context(pg, team_off, sched, first, first)
    assert out.is_empty() and "star_teammates_out" in out.columns
    # a range over the opening night and D: rows only for D
    out = build_upcoming_player_game_context(pg, team_off, sched, first, D)
    assert out.filter(pl.col("game_date") == first).is_empty() and out.filter(pl.col("game_date") == D).height == 3


def test_star_teammates_out_from_games_before_d():
    games = [ago(50 - 2 * i) for i in range(25)]  # AAA-BBB every other day, D-50 .. D-2
    sched = schedule([*games, D], home="AAA", away="BBB")
    rows = []

    def play(pid, team, dates, points, dnp=()):
        for gd in dates:
            rows.append({"player_id": pid, "team_abbr": team, "game_date": gd, "points": points,
                         "minutes_played": None if gd in dnp else 30.0})

    play(10, "AAA", games, 10)                       # star, played the last game
    play(11, "AAA", games[:6], 25)                   # star, last played D-40 (> 30 days): out
    play(12, "AAA", games, 20, dnp=(games[-1],))     # star, DNP in AAA's last game (D-2): out
    play(13, "AAA", games[:20], 30)                  # top scorer, traded: his last games are for BBB
    play(13, "BBB", games[-2:], 30)                  #   -> BBB's (2 games < 5: no BBB star), not AAA's
    play(14, "AAA", games, 5)                        # 4th scorer: not a star
    play(15, "AAA", games[-3:], 40)                  # 3 games (< 5): not a star yet
    pg = player_games(rows, sched)
    team_off = pl.DataFrame(schema={"team_abbr": pl.String, "season_year": pl.Int64, "game_date": pl.Date,
                                    "pace": pl.Float64})
    out = build_upcoming_player_game_context(pg, team_off, sched, D, D).sort("player_id")
    # AAA's stars: 11 (25 ppg), 12 (20), 10 (10); out: 11 and 12. 12 does not count himself.
    assert out.select("player_id", "team_abbr", "star_teammates_out").rows() == [
        (10, "AAA", 2), (12, "AAA", 1), (13, "BBB", 0), (14, "AAA", 2), (15, "AAA", 2)]
    # the DNP rows are not needed: the same answer without them
    no_dnp = pg.filter(~pl.col("is_dnp"))
    assert build_upcoming_player_game_context(no_dnp, team_off, sched, D, D).sort("player_id").equals(out)
