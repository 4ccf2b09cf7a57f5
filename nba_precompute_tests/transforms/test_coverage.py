"""Upstream integrity on hand-built frames: partitions never written or changed behind the platform's
back, team-games missing from a game-grained table, and the entities they block."""

import datetime as dt

import polars as pl

from nba_precompute.transforms.coverage import (
    blocked_entities,
    missing_team_games,
    partition_gaps,
    summarize_days,
)

D = [dt.date(2022, 11, d) for d in (1, 2, 3, 4)]


def test_partition_gaps_from_the_log_and_the_data():
    log = pl.DataFrame({"partition_date": [D[0], D[1], D[3]], "row_count": [10, 12, 0]})
    actual = pl.DataFrame({"partition_date": [D[0], D[3]], "rows": [10, 0]}, schema={"partition_date": pl.Date,
                                                                                       "rows": pl.Int64})
    gaps = partition_gaps(D, log, actual)
    # 11-01: 10 logged, 10 there -> fine; 11-02: 12 logged, 0 there (deleted); 11-03: never written;
    # 11-04: written empty (no games) and still empty -> fine
    assert gaps.rows() == [(D[1], "0 rows, the partition log says 12"), (D[2], "never materialised")]


def test_summarize_days_stays_short():
    assert summarize_days([D[1], D[0]]) == "2 day(s): 2022-11-01, 2022-11-02"
    many = [dt.date(2022, 10, 18) + dt.timedelta(days=i) for i in range(58)]
    assert summarize_days(many) == "58 days, 2022-10-18 .. 2022-12-14"


def _schedule() -> pl.DataFrame:
    return pl.DataFrame({
        "game_id": ["0022200001", "0022200002", "0022200003"],
        "game_date": [D[0], D[1], D[1]], "season_year": [2022] * 3,
        "home_team_abbr": ["AAA", "CCC", "EEE"], "away_team_abbr": ["BBB", "DDD", "FFF"],
        "game_status": ["played", "played", "postponed"],
    })


def test_missing_team_games_ignores_postponed_games():
    present = pl.DataFrame({"game_id": ["0022200001", "0022200001", "0022200002"], "team_abbr": ["AAA", "BBB", "CCC"]})
    missing = missing_team_games(_schedule(), present)
    # DDD's row of game 2 is missing; game 3 was postponed: nothing expected of EEE / FFF
    assert missing.select("team_abbr", "game_id").rows() == [("DDD", "0022200002")]


def test_blocked_entities_by_window_and_season():
    gaps = pl.DataFrame({"season_year": [2022], "team_abbr": ["DDD"], "game_date": [D[1]], "game_id": ["0022200002"]})
    # the rows' date column is named like the gaps' (game_date, as in PCF and MLFS): no mix-up
    rows = pl.DataFrame({"game_date": [D[1], D[2], D[2], D[2]], "team_abbr": ["DDD", "DDD", "AAA", "DDD"]})
    seasons = pl.DataFrame({"game_date": [D[1], D[2]], "season_year": [2022, 2022]})
    before = blocked_entities(rows, "game_date", seasons, gaps, "before").sort("game_date")
    # the game on 11-02 is history for D = 11-03 only (before D); AAA is not affected
    assert before.select("game_date", "team_abbr", "missing_games", "example").rows() == [
        (D[2], "DDD", 1, "0022200002 on 2022-11-02")]
    through = blocked_entities(rows, "game_date", seasons, gaps, "through")
    assert sorted(through.get_column("game_date").to_list()) == [D[1], D[2]]
    # another season's gap never blocks
    other = blocked_entities(rows, "game_date", seasons.with_columns(pl.lit(2023).alias("season_year")), gaps, "before")
    assert other.is_empty()
