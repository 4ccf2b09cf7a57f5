"""Domain rules of the raw frames (``nba_precompute.raw.domain``): bad input never becomes wrong numbers.

Three layers:

* hand-built frames: one valid miniature league day, then one mutation per rule; the exact message
  line of the rule (file, line, column as named in the file, value) must appear;
* mutated copies of the REAL files (the first two weeks of 2022-23, rewritten in their own format in
  ``tmp_path``): the message names the copy, the line of the mutated row, the column and the value;
* Dagster: the two adversary cases run through the Phase 3 assets into a DuckDB file holding a clean
  run's data; the run fails and every table is unchanged.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import re
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import polars as pl
import pytest
from dagster import DagsterInstance

from nba_precompute.defs.resources import RawDataResource
from nba_precompute.partitions import game_calendar
from nba_precompute.pipeline import materialize_range
from nba_precompute.raw import domain, readers
from nba_precompute.raw.inputs import RawInputs
from nba_precompute.raw.readers import RawDataError

# ------------------------------------------------------------------------------------------------
# hand-built frames: two games on 2022-10-18 (PHI at BOS, LAL at GSW), the season's last day, an
# All-Star game and a playoff game whose teams are not known yet

BOS, PHI, GSW, LAL, DET, ORL = (1610612738, 1610612755, 1610612744, 1610612747, 1610612765, 1610612753)
OPENING = dt.date(2022, 10, 18)


def _schedule() -> pl.DataFrame:
    return pl.DataFrame({
        "game_id": ["0022200001", "0022200002", "0022201230", "0032200001", "0042200101"],
        "game_date": [OPENING, OPENING, dt.date(2023, 4, 9), dt.date(2023, 2, 19), dt.date(2023, 4, 15)],
        "season_year": [2022] * 5,
        "home_team_id": [BOS, GSW, DET, 1610616834, 0],
        "away_team_id": [PHI, LAL, ORL, 1610616833, 0],
        "home_team_abbr": ["BOS", "GSW", "DET", "LBN", None],
        "away_team_abbr": ["PHI", "LAL", "ORL", "GNS", None],
    })


# each team: five players with 48:00 and the same line, one DNP row
PLAYER_LINE = {"fg_makes": 2, "fg_attempts": 4, "box_three_pt_makes": 1, "box_three_pt_attempts": 2,
               "ft_makes": 1, "ft_attempts": 2, "offensive_rebounds": 1, "defensive_rebounds": 2, "rebounds": 3,
               "assists": 1, "steals": 0, "blocks": 0, "turnovers": 1, "personal_fouls": 2, "points": 6}
TEAMS = [("0022200001", BOS, "BOS"), ("0022200001", PHI, "PHI"), ("0022200002", GSW, "GSW"),
         ("0022200002", LAL, "LAL")]


def _box() -> pl.DataFrame:
    rows = []
    for t, (game_id, team_id, abbr) in enumerate(TEAMS):
        for k in range(6):
            dnp = k == 5
            rows.append({
                "game_id": game_id, "team_id": team_id, "team_abbr": abbr, "player_id": 100 * (t + 1) + k,
                "first_name": "P", "family_name": f"{abbr}{k}", "position": "F" if k < 5 else None,
                "comment": "DNP - Coach's Decision" if dnp else None,
                "minutes_played": None if dnp else 48.0, "plus_minus": 0.0,
                **{c: 0 if dnp else v for c, v in PLAYER_LINE.items()},
            })
    return pl.DataFrame(rows)


def _logs() -> pl.DataFrame:
    team = {"fg_makes": 10, "fg_attempts": 20, "three_pt_makes": 5, "three_pt_attempts": 10, "ft_makes": 5,
            "ft_attempts": 10, "offensive_rebounds": 5, "defensive_rebounds": 10, "assists": 5, "turnovers": 5,
            "points": 30, "team_minutes": 240}
    return pl.DataFrame([{"team_id": team_id, "game_id": game_id, "game_date": OPENING, **team}
                         for game_id, team_id, _ in TEAMS])


def _shots() -> pl.DataFrame:
    return pl.DataFrame({
        "game_id": ["0022200001", "0022200001", "0022200002"],
        "game_date": [OPENING] * 3,
        "team_id": [BOS, PHI, LAL],
        "player_id": [100, 200, 400],
        "shot_made": [True, False, True],
        "shot_type": ["2PT Field Goal", "3PT Field Goal", "2PT Field Goal"],
        "basic_zone": ["Restricted Area", "Left Corner 3", "Mid-Range"],
        "shot_distance": [1.0, 22.0, 15.0],
    })


@dataclass(frozen=True)
class World:
    schedule: pl.DataFrame
    box: pl.DataFrame
    logs: pl.DataFrame
    shots: pl.DataFrame

    def validate(self) -> None:
        domain.validate_phase3_inputs(self.schedule, self.box, self.logs, {2023: self.shots})


def _world() -> World:
    return World(_schedule(), _box(), _logs(), _shots())


def _set(df: pl.DataFrame, row: int, **values) -> pl.DataFrame:
    """``df`` with the given columns of row ``row`` (0-based; on line row + 2) replaced."""
    idx = pl.int_range(pl.len())
    return df.with_columns(**{c: pl.when(idx == row).then(pl.lit(v, dtype=df.schema[c])).otherwise(pl.col(c))
                              for c, v in values.items()})


def test_the_hand_built_world_is_valid_and_placeholders_are_tolerated():
    _world().validate()  # includes a playoff game with team id 0 / no tricode and an All-Star game


S, B, L, H = (readers.SCHEDULE_FILE, readers.PLAYER_BOXSCORE_FILE, readers.TEAM_GAME_LOG_FILE,
              readers.SHOTS_FILE.format(end_year=2023))

# (id, frame, mutation, exact message line expected)
HAND_CASES: list[tuple[str, str, Callable[[pl.DataFrame], pl.DataFrame], str]] = [
    # schedule
    ("schedule required", "schedule", lambda d: _set(d, 1, game_date=None),
     f"{S}: 1 row(s) break the rule 'required value present': line 3: game_date is empty"),
    ("schedule duplicate game", "schedule", lambda d: _set(d, 2, game_id="0022200001"),
     f"{S}: 2 row(s) break the rule 'one row per game': line 2: game_id_nba = '0022200001' (on lines 2, 4); "
     "line 4: game_id_nba = '0022200001' (on lines 2, 4)"),
    ("schedule id/season", "schedule", lambda d: _set(d, 2, game_id="0022101230"),
     f"{S}: 1 row(s) break the rule 'game id matches the season': line 4: game_id_nba = '0022101230', season = 2022"),
    ("schedule date outside season", "schedule", lambda d: _set(d, 1, game_date=dt.date(2023, 10, 18)),
     f"{S}: 1 row(s) break the rule 'date inside the season': line 3: game_date = '2023-10-18' (game 0022200002 "
     "of 2022-23 must be dated 2022-09-01..2023-08-31)"),
    ("schedule season too long", "schedule", lambda d: _set(d, 2, game_date=dt.date(2023, 8, 1)),
     f"{S}: 3 row(s) break the rule 'regular season spans fewer than 200 days': line 2: game_date = '2022-10-18' "
     "(the 2022-23 regular season would run 2022-10-18..2023-08-01); line 3: game_date = '2022-10-18' (the "
     "2022-23 regular season would run 2022-10-18..2023-08-01); line 4: game_date = '2023-08-01' (the 2022-23 "
     "regular season would run 2022-10-18..2023-08-01)"),
    ("schedule unknown tricode", "schedule", lambda d: _set(d, 0, home_team_abbr="XYZ"),
     f"{S}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line 2: "
     "home_team_tricode = 'XYZ' (not an NBA franchise tricode in 2022-23)"),
    ("schedule tricode with another team's id", "schedule", lambda d: _set(d, 0, home_team_id=LAL),
     f"{S}: 1 row(s) break the rule 'team id and tricode name the same franchise': line 2: home_team_id = "
     "1610612747, home_team_tricode = 'BOS' (home_team_id 1610612747 is LAL in 2022-23)"),
    ("schedule unknown team id", "schedule", lambda d: _set(d, 0, away_team_id=1610612999),
     f"{S}: 1 row(s) break the rule 'team id and tricode name the same franchise': line 2: away_team_id = "
     "1610612999, away_team_tricode = 'PHI' (PHI is away_team_id 1610612755 in 2022-23)"),
    ("schedule season before the franchise table", "schedule",
     lambda d: _set(d, 2, season_year=2010, game_id="0021001230", game_date=dt.date(2011, 4, 9)),
     f"{S}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line 4: "
     "home_team_tricode = 'DET' (not an NBA franchise tricode in 2010-11)"),
    ("schedule placeholder team in a regular-season game", "schedule",
     lambda d: _set(d, 2, home_team_id=0, home_team_abbr=None),
     f"{S}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line 4: "
     "home_team_tricode = empty (not an NBA franchise tricode in 2022-23)"),
    ("schedule home == away", "schedule", lambda d: _set(d, 2, away_team_id=DET, away_team_abbr="DET"),
     f"{S}: 1 row(s) break the rule 'home and away teams differ': line 4: home_team_id = 1610612765, "
     "away_team_id = 1610612765"),
    ("schedule team twice on a date", "schedule", lambda d: _set(d, 1, away_team_id=PHI, away_team_abbr="PHI"),
     f"{S}: 2 row(s) break the rule 'a team plays at most one regular-season game per date': line 2: "
     "away_team_tricode = 'PHI' (2 regular-season games on 2022-10-18); line 3: away_team_tricode = 'PHI' "
     "(2 regular-season games on 2022-10-18)"),
    # team logs
    ("logs required", "logs", lambda d: _set(d, 3, turnovers=None),
     f"{L}: 1 row(s) break the rule 'required value present': line 5: tov is empty"),
    ("logs duplicate", "logs", lambda d: pl.concat([d, d.head(1)]),
     f"{L}: 2 row(s) break the rule 'one row per team and game': line 2: game_id = '0022200001', team_id = "
     "1610612738 (on lines 2, 6); line 6: game_id = '0022200001', team_id = 1610612738 (on lines 2, 6)"),
    ("logs unknown team id", "logs", lambda d: _set(d, 1, team_id=1610612999),
     f"{L}: 1 row(s) break the rule 'team id is an NBA franchise of the season': line 3: team_id = 1610612999 "
     "(not an NBA franchise id in 2022-23)"),
    ("logs game not scheduled", "logs", lambda d: _set(d, 3, game_id="0022200099"),
     f"{L}: 1 row(s) break the rule 'game is in the schedule': line 5: game_id = '0022200099' (no such game in "
     "the schedule)"),
    ("logs team not in the game", "logs", lambda d: _set(d, 1, team_id=LAL),
     f"{L}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line 3: team_id = "
     "1610612747 (the schedule has game 0022200001 as PHI at BOS (1610612755 at 1610612738))"),
    ("logs negative", "logs", lambda d: _set(d, 0, offensive_rebounds=-1),
     f"{L}: 1 row(s) break the rule 'counts are non-negative': line 2: oreb = -1"),
    ("logs fgm > fga", "logs", lambda d: _set(d, 0, fg_makes=21, points=52),
     f"{L}: 1 row(s) break the rule 'fgm <= fga': line 2: fgm = 21 > fga = 20"),
    ("logs fg3m > fg3a", "logs", lambda d: _set(d, 0, three_pt_makes=11, points=36),
     f"{L}: 1 row(s) break the rule 'fg3m <= fg3a': line 2: fg3m = 11 > fg3a = 10"),
    ("logs ftm > fta", "logs", lambda d: _set(d, 0, ft_makes=11, points=36),
     f"{L}: 1 row(s) break the rule 'ftm <= fta': line 2: ftm = 11 > fta = 10"),
    ("logs fg3m > fgm", "logs", lambda d: _set(d, 0, three_pt_makes=10, three_pt_attempts=15, fg_makes=9,
                                                 fg_attempts=20, points=33),
     f"{L}: 1 row(s) break the rule 'fg3m <= fgm': line 2: fg3m = 10 > fgm = 9"),
    ("logs fg3a > fga", "logs", lambda d: _set(d, 0, three_pt_attempts=21),
     f"{L}: 1 row(s) break the rule 'fg3a <= fga': line 2: fg3a = 21 > fga = 20"),
    ("logs points", "logs", lambda d: _set(d, 2, points=31),
     f"{L}: 1 row(s) break the rule 'pts = 2*fgm + fg3m + ftm': line 4: pts = 31 (2*fgm + fg3m + ftm = 30)"),
    ("logs minutes not 240 + 25k", "logs", lambda d: _set(d, 2, team_minutes=250),
     f"{L}: 1 row(s) break the rule 'team minutes = 240 + 25 x overtimes (0..6)': line 4: min = 250"),
    ("logs teams of a game disagree on minutes", "logs", lambda d: _set(d, 2, team_minutes=265),
     f"{L}: 2 row(s) break the rule 'both teams of a game have the same team minutes': line 4: min = 265 (game "
     "0022200002: 240 vs 265); line 5: min = 240 (game 0022200002: 240 vs 265)"),
    ("logs date outside the regular season", "logs", lambda d: _set(d, 0, game_date=dt.date(2023, 4, 10)),
     f"{L}: 1 row(s) break the rule 'date inside the season's regular season': line 2: game_date = "
     "'APR 10, 2023' (the 2022-23 regular season runs 2022-10-18..2023-04-09)"),
    ("logs date before the scheduled date", "logs", lambda d: _set(d, 0, game_date=dt.date(2022, 10, 17)),
     f"{L}: 1 row(s) break the rule 'date not before the scheduled date': line 2: game_date = 'OCT 17, 2022' "
     "(game 0022200001 is scheduled on 2022-10-18)"),
    # player box scores
    ("box required", "box", lambda d: _set(d, 7, assists=None),
     f"{B}: 1 row(s) break the rule 'required value present': line 9: assists is empty"),
    ("box duplicate player", "box", lambda d: _set(d, 1, player_id=100),
     f"{B}: 2 row(s) break the rule 'one row per player and game': line 2: game_id = '0022200001', "
     "person_id = 100 (on lines 2, 3); line 3: game_id = '0022200001', person_id = 100 (on lines 2, 3)"),
    ("box unknown tricode", "box", lambda d: _set(d, 0, team_abbr="XYZ"),
     f"{B}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line 2: "
     "team_tricode = 'XYZ' (not an NBA franchise tricode in 2022-23)"),
    ("box tricode with another team's id", "box", lambda d: _set(d, 0, team_id=PHI),
     f"{B}: 1 row(s) break the rule 'team id and tricode name the same franchise': line 2: team_id = "
     "1610612755, team_tricode = 'BOS' (team_id 1610612755 is PHI in 2022-23)"),
    ("box team not in the game", "box", lambda d: _set(d, 0, team_id=GSW, team_abbr="GSW"),
     f"{B}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line 2: team_id = "
     "1610612744, team_tricode = 'GSW' (the schedule has game 0022200001 as PHI at BOS (1610612755 at "
     "1610612738))"),
    ("box game not scheduled", "box", lambda d: _set(d, 5, game_id="0022200077"),
     f"{B}: 1 row(s) break the rule 'game is in the schedule': line 7: game_id = '0022200077' (no such game "
     "in the schedule)"),
    ("box negative", "box", lambda d: _set(d, 0, steals=-2),
     f"{B}: 1 row(s) break the rule 'counts are non-negative': line 2: steals = -2"),
    ("box minutes above 78", "box", lambda d: _set(d, 0, minutes_played=80.5),
     f"{B}: 1 row(s) break the rule 'minutes within [0, 78]': line 2: minutes = '80:30'"),
    ("box negative minutes", "box", lambda d: _set(d, 0, minutes_played=-1.0),
     f"{B}: 1 row(s) break the rule 'minutes within [0, 78]': line 2: minutes = '-1:00'"),
    ("box fgm > fga", "box", lambda d: _set(d, 0, fg_makes=5, points=12),
     f"{B}: 1 row(s) break the rule 'field_goals_made <= field_goals_attempted': line 2: field_goals_made = 5 > "
     "field_goals_attempted = 4"),
    ("box 3pm > 3pa", "box", lambda d: _set(d, 0, box_three_pt_makes=2, box_three_pt_attempts=1, points=7),
     f"{B}: 1 row(s) break the rule 'three_pointers_made <= three_pointers_attempted': line 2: "
     "three_pointers_made = 2 > three_pointers_attempted = 1"),
    ("box ftm > fta", "box", lambda d: _set(d, 0, ft_makes=3, points=8),
     f"{B}: 1 row(s) break the rule 'free_throws_made <= free_throws_attempted': line 2: free_throws_made = 3 > "
     "free_throws_attempted = 2"),
    ("box 3pm > fgm", "box", lambda d: _set(d, 0, fg_makes=0, box_three_pt_makes=1, points=2),
     f"{B}: 1 row(s) break the rule 'three_pointers_made <= field_goals_made': line 2: three_pointers_made = 1 > "
     "field_goals_made = 0"),
    ("box 3pa > fga", "box", lambda d: _set(d, 0, box_three_pt_attempts=5),
     f"{B}: 1 row(s) break the rule 'three_pointers_attempted <= field_goals_attempted': line 2: "
     "three_pointers_attempted = 5 > field_goals_attempted = 4"),
    ("box rebounds", "box", lambda d: _set(d, 0, rebounds=4),
     f"{B}: 1 row(s) break the rule 'rebounds_total = rebounds_offensive + rebounds_defensive': line 2: "
     "rebounds_total = 4 (rebounds_offensive + rebounds_defensive = 3)"),
    ("box points", "box", lambda d: _set(d, 0, points=7),
     f"{B}: 1 row(s) break the rule 'points = 2*field_goals_made + three_pointers_made + free_throws_made': "
     "line 2: points = 7 (2*field_goals_made + three_pointers_made + free_throws_made = 6)"),
    ("box DNP with counts", "box", lambda d: _set(d, 5, blocks=1),
     f"{B}: 1 row(s) break the rule 'a row without minutes (DNP) has zero counts': line 7: minutes = empty, "
     "blocks = 1"),
    ("box minutes above the game's length", "box", lambda d: _set(d, 0, minutes_played=48.5),
     f"{B}: 1 row(s) break the rule 'minutes <= the game's length (team min / 5)': line 2: minutes = '48:30' "
     "(the game lasted 48 minutes: team_game_logs.csv.gz min = 240)"),
    ("box rows do not add up to the team log", "box", lambda d: _set(d, 1, assists=2),
     f"{B}: 1 team-game(s) break the rule 'the team's player rows add up to its team log': lines 2-7 (game "
     "0022200001, BOS; team_game_logs.csv.gz line 2): sum of assists = 6 but ast = 5"),
    ("box minutes do not add up to the team log", "box", lambda d: _set(d, 1, minutes_played=46.5),
     f"{B}: 1 team-game(s) break the rule 'the team's player rows add up to its team log': lines 2-7 (game "
     "0022200001, BOS; team_game_logs.csv.gz line 2): sum of minutes = 238.5 but min = 240"),
    ("box team-game without team log", "box",
     lambda d: d.filter(pl.col("team_id") != LAL),
     f"{B}: 1 team-game(s) break the rule 'every team-game has player rows and a team log row': "
     "team_game_logs.csv.gz line 5 (game 0022200002, team_id 1610612747): no player rows in this file"),
    # shots
    ("shots required", "shots", lambda d: _set(d, 1, player_id=None),
     f"{H}: 1 row(s) break the rule 'required value present': line 3: PLAYER_ID is empty"),
    ("shots zone and distance missing", "shots", lambda d: _set(d, 2, basic_zone=None, shot_distance=None),
     f"{H}: 1 row(s) break the rule 'BASIC_ZONE or SHOT_DISTANCE present': line 4: BASIC_ZONE = empty, "
     "SHOT_DISTANCE = empty"),
    ("shots unknown shot type", "shots", lambda d: _set(d, 0, shot_type="Free Throw"),
     f"{H}: 1 row(s) break the rule 'SHOT_TYPE is a known value': line 2: SHOT_TYPE = 'Free Throw' (known: "
     "['2PT Field Goal', '3PT Field Goal'])"),
    ("shots unknown zone", "shots", lambda d: _set(d, 0, basic_zone="Paint"),
     f"{H}: 1 row(s) break the rule 'BASIC_ZONE is a known value': line 2: BASIC_ZONE = 'Paint' (known: "
     "['Restricted Area', 'In The Paint (Non-RA)', 'Mid-Range', 'Left Corner 3', 'Right Corner 3', "
     "'Above the Break 3', 'Backcourt'])"),
    ("shots distance", "shots", lambda d: _set(d, 0, shot_distance=-3.0),
     f"{H}: 1 row(s) break the rule 'SHOT_DISTANCE within [0, 94] ft': line 2: SHOT_DISTANCE = -3.0"),
    ("shots game of another season", "shots", lambda d: _set(d, 0, game_id="0022300001"),
     f"{H}: 1 row(s) break the rule 'GAME_ID is a regular-season game of the file's season': line 2: GAME_ID = "
     "'22300001' (the 2022-23 regular season's ids start with 222)"),
    ("shots unknown team", "shots", lambda d: _set(d, 0, team_id=1610612999),
     f"{H}: 1 row(s) break the rule 'team id is an NBA franchise of the season': line 2: TEAM_ID = 1610612999 "
     "(not an NBA franchise id in 2022-23)"),
    ("shots game not scheduled", "shots", lambda d: _set(d, 0, game_id="0022200555"),
     f"{H}: 1 row(s) break the rule 'game is in the schedule': line 2: GAME_ID = '22200555' (no such game in "
     "the schedule)"),
    ("shots team not in the game", "shots", lambda d: _set(d, 2, team_id=BOS),
     f"{H}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line 4: TEAM_ID = "
     "1610612738 (the schedule has game 0022200002 as LAL at GSW (1610612747 at 1610612744))"),
    ("shots date is not the scheduled date", "shots", lambda d: _set(d, 1, game_date=dt.date(2022, 10, 19)),
     f"{H}: 1 row(s) break the rule 'GAME_DATE is the schedule's date of the game': line 3: GAME_DATE = "
     "'10-19-2022' (game 0022200001 is scheduled on 10-18-2022)"),
    ("shots shooter not in the box score", "shots", lambda d: _set(d, 0, player_id=999),
     f"{H}: 1 row(s) break the rule 'the shooter played for the team in the game (box score)': line 2: "
     "PLAYER_ID = 999, TEAM_ID = 1610612738, GAME_ID = '22200001' (no box-score row for this player and game)"),
    ("shots shooter on the other team", "shots", lambda d: _set(d, 0, player_id=200),
     f"{H}: 1 row(s) break the rule 'the shooter played for the team in the game (box score)': line 2: "
     "PLAYER_ID = 200, TEAM_ID = 1610612738, GAME_ID = '22200001' (the box score, line 8, has team_id "
     "1610612755)"),
    ("shots shooter did not play", "shots", lambda d: _set(d, 0, player_id=105),
     f"{H}: 1 row(s) break the rule 'the shooter played for the team in the game (box score)': line 2: "
     "PLAYER_ID = 105, TEAM_ID = 1610612738, GAME_ID = '22200001' (the box score, line 7, has no minutes for "
     "this player)"),
]


@pytest.mark.parametrize("frame,mutate,expected", [c[1:] for c in HAND_CASES], ids=[c[0] for c in HAND_CASES])
def test_each_rule_on_hand_built_frames(frame, mutate, expected):
    world = _world()
    bad = replace(world, **{frame: mutate(getattr(world, frame))})
    with pytest.raises(RawDataError) as err:
        bad.validate()
    assert expected in str(err.value).splitlines(), str(err.value)


def test_every_broken_rule_of_a_file_is_listed_and_examples_are_capped_at_three():
    box = _box().with_columns(pl.when(pl.col("minutes_played").is_not_null()).then(-5)
                              .otherwise(pl.col("fg_attempts")).alias("fg_attempts"))
    with pytest.raises(RawDataError) as err:
        replace(_world(), box=box).validate()
    msg = str(err.value).splitlines()
    first = next(m for m in msg if "'counts are non-negative'" in m)
    assert first == (f"{B}: 20 row(s) break the rule 'counts are non-negative': line 2: field_goals_attempted = -5; "
                     "line 3: field_goals_attempted = -5; line 4: field_goals_attempted = -5 (3 of 20 shown)")
    rules = {re.search(r"break the rule '(.*?)': ", m).group(1) for m in msg}
    assert {"counts are non-negative", "field_goals_made <= field_goals_attempted",
            "three_pointers_attempted <= field_goals_attempted",
            "the team's player rows add up to its team log"} <= rules


def test_shots_without_a_schedule_check_season_bounds_and_one_date_per_game():
    # 2020-21 has no schedule in the raw data: dates are bounded by the season, one date per game id,
    # except the placeholder id 22000000 of the real 2020-21 file
    shots = _shots().with_columns(pl.col("game_id").str.replace("^00222", "00220"),
                                  pl.lit(dt.date(2020, 12, 22)).alias("game_date"))
    placeholder = _set(shots, 0, game_id="0022000000")
    placeholder = pl.concat([placeholder, _set(placeholder.head(1), 0, game_date=dt.date(2020, 12, 25))])
    domain.validate_shots(placeholder, 2021)  # tolerated
    f21 = readers.SHOTS_FILE.format(end_year=2021)
    with pytest.raises(RawDataError) as err:
        domain.validate_shots(_set(shots, 2, game_date=dt.date(2021, 9, 2)), 2021)
    assert str(err.value) == (f"{f21}: 1 row(s) break the rule 'GAME_DATE inside the season': line 4: GAME_DATE = "
                              "'09-02-2021' (outside 2020-09-01..2021-08-31)")
    two_dates = pl.concat([shots, _set(shots.head(1), 0, game_date=dt.date(2020, 12, 23))])
    with pytest.raises(RawDataError) as err:
        domain.validate_shots(two_dates, 2021)
    assert str(err.value).startswith(f"{f21}: 3 row(s) break the rule 'one GAME_DATE per game': line 2: "
                                     "GAME_DATE = '12-22-2020' (game 0022000001 has 2 dates)")


def test_franchise_table():
    assert len(domain.franchises(2022)) == 30 and domain.franchises(2022)["BOS"] == BOS
    assert domain.franchises(2025) == domain.franchises(2020)
    assert domain.franchises(2013) == {}  # not covered: every code is rejected until the table is extended
    assert len(set(domain.NBA_FRANCHISES.values())) == 30


def test_line_numbers_follow_quoted_line_breaks(tmp_path):
    # a comment with a line break shifts every later record by one line
    header = ("game_id,team_id,team_tricode,person_id,first_name,family_name,position,comment,minutes,"
              "plus_minus_points," + ",".join(readers._BOX_COUNTS) + "\n")
    counts = ",".join("0" for _ in readers._BOX_COUNTS)
    text = (header + f'0022200001,{BOS},BOS,1,A,B,,"DNP -\nrest",,0.0,{counts}\n'
            + f"0022200001,{BOS},BOS,2,C,D,,,10:00,0.0,{counts.replace('0', '-1', 1)}\n")
    path = tmp_path / readers.PLAYER_BOXSCORE_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(gzip.compress(text.encode()))
    box = readers.read_player_boxscores(tmp_path)
    assert box.get_column("source_line").to_list() == [2, 4]
    with pytest.raises(RawDataError) as err:
        domain.validate_player_boxscores(box.filter(pl.col("player_id") == 2), _schedule(), source=path)
    assert f"{path}: 1 row(s) break the rule 'counts are non-negative': line 4: field_goals_made = -1" in str(err.value)


# ------------------------------------------------------------------------------------------------
# the real files


@pytest.mark.real_data
def test_every_real_file_passes_every_rule(raw_data_dir):
    """All seasons in the raw directory: hoopR 2022-23 .. 2025-26 and the 2020-21, 2022-23, 2023-24 shots."""
    schedule = readers.read_schedule(raw_data_dir)
    box = readers.read_player_boxscores(raw_data_dir)
    logs = readers.read_team_game_logs(raw_data_dir)
    shots = {y: readers.read_shots(raw_data_dir, y) for y in (2021, 2023, 2024)}
    assert sorted(box.get_column("game_id").str.slice(3, 2).unique().to_list()) == ["22", "23", "24", "25"]
    domain.validate_phase3_inputs(schedule, box, logs, shots, domain.Phase3Sources.under(raw_data_dir))
    # the measurements the bounds rest on
    assert box.get_column("minutes_played").max() == pytest.approx(55 + 6 / 60)
    assert sorted(logs.get_column("team_minutes").unique().to_list()) == [240, 265, 290]


RUN_START, RUN_END = dt.date(2022, 10, 18), dt.date(2022, 10, 31)


@dataclass(frozen=True)
class RawCopy:
    """String frames of the real files, limited to the regular-season games of [RUN_START, RUN_END]
    (the schedule is kept whole: it defines the season calendar)."""

    schedule: pl.DataFrame
    box: pl.DataFrame
    logs: pl.DataFrame
    shots: pl.DataFrame

    def write(self, root: Path) -> Path:
        """Write the four files under ``root`` in their own formats (gzip CSV, zipped CSV)."""
        for rel, df in ((readers.SCHEDULE_FILE, self.schedule), (readers.PLAYER_BOXSCORE_FILE, self.box),
                        (readers.TEAM_GAME_LOG_FILE, self.logs)):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(gzip.compress(df.write_csv().encode()))
        shots = root / readers.SHOTS_FILE.format(end_year=2023)
        shots.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(shots, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("NBA_2023_Shots.csv", self.shots.write_csv())
        return root


@pytest.fixture(scope="module")
def real_copy(raw_data_dir) -> RawCopy:
    def text(rel):
        return readers._read_text_csv(raw_data_dir / rel).drop(readers.SOURCE_LINE)

    schedule = text(readers.SCHEDULE_FILE)
    games = schedule.filter(pl.col("game_id_nba").str.starts_with("002")
                            & pl.col("game_date").is_between(pl.lit(str(RUN_START)), pl.lit(str(RUN_END)))).get_column("game_id_nba")
    return RawCopy(
        schedule=schedule,
        box=text(readers.PLAYER_BOXSCORE_FILE).filter(pl.col("game_id").is_in(games.implode())),
        logs=text(readers.TEAM_GAME_LOG_FILE).filter(pl.col("game_id").is_in(games.implode())),
        shots=text(readers.SHOTS_FILE.format(end_year=2023)).filter(
            pl.col("GAME_ID").str.zfill(10).is_in(games.implode())),
    )


def _mutate(df: pl.DataFrame, where: pl.Expr, **values: str) -> tuple[pl.DataFrame, int]:
    """Set ``values`` (strings, as in the file) on the first row matching ``where``; return the frame and
    the line of that row in the written file (header = line 1)."""
    row = df.with_row_index("__i").filter(where).get_column("__i")[0]
    idx = pl.int_range(pl.len())
    out = df.with_columns(**{c: pl.when(idx == row).then(pl.lit(v)).otherwise(pl.col(c)) for c, v in values.items()})
    return out, row + 2


BOS_HOME_OPENER = "0022200001"  # PHI at BOS, 2022-10-18
_celtic = (pl.col("game_id") == BOS_HOME_OPENER) & (pl.col("team_tricode") == "BOS") & pl.col("minutes").is_not_null()

# (id, file attribute, row filter, new values, expected message line with {path} and {line})
REAL_CASES = [
    ("schedule: BOS -> XYZ (adversary 1)", "schedule", pl.col("game_id_nba") == BOS_HOME_OPENER,
     {"home_team_tricode": "XYZ"},
     "{path}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line {line}: "
     "home_team_tricode = 'XYZ' (not an NBA franchise tricode in 2022-23)"),
    ("schedule: BOS -> XYZ, the id still says BOS", "schedule", pl.col("game_id_nba") == BOS_HOME_OPENER,
     {"home_team_tricode": "XYZ"},
     "{path}: 1 row(s) break the rule 'team id and tricode name the same franchise': line {line}: home_team_id = "
     "1610612738, home_team_tricode = 'XYZ' (home_team_id 1610612738 is BOS in 2022-23)"),
    ("schedule: BOS with the Lakers' id", "schedule", pl.col("game_id_nba") == BOS_HOME_OPENER,
     {"home_team_id": "1610612747"},
     "{path}: 1 row(s) break the rule 'team id and tricode name the same franchise': line {line}: home_team_id = "
     "1610612747, home_team_tricode = 'BOS' (home_team_id 1610612747 is LAL in 2022-23)"),
    ("schedule: date a year late", "schedule", pl.col("game_id_nba") == BOS_HOME_OPENER,
     {"game_date": "2023-10-18"},
     "{path}: 1 row(s) break the rule 'date inside the season': line {line}: game_date = '2023-10-18' (game "
     "0022200001 of 2022-23 must be dated 2022-09-01..2023-08-31)"),
    ("schedule: game id of another season", "schedule", pl.col("game_id_nba") == BOS_HOME_OPENER,
     {"season": "2021"},
     "{path}: 1 row(s) break the rule 'game id matches the season': line {line}: game_id_nba = '0022200001', "
     "season = 2021"),
    ("logs: negative attempts", "logs", (pl.col("game_id") == BOS_HOME_OPENER) & (pl.col("team_id") == str(BOS)),
     {"fta": "-4"},
     "{path}: 1 row(s) break the rule 'counts are non-negative': line {line}: fta = -4"),
    ("logs: minutes 250", "logs", pl.col("game_id") == BOS_HOME_OPENER, {"min": "250"},
     "{path}: 1 row(s) break the rule 'team minutes = 240 + 25 x overtimes (0..6)': line {line}: min = 250"),
    ("logs: points", "logs", pl.col("game_id") == BOS_HOME_OPENER, {"pts": "200"},
     "{path}: 1 row(s) break the rule 'pts = 2*fgm + fg3m + ftm': line {line}: pts = 200 (2*fgm + fg3m + ftm = 126)"),
    ("logs: team not in the game", "logs", (pl.col("game_id") == BOS_HOME_OPENER) & (pl.col("team_id") == str(PHI)),
     {"team_id": str(LAL)},
     "{path}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line {line}: "
     "team_id = 1610612747 (the schedule has game 0022200001 as PHI at BOS (1610612755 at 1610612738))"),
    ("logs: logged before the scheduled date", "logs", pl.col("game_id") == BOS_HOME_OPENER,
     {"game_date": "OCT 17, 2022"},
     "{path}: 1 row(s) break the rule 'date not before the scheduled date': line {line}: game_date = "
     "'OCT 17, 2022' (game 0022200001 is scheduled on 2022-10-18)"),
    ("box: FGA = -5 (adversary 2)", "box", _celtic, {"field_goals_attempted": "-5"},
     "{path}: 1 row(s) break the rule 'counts are non-negative': line {line}: field_goals_attempted = -5"),
    ("box: FGA = -5, made > attempted", "box", _celtic, {"field_goals_attempted": "-5"},
     "{path}: 1 row(s) break the rule 'field_goals_made <= field_goals_attempted': line {line}: "
     "field_goals_made = 14 > field_goals_attempted = -5"),
    ("box: unknown tricode", "box", _celtic, {"team_tricode": "XYZ"},
     "{path}: 1 row(s) break the rule 'team tricode is an NBA franchise of the season': line {line}: "
     "team_tricode = 'XYZ' (not an NBA franchise tricode in 2022-23)"),
    ("box: a team that is not in the game", "box", _celtic, {"team_tricode": "GSW", "team_id": str(GSW)},
     "{path}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line {line}: "
     "team_id = 1610612744, team_tricode = 'GSW' (the schedule has game 0022200001 as PHI at BOS (1610612755 "
     "at 1610612738))"),
    ("box: rebounds", "box", _celtic, {"rebounds_total": "30"},
     "{path}: 1 row(s) break the rule 'rebounds_total = rebounds_offensive + rebounds_defensive': line {line}: "
     "rebounds_total = 30 (rebounds_offensive + rebounds_defensive = 3)"),
    ("box: points", "box", _celtic, {"points": "36"},
     "{path}: 1 row(s) break the rule 'points = 2*field_goals_made + three_pointers_made + free_throws_made': "
     "line {line}: points = 36 (2*field_goals_made + three_pointers_made + free_throws_made = 35)"),
    ("box: 3PA > FGA", "box", _celtic, {"three_pointers_attempted": "25"},
     "{path}: 1 row(s) break the rule 'three_pointers_attempted <= field_goals_attempted': line {line}: "
     "three_pointers_attempted = 25 > field_goals_attempted = 24"),
    ("box: minutes beyond the game", "box", _celtic, {"minutes": "49:10"},
     "{path}: 1 row(s) break the rule 'minutes <= the game's length (team min / 5)': line {line}: minutes = "
     "'49:10' (the game lasted 48 minutes: team_game_logs.csv.gz min = 240)"),
    ("box: minutes beyond any game", "box", _celtic, {"minutes": "95:00"},
     "{path}: 1 row(s) break the rule 'minutes within [0, 78]': line {line}: minutes = '95:00'"),
    ("box: DNP row with assists", "box", (pl.col("game_id") == BOS_HOME_OPENER) & pl.col("minutes").is_null(),
     {"assists": "3"},
     "{path}: 1 row(s) break the rule 'a row without minutes (DNP) has zero counts': line {line}: minutes = "
     "empty, assists = 3"),
    ("shots: date not the game's", "shots", pl.col("GAME_ID") == "22200001", {"GAME_DATE": "10-19-2022"},
     "{path}: 1 row(s) break the rule 'GAME_DATE is the schedule's date of the game': line {line}: GAME_DATE = "
     "'10-19-2022' (game 0022200001 is scheduled on 10-18-2022)"),
    ("shots: unknown zone", "shots", pl.col("GAME_ID") == "22200001", {"BASIC_ZONE": "Paint"},
     "{path}: 1 row(s) break the rule 'BASIC_ZONE is a known value': line {line}: BASIC_ZONE = 'Paint' (known: "
     "['Restricted Area', 'In The Paint (Non-RA)', 'Mid-Range', 'Left Corner 3', 'Right Corner 3', "
     "'Above the Break 3', 'Backcourt'])"),
    ("shots: distance", "shots", pl.col("GAME_ID") == "22200001", {"SHOT_DISTANCE": "120"},
     "{path}: 1 row(s) break the rule 'SHOT_DISTANCE within [0, 94] ft': line {line}: SHOT_DISTANCE = 120.0"),
    ("shots: team not in the game", "shots", (pl.col("GAME_ID") == "22200001") & (pl.col("TEAM_ID") == str(BOS)),
     {"TEAM_ID": str(LAL)},
     "{path}: 1 row(s) break the rule 'team is one of the schedule's two teams of the game': line {line}: "
     "TEAM_ID = 1610612747 (the schedule has game 0022200001 as PHI at BOS (1610612755 at 1610612738))"),
    ("shots: shooter not in the box score", "shots", pl.col("GAME_ID") == "22200001", {"PLAYER_ID": "42"},
     "{path}: 1 row(s) break the rule 'the shooter played for the team in the game (box score)': line {line}: "
     "PLAYER_ID = 42, TEAM_ID = 1610612755, GAME_ID = '22200001' (no box-score row for this player and game)"),
]
_FILES = {"schedule": readers.SCHEDULE_FILE, "box": readers.PLAYER_BOXSCORE_FILE, "logs": readers.TEAM_GAME_LOG_FILE,
          "shots": readers.SHOTS_FILE.format(end_year=2023)}


@pytest.mark.real_data
def test_the_real_copy_is_valid(real_copy, tmp_path):
    raw = RawDataResource(directory=str(real_copy.write(tmp_path)))
    inputs = raw.phase3_inputs(RUN_START, RUN_END)
    games = inputs.schedule.filter(pl.col("game_id").str.starts_with("002")
                                   & pl.col("game_date").is_between(RUN_START, RUN_END))
    assert inputs.player_boxscores.get_column("game_id").n_unique() == games.height == 102
    assert inputs.shots.height > 15_000


def quarantine_line(expected: str, path: Path, line: int) -> str:
    """The quarantine's line for the row of a domain message line (``<file> line <L>: rule '<rule>':
    <value> -> blocks``)."""
    rule, value = re.fullmatch(r".*break the rule '(.*)': line \{line\}: (.*)", expected).groups()
    return f"{path} line {line}: rule '{rule}': {value} -> blocks "


@pytest.mark.real_data
@pytest.mark.parametrize("attr,where,values,expected", [c[1:] for c in REAL_CASES], ids=[c[0] for c in REAL_CASES])
def test_each_rule_on_a_mutated_copy_of_the_real_files(real_copy, tmp_path, attr, where, values, expected):
    frame, line = _mutate(getattr(real_copy, attr), where, **values)
    root = replace(real_copy, **{attr: frame}).write(tmp_path)
    inputs = RawInputs(root, game_calendar(root).seasons)
    with pytest.raises(RawDataError) as err:
        inputs.require_valid(RUN_START, RUN_END)
    assert quarantine_line(expected, root / _FILES[attr], line) in str(err.value), str(err.value)
    # every row of the copy is of [RUN_START, RUN_END]: the partitions of its first night on are refused
    assert inputs.refuse("nba_analytics.player_game_summary", [RUN_START]) is not None
    assert inputs.refuse("nba_analytics.upcoming_team_game_context", [RUN_END]) is not None


# ------------------------------------------------------------------------------------------------
# through Dagster: a failed run writes nothing


def warehouse_digest(path: str) -> dict[str, str]:
    """sha256 of every table's rows (all columns, ordered by every column), per table."""
    out = {}
    with duckdb.connect(":memory:") as con:
        con.execute(f"ATTACH '{path}' AS w (READ_ONLY)")
        tables = con.execute("SELECT table_schema, table_name FROM information_schema.tables "
                             "WHERE table_catalog = 'w' ORDER BY ALL").fetchall()
        for schema, name in tables:
            rows = con.execute(f'SELECT * FROM w."{schema}"."{name}" ORDER BY ALL').fetchall()
            out[f"{schema}.{name}"] = hashlib.sha256(repr(rows).encode()).hexdigest() + f" ({len(rows)} rows)"
    return out


@pytest.fixture(scope="module")
def clean_warehouse(real_copy, tmp_path_factory) -> tuple[str, dict[str, str]]:
    """Phase 3 over [RUN_START, RUN_END] from the unmodified copy, and its digest."""
    tmp = tmp_path_factory.mktemp("clean")
    db = str(tmp / "warehouse.duckdb")
    ok = materialize_range(str(RUN_START), str(RUN_END), duckdb_path=db, raw_dir=str(real_copy.write(tmp / "raw")),
                           selection="group:phase3_analytics", instance=DagsterInstance.ephemeral())
    assert ok.success
    return db, warehouse_digest(db)


def _step_events(result, kind: str) -> set[str]:
    return {e.step_key for e in result.all_events if e.event_type_value == kind}


def _failure_messages(result) -> list[str]:
    out = []
    for e in result.all_events:
        if e.event_type_value == "STEP_FAILURE":
            err = e.event_specific_data.error
            while err is not None:
                out.extend(err.message.splitlines())
                err = err.cause
    return out


RAW_READING_STEPS = {"nba_analytics__nba_schedule", "nba_analytics__player_game_summary",
                     "nba_analytics__team_offense_game_summary", "nba_analytics__team_defense_game_summary"}


@pytest.mark.real_data
@pytest.mark.parametrize("case", [0, 10], ids=["unknown tricode in the schedule", "negative FGA in the box score"])
def test_a_domain_violation_fails_phase3_and_writes_nothing(real_copy, clean_warehouse, tmp_path, case):
    _, attr, where, values, expected = REAL_CASES[case]
    good_db, digest = clean_warehouse
    assert {"nba_analytics.player_game_summary", "nba_processing.partition_log"} <= set(digest)
    db = str(tmp_path / "warehouse.duckdb")
    shutil.copy(good_db, db)
    frame, line = _mutate(getattr(real_copy, attr), where, **values)
    root = replace(real_copy, **{attr: frame}).write(tmp_path / "raw")

    bad = materialize_range(str(RUN_START), str(RUN_END), duckdb_path=db, raw_dir=str(root),
                            selection="group:phase3_analytics", instance=DagsterInstance.ephemeral(),
                            raise_on_error=False)
    assert not bad.success
    expected = quarantine_line(expected, root / _FILES[attr], line)
    assert any(expected in m for m in _failure_messages(bad)), _failure_messages(bad)
    assert warehouse_digest(db) == digest  # every table, every row, every column as before the run
    # every raw-reading step failed before writing; the steps downstream of them never ran
    assert _step_events(bad, "STEP_FAILURE") == RAW_READING_STEPS
    assert _step_events(bad, "STEP_SUCCESS") == set()
    assert not [e for e in bad.all_events if e.event_type_value == "ASSET_MATERIALIZATION"]


def test_the_digest_sees_a_single_changed_value(tmp_path):
    db = str(tmp_path / "w.duckdb")
    with duckdb.connect(db) as con:
        con.execute("CREATE SCHEMA s; CREATE TABLE s.t AS SELECT 1 AS a, 2.5 AS b")
    before = warehouse_digest(db)
    with duckdb.connect(db) as con:
        con.execute("UPDATE s.t SET b = 2.6")
    assert warehouse_digest(db) != before
