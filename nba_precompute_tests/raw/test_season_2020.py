"""The 2020-21 reader (``nba_precompute.raw.season_2020``).

Three kinds of tests: derivations on a hand-built four-game season (values computed by hand in the
comments), invariants on the real 2020-21 files, and malformed input on small mutated copies of the
real files made in ``tmp_path``.
"""

from __future__ import annotations

import datetime as dt
import shutil
import zipfile
from pathlib import Path

import polars as pl
import pytest

from nba_precompute import schemas
from nba_precompute.raw import readers
from nba_precompute.raw import season_2020 as s20
from nba_precompute.raw.readers import RawDataError
from nba_precompute.transforms import phase3

D22, D23, D24 = dt.date(2020, 12, 22), dt.date(2020, 12, 23), dt.date(2020, 12, 24)

# --------------------------------------------------------------------------- a hand-built four-game season

TEAM_HEADER = ("TEAM_ID,TEAM_ABBREVIATION,TEAM_NAME,GAME_DATE,MATCHUP,WL,PTS,REB,AST,STL,BLK,TOV,FG_PCT,FG3_PCT,"
               "FT_PCT,PLUS_MINUS,SEASON_TYPE")
TEAM_ROWS = [
    # G1 2020-12-22 BBB @ AAA (shots carry the placeholder id 22000000)
    "1,AAA,Team A,2020-12-22,AAA vs. BBB,W,14,10,5,1,1,3,0.6,0.5,0.778,10,Regular Season",
    "2,BBB,Team B,2020-12-22,BBB @ AAA,L,4,8,2,0,0,4,0.5,1.0,0.25,-10,Regular Season",
    # G2 2020-12-22 DDD @ CCC (placeholder id)
    "3,CCC,Team C,2020-12-22,CCC vs. DDD,L,3,5,1,0,0,2,1.0,,0.25,-2,Regular Season",
    "4,DDD,Team D,2020-12-22,DDD @ CCC,W,5,6,1,0,0,2,1.0,,0.333,2,Regular Season",
    # G3 2020-12-23 AAA @ DDD (observed id 22000002)
    "4,DDD,Team D,2020-12-23,DDD vs. AAA,L,0,3,0,0,0,1,0.0,0.0,,-2,Regular Season",
    "1,AAA,Team A,2020-12-23,AAA @ DDD,W,2,4,0,0,0,1,1.0,,,2,Regular Season",
    # G4 2020-12-24 CCC @ BBB (placeholder id)
    "2,BBB,Team B,2020-12-24,BBB vs. CCC,W,2,4,0,0,0,1,1.0,,,0,Regular Season",
    "3,CCC,Team C,2020-12-24,CCC @ BBB,L,2,4,0,0,0,1,1.0,,,0,Regular Season",
    # a playoff row: dropped (no shot chart, no derivable id)
    "1,AAA,Team A,2021-05-25,AAA vs. BBB,W,100,40,20,5,5,10,0.5,0.4,0.8,10,Playoffs",
]
PLAYER_HEADER = ("PLAYER_ID,PLAYER_NAME,TEAM_ABBREVIATION,GAME_DATE,MATCHUP,WL,MIN,PTS,REB,AST,STL,BLK,TOV,FG_PCT,"
                 "FG3_PCT,FT_PCT,PLUS_MINUS,SEASON_TYPE")
PLAYER_ROWS = [
    "11,Alpha One,AAA,2020-12-22,AAA vs. BBB,W,30,10,3,2,0,0,1,0.667,1.0,0.833,8,Regular Season",
    "12,Beta Two Jr.,AAA,2020-12-22,AAA vs. BBB,W,25,4,2,1,0,0,1,0.5,0.0,0.667,2,Regular Season",
    "13,Gamma Three,AAA,2020-12-22,AAA vs. BBB,W,0,0,0,0,0,0,0,,,,0,Regular Season",
    "21,Delta Four,BBB,2020-12-22,BBB @ AAA,L,40,4,4,1,0,0,2,0.5,1.0,0.5,-10,Regular Season",
    "22,Epsilon Five,BBB,2020-12-22,BBB @ AAA,L,20,0,4,1,0,0,2,,,0.0,-5,Regular Season",
    "31,Zeta Six,CCC,2020-12-22,CCC vs. DDD,L,30,3,3,1,0,0,2,1.0,,1.0,-2,Regular Season",
    "32,Eta Seven,CCC,2020-12-22,CCC vs. DDD,L,10,0,1,0,0,0,0,,,0.0,-1,Regular Season",
    "33,Theta Eight,CCC,2020-12-22,CCC vs. DDD,L,10,0,1,0,0,0,0,,,0.0,-1,Regular Season",
    "41,Iota Nine,DDD,2020-12-22,DDD @ CCC,W,30,5,4,1,0,0,2,1.0,,1.0,2,Regular Season",
    "42,Kappa Ten,DDD,2020-12-22,DDD @ CCC,W,10,0,1,0,0,0,0,,,0.0,1,Regular Season",
    "43,Lambda,DDD,2020-12-22,DDD @ CCC,W,10,0,1,0,0,0,0,,,0.0,1,Regular Season",
    "11,Alpha One,AAA,2020-12-23,AAA @ DDD,W,20,2,4,0,0,0,1,1.0,,,2,Regular Season",
    "41,Iota Nine,DDD,2020-12-23,DDD vs. AAA,L,20,0,3,0,0,0,1,0.0,0.0,,-2,Regular Season",
    "21,Delta Four,BBB,2020-12-24,BBB vs. CCC,W,30,2,4,0,0,0,1,1.0,,,0,Regular Season",
    "31,Zeta Six,CCC,2020-12-24,CCC @ BBB,L,30,2,4,0,0,0,1,1.0,,,0,Regular Season",
    "11,Alpha One,AAA,2021-05-25,AAA vs. BBB,W,40,30,5,5,1,1,2,0.5,0.4,0.8,10,Playoffs",
]
SHOT_HEADER = ("SEASON_1,SEASON_2,TEAM_ID,TEAM_NAME,PLAYER_ID,PLAYER_NAME,POSITION_GROUP,POSITION,GAME_DATE,GAME_ID,"
               "HOME_TEAM,AWAY_TEAM,EVENT_TYPE,SHOT_MADE,ACTION_TYPE,SHOT_TYPE,BASIC_ZONE,ZONE_NAME,ZONE_ABB,"
               "ZONE_RANGE,LOC_X,LOC_Y,SHOT_DISTANCE,QUARTER,MINS_LEFT,SECS_LEFT")


def shot(team: int, player: int, date: str, gid: str, home: str, away: str, made: bool, three: bool,
         quarter: int = 1) -> str:
    return (f"2021,2020-21,{team},Team,{player},P,G,PG,{date},{gid},{home},{away},"
            f"{'Made Shot' if made else 'Missed Shot'},{'TRUE' if made else 'FALSE'},Jump Shot,"
            f"{'3PT Field Goal' if three else '2PT Field Goal'},{'Above the Break 3' if three else 'Restricted Area'},"
            f"Center,C,x,0.0,0.0,{25 if three else 2},{quarter},5,0")


SHOT_ROWS = [
    # G1: AAA p11 2PT made, 2PT miss, 3PT made; p12 3PT miss, 2PT made in overtime (QUARTER 5); BBB p21 2PT miss, 3PT made
    shot(1, 11, "12-22-2020", "22000000", "AAA", "BBB", True, False),
    shot(1, 11, "12-22-2020", "22000000", "AAA", "BBB", False, False),
    shot(1, 11, "12-22-2020", "22000000", "AAA", "BBB", True, True, 2),
    shot(1, 12, "12-22-2020", "22000000", "AAA", "BBB", False, True, 3),
    shot(1, 12, "12-22-2020", "22000000", "AAA", "BBB", True, False, 5),
    shot(2, 21, "12-22-2020", "22000000", "AAA", "BBB", False, False),
    shot(2, 21, "12-22-2020", "22000000", "AAA", "BBB", True, True, 2),
    # G2: CCC p31 2PT made; DDD p41 2PT made x2
    shot(3, 31, "12-22-2020", "22000000", "CCC", "DDD", True, False, 4),
    shot(4, 41, "12-22-2020", "22000000", "CCC", "DDD", True, False),
    shot(4, 41, "12-22-2020", "22000000", "CCC", "DDD", True, False, 4),
    # G3 (observed id): AAA p11 2PT made; DDD p41 3PT miss
    shot(1, 11, "12-23-2020", "22000002", "DDD", "AAA", True, False),
    shot(4, 41, "12-23-2020", "22000002", "DDD", "AAA", False, True, 2),
    # G4: BBB p21 2PT made; CCC p31 2PT made
    shot(2, 21, "12-24-2020", "22000000", "BBB", "CCC", True, False),
    shot(3, 31, "12-24-2020", "22000000", "BBB", "CCC", True, False),
]


def write_season(root: Path, team_rows=TEAM_ROWS, player_rows=PLAYER_ROWS, shot_rows=SHOT_ROWS) -> Path:
    for rel, header, rows in ((s20.TEAM_LOG_FILE, TEAM_HEADER, team_rows),
                              (s20.PLAYER_LOG_FILE, PLAYER_HEADER, player_rows)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("\n".join([header, *rows]) + "\n")
    write_shots_zip(root, "\n".join([SHOT_HEADER, *shot_rows]) + "\n")
    return root


def write_shots_zip(root: Path, text: str) -> None:
    path = root / s20.SHOTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as zf:  # stored, not deflated: fast for the real-size copies
        zf.writestr("NBA_2021_Shots.csv", text)
        zf.writestr("__MACOSX/._NBA_2021_Shots.csv", "junk")


def rows_by(df: pl.DataFrame, **eq) -> dict:
    out = df.filter(pl.all_horizontal([pl.col(k) == v for k, v in eq.items()]))
    assert out.height == 1, (eq, out)
    return out.row(0, named=True)


@pytest.fixture()
def tiny(tmp_path) -> s20.Season2020:
    return s20.read_season_2020(write_season(tmp_path))


def test_schedule_home_away_and_game_ids_observed_or_inferred(tiny):
    sched = tiny.schedule
    assert sched.select(s20.SCHEDULE_COLUMNS).rows() == [
        # 4 games -> ids 00220 00001..00004; 00002 observed (G3); the free ids 1, 3, 4 go to the other games in
        # (date, home tricode) order: (12-22, AAA), (12-22, CCC), (12-24, BBB)
        ("0022000001", D22, 2020, 1, 2, "AAA", "BBB"),
        ("0022000003", D22, 2020, 3, 4, "CCC", "DDD"),
        ("0022000002", D23, 2020, 4, 1, "DDD", "AAA"),
        ("0022000004", D24, 2020, 2, 3, "BBB", "CCC"),
    ]
    assert sched.get_column("quality_flags").to_list() == [["inferred:game_id"]] * 2 + [[]] + [["inferred:game_id"]]


def test_shots_rekeyed_to_schedule_ids(tiny):
    shots = tiny.shots
    assert shots.columns == s20.SHOTS_COLUMNS and shots.height == 14
    assert shots.group_by("game_id").len().sort("game_id").rows() == [
        ("0022000001", 7), ("0022000002", 2), ("0022000003", 3), ("0022000004", 2)]


def test_team_logs_counts_ftm_fta_and_minutes(tiny):
    logs = tiny.team_game_logs
    assert logs.height == 8  # the playoff row is not ingested
    aaa = rows_by(logs, game_id="0022000001", team_id=1)
    # shots: 5 attempts, 3 makes, 2 threes attempted, 1 made; FTM = 14 - 2*3 - 1 = 7; FT_PCT .778 -> 7/9
    assert [aaa[c] for c in ("fg_makes", "fg_attempts", "three_pt_makes", "three_pt_attempts", "ft_makes",
                             "ft_attempts", "points")] == [3, 5, 1, 2, 7, 9, 14]
    assert aaa["team_minutes"] == 265  # a shot in QUARTER 5: one overtime, 240 + 25
    assert aaa["offensive_rebounds"] is None and aaa["defensive_rebounds"] is None
    assert aaa["assists"] == 5 and aaa["turnovers"] == 3
    assert aaa["quality_flags"] == ["inferred:game_id"]
    bbb = rows_by(logs, game_id="0022000001", team_id=2)
    assert (bbb["ft_makes"], bbb["ft_attempts"], bbb["team_minutes"]) == (1, 4, 265)  # 4 - 2 - 1; 1/4 = .25
    ddd = rows_by(logs, game_id="0022000003", team_id=4)
    assert (ddd["ft_makes"], ddd["ft_attempts"], ddd["team_minutes"]) == (1, 3, 240)  # 1/3 = .333, regulation
    ddd3 = rows_by(logs, game_id="0022000002", team_id=4)  # 0/1 from the field, FT_PCT empty -> 0 FTA
    assert (ddd3["fg_makes"], ddd3["fg_attempts"], ddd3["ft_attempts"], ddd3["quality_flags"]) == (0, 1, 0, [])


def test_player_counts_fta_resolution_minutes_and_names(tiny):
    box = tiny.player_boxscores
    assert box.height == 15
    p11 = rows_by(box, game_id="0022000001", player_id=11)
    # 2PT made, 2PT miss, 3PT made: FGM 2 FGA 3 3PM 1 3PA 1; FTM = 10 - 4 - 1 = 5; FT_PCT .833 -> 5/6
    assert [p11[c] for c in ("fg_makes", "fg_attempts", "box_three_pt_makes", "box_three_pt_attempts", "ft_makes",
                             "ft_attempts")] == [2, 3, 1, 1, 5, 6]
    assert p11["minutes_played"] == 30.0 and p11["team_id"] == 1 and p11["team_abbr"] == "AAA"
    assert p11["quality_flags"] == ["inferred:game_id", "rounded:minutes_played", "unknown:position",
                                    "unknown:dnp_rows"]
    assert p11["position"] is None and p11["comment"] is None and p11["personal_fouls"] is None
    assert p11["rebounds"] == 3 and p11["offensive_rebounds"] is None and p11["plus_minus"] == 8.0
    p12 = rows_by(box, game_id="0022000001", player_id=12)
    assert (p12["first_name"], p12["family_name"]) == ("Beta", "Two Jr.")
    assert (p12["ft_makes"], p12["ft_attempts"]) == (2, 3)  # 4 - 2*1 - 0; .667 -> 2/3
    p13 = rows_by(box, game_id="0022000001", player_id=13)  # MIN 0: appeared for under 30 seconds
    assert p13["minutes_played"] == 0.25 and "estimated:minutes_played" in p13["quality_flags"]
    assert (p13["fg_attempts"], p13["ft_attempts"]) == (0, 0)
    # FT_PCT 0: one such player in BBB's game -> team FTA 4 - Delta's 2 = 2, exact, no flag
    p22 = rows_by(box, game_id="0022000001", player_id=22)
    assert p22["ft_attempts"] == 2 and "unknown:ft_attempts" not in p22["quality_flags"]
    # two such players in CCC's game with remainder 4 - 1 = 3: split unknown -> NULL, flagged
    for pid in (32, 33):
        r = rows_by(box, game_id="0022000003", player_id=pid)
        assert r["ft_attempts"] is None and "unknown:ft_attempts" in r["quality_flags"]
    # two in DDD's game with remainder 3 - 1 = 2 = two players -> 1 each
    assert [rows_by(box, game_id="0022000003", player_id=pid)["ft_attempts"] for pid in (42, 43)] == [1, 1]
    lam = rows_by(box, player_id=43)
    assert (lam["first_name"], lam["family_name"]) == ("Lambda", "")
    assert rows_by(box, game_id="0022000002", player_id=11)["quality_flags"] == [
        "rounded:minutes_played", "unknown:position", "unknown:dnp_rows"]


@pytest.mark.parametrize(("ftm", "pct", "fta", "status"), [
    (0, None, 0, "exact"),            # NULL percentage = no attempts
    (7, 0.778, 9, "exact"),           # 7/9 = .7778; 7/8 = .875, 7/10 = .7
    (5, 1.0, 5, "exact"),
    (0, 0.0, None, "unknown"),        # all missed: at least one attempt, count unknown
    (None, 0.5, None, "unknown"),
    (1, 0.3, 3, "estimated"),         # 1/n in [.2995, .3005] has no integer n: round(1 / .3)
    (1000, 0.5, 2000, "estimated"),   # n in [1998.0, 2002.0]: five candidates
    (3, None, None, "mismatch"),      # made free throws but no attempts
    (0, 0.5, None, "mismatch"),
    (-1, 0.5, None, "mismatch"),
])
def test_solve_ft_attempts(ftm, pct, fta, status):
    df = pl.DataFrame({"ftm": [ftm], "pct": [pct]}, schema={"ftm": pl.Int64, "pct": pl.Float64})
    expr_fta, expr_status = s20.solve_ft_attempts(pl.col("ftm"), pl.col("pct"))
    assert df.select(expr_fta.alias("a"), expr_status.alias("s")).row(0) == (fta, status)


def test_assign_game_ids_orders_free_ids_by_date_then_home_and_flags_them():
    # given out of date order; on 12-22 the home tricodes order BKN before LAL, the away ones AAA before GSW
    games = pl.DataFrame({"game_date": [D24, D22, D22, D23], "home_team_abbr": ["ZZZ", "LAL", "BKN", "BOS"],
                          "away_team_abbr": ["YYY", "AAA", "GSW", "MIL"]})
    shot_games = pl.DataFrame({"game_date": [D23, D22], "home_team_abbr": ["BOS", "LAL"],
                               "away_team_abbr": ["MIL", "AAA"], "game_id": ["0022000003", "0022000000"],
                               "line": [10, 2]})
    out = s20.assign_game_ids(games, shot_games).sort("game_id")
    # observed: 3 (BOS); 0022000000 is no observation; free 1, 2, 4 -> (12-22 BKN), (12-22 LAL), (12-24 ZZZ)
    assert out.select("game_id", "home_team_abbr", "game_id_inferred").rows() == [
        ("0022000001", "BKN", True), ("0022000002", "LAL", True), ("0022000003", "BOS", False),
        ("0022000004", "ZZZ", True)]


def test_assign_game_ids_rejects_conflicting_observations():
    games = pl.DataFrame({"game_date": [D22, D23], "home_team_abbr": ["AAA", "CCC"], "away_team_abbr": ["BBB", "DDD"]})
    two_ids = pl.DataFrame({"game_date": [D22, D22], "home_team_abbr": ["AAA", "AAA"], "away_team_abbr": ["BBB", "BBB"],
                            "game_id": ["0022000001", "0022000002"], "line": [7, 9]})
    with pytest.raises(RawDataError, match=r"shots\.zip, lines 7 and 9: the game BBB @ AAA on 2020-12-22 has two "
                                           r"GAME_IDs '0022000001' and '0022000002'"):
        s20.assign_game_ids(games, two_ids, "shots.zip")
    shared = pl.DataFrame({"game_date": [D22, D23], "home_team_abbr": ["AAA", "CCC"], "away_team_abbr": ["BBB", "DDD"],
                           "game_id": ["0022000002", "0022000002"], "line": [4, 5]})
    with pytest.raises(RawDataError, match=r"lines 4 and 5: GAME_ID '0022000002' is used by two games"):
        s20.assign_game_ids(games, shared, "shots.zip")


def test_game_absent_from_shot_chart_gets_inferred_id_null_counts_and_estimated_minutes(tmp_path):
    season = s20.read_season_2020(write_season(tmp_path, shot_rows=SHOT_ROWS[:-2]))  # G4 loses its shots
    assert rows_by(season.schedule, game_date=D24)["quality_flags"] == ["inferred:game_id"]
    bbb = rows_by(season.team_game_logs, game_date=D24, team_id=2)
    assert bbb["fg_attempts"] is None and bbb["ft_makes"] is None and bbb["ft_attempts"] is None
    # BBB's players played 30 minutes in all -> round((30 - 240) / 25) < 0 -> no overtime: 240, estimated
    assert bbb["team_minutes"] == 240 and "estimated:team_minutes" in bbb["quality_flags"]
    assert "unknown:fg_attempts" in bbb["quality_flags"]
    p21 = rows_by(season.player_boxscores, game_id="0022000004", player_id=21)
    assert p21["fg_attempts"] is None and "unknown:fg_attempts" in p21["quality_flags"]


def test_source_disagreements_are_flagged_not_raised(tmp_path):
    teams = list(TEAM_ROWS)
    teams[0] = teams[0].replace(",0.6,0.5,0.778,", ",0.7,0.5,0.3,")  # FG% 3/5 = .6; FT 7/n = .3 has no integer n
    season = s20.read_season_2020(write_season(tmp_path, team_rows=teams))
    aaa = rows_by(season.team_game_logs, game_date=D22, team_id=1)
    assert "mismatch:FG_PCT 0.7 vs shot chart 3/5" in aaa["quality_flags"]
    assert aaa["ft_attempts"] == 23 and "estimated:ft_attempts" in aaa["quality_flags"]  # round(7 / .3)
    p11 = rows_by(season.player_boxscores, game_id="0022000001", player_id=11)
    assert "mismatch:team FTA 23 != sum of player FTA 9" in p11["quality_flags"]


# --------------------------------------------------------------------------------------- the real files

@pytest.fixture(scope="module")
def real(raw_data_dir) -> s20.Season2020:
    return s20.read_season_2020(raw_data_dir)


@pytest.fixture(scope="module")
def real_raw(raw_data_dir) -> dict[str, pl.DataFrame]:
    """The published logs, read independently of the module under test (plain Polars CSV reader)."""
    def rs(rel):
        return pl.read_csv(raw_data_dir / rel, infer_schema_length=0).filter(
            pl.col("SEASON_TYPE") == "Regular Season").with_columns(pl.col("GAME_DATE").str.to_date())
    return {"team": rs(s20.TEAM_LOG_FILE), "player": rs(s20.PLAYER_LOG_FILE)}


def test_real_columns_and_dtypes_match_the_hoopr_readers(real, raw_data_dir):
    # the hoopR readers also keep each row's source_line for the domain checks' messages; the 2020-21
    # reader names its lines in its own errors, so its frames have no such column
    def hoopr(df: pl.DataFrame) -> pl.DataFrame:
        return df.drop(readers.SOURCE_LINE)

    for mine, theirs in ((real.schedule, hoopr(readers.read_schedule(raw_data_dir))),
                         (real.team_game_logs, hoopr(readers.read_team_game_logs(raw_data_dir))),
                         (real.player_boxscores, hoopr(readers.read_player_boxscores(raw_data_dir)))):
        assert list(mine.drop(readers.QUALITY_FLAGS).schema.items()) == list(theirs.schema.items())
        assert mine.schema[readers.QUALITY_FLAGS] == pl.List(pl.String)
        both = pl.concat([readers.with_quality_flags(theirs), mine])  # one builder input for every season
        assert both.height == theirs.height + mine.height
        assert both.head(theirs.height).get_column(readers.QUALITY_FLAGS).list.len().max() == 0
        assert readers.with_quality_flags(mine) is mine
    assert list(real.shots.schema.items()) == list(hoopr(readers.read_shots(raw_data_dir, 2023)).schema.items())


def test_real_schedule_1080_unique_ids_five_inferred(real):
    sched = real.schedule
    assert sched.height == 1080 and sched.get_column("game_id").n_unique() == 1080
    assert sched.get_column("game_id").str.len_chars().unique().to_list() == [10]
    assert sorted(sched.get_column("game_id").to_list()) == [f"00220{n:05d}" for n in range(1, 1081)]
    assert sched.get_column("season_year").unique().to_list() == [2020]
    assert (sched["game_date"].min(), sched["game_date"].max()) == (D22, dt.date(2021, 5, 16))
    inferred = sched.filter(pl.col("quality_flags").list.contains("inferred:game_id"))
    assert inferred.select("game_id", "game_date", "home_team_abbr", "away_team_abbr").rows() == [
        ("0022000001", D22, "BKN", "GSW"), ("0022000002", D22, "LAL", "LAC"),
        ("0022000003", D23, "BOS", "MIL"), ("0022000004", D23, "PHX", "DAL"),
        ("0022000005", dt.date(2020, 12, 25), "MIA", "NOP")]
    # home/away as the team logs' MATCHUP says: "LAL vs. LAC" is the Lakers at home
    assert rows_by(sched, game_id="0022000002")["home_team_id"] == 1610612747


def test_real_every_game_has_two_teams_and_points_add_up(real, real_raw):
    logs, box = real.team_game_logs, real.player_boxscores
    assert logs.height == 2160 and box.height == 23054
    per_game = logs.group_by("game_id").agg(pl.col("team_id").n_unique().alias("n"), pl.len().alias("rows"))
    assert per_game.height == 1080 and per_game.filter((pl.col("n") != 2) | (pl.col("rows") != 2)).height == 0
    sums = box.group_by("game_id", "team_id").agg(
        *[pl.col(c).sum() for c in ("points", "fg_makes", "fg_attempts", "box_three_pt_makes", "ft_makes")])
    j = logs.join(sums, on=["game_id", "team_id"], suffix="_players")
    assert j.height == 2160
    for c in ("points", "fg_makes", "fg_attempts", "ft_makes"):
        assert j.filter(pl.col(c) != pl.col(f"{c}_players")).height == 0, c
    assert j.filter(pl.col("three_pt_makes") != pl.col("box_three_pt_makes")).height == 0
    # every shot is attributed to a logged player-game
    assert box.get_column("fg_attempts").sum() == real.shots.height == 190983
    # team minutes from the shot chart's periods agree with the sum of the players' rounded MIN
    mins = real_raw["player"].group_by("GAME_DATE", "TEAM_ABBREVIATION").agg(
        pl.col("MIN").cast(pl.Int64).sum().alias("sum_min"), pl.len().alias("n"))
    teams = real_raw["team"].select("GAME_DATE", "TEAM_ABBREVIATION", pl.col("TEAM_ID").cast(pl.Int64).alias("team_id"))
    m = logs.join(teams.join(mins, on=["GAME_DATE", "TEAM_ABBREVIATION"]),
                  left_on=["game_date", "team_id"], right_on=["GAME_DATE", "team_id"])
    assert m.height == 2160
    assert m.filter((pl.col("sum_min") - pl.col("team_minutes")).abs() > 0.5 * pl.col("n")).height == 0
    assert logs.group_by("team_minutes").len().sort("team_minutes").rows() == [(240, 2048), (265, 100), (290, 12)]


def test_real_shot_counts_agree_with_published_percentages(real, real_raw):
    teams = real_raw["team"].select(pl.col("TEAM_ID").cast(pl.Int64).alias("team_id"),
                                    pl.col("GAME_DATE").alias("game_date"),
                                    *[pl.col(c).cast(pl.Float64) for c in ("FG_PCT", "FG3_PCT", "FT_PCT")])
    j = real.team_game_logs.join(teams, on=["team_id", "game_date"])
    assert j.height == 2160
    for makes, att, pct in (("fg_makes", "fg_attempts", "FG_PCT"), ("three_pt_makes", "three_pt_attempts", "FG3_PCT"),
                            ("ft_makes", "ft_attempts", "FT_PCT")):
        off = j.filter((pl.col(makes) / pl.col(att) - pl.col(pct)).abs() > 0.0005 + 1e-9)
        assert off.height == 0, (pct, off.head())
    flags = real.team_game_logs.get_column("quality_flags").explode().drop_nulls().value_counts()
    assert flags.rows() == [("inferred:game_id", 10)]  # no mismatch, no estimated FTA, no estimated minutes


def test_real_player_fta_is_consistent_with_team_fta(real):
    box, logs = real.player_boxscores, real.team_game_logs
    per_team = box.group_by("game_id", "team_id").agg(
        pl.col("ft_attempts").sum().alias("sum_fta"), pl.col("ft_attempts").null_count().alias("unknown"))
    j = logs.join(per_team, on=["game_id", "team_id"])
    complete = j.filter(pl.col("unknown") == 0)
    assert complete.height == 2160 - 89
    assert complete.filter(pl.col("ft_attempts") != pl.col("sum_fta")).height == 0
    # where some stay unknown, the known ones leave at least one attempt for each unknown player
    partial = j.filter(pl.col("unknown") > 0)
    assert partial.filter(pl.col("ft_attempts") - pl.col("sum_fta") < pl.col("unknown")).height == 0
    counts = dict(box.get_column("quality_flags").explode().value_counts().rows())
    assert counts == {"unknown:position": 23054, "unknown:dnp_rows": 23054, "rounded:minutes_played": 22970,
                      "estimated:minutes_played": 84, "unknown:ft_attempts": 187, "inferred:game_id": 116}


def test_real_phase3_tables_build_with_flags(real):
    start, end = D22, dt.date(2021, 5, 16)
    pg = phase3.build_player_game_summary(real.player_boxscores, real.team_game_logs, real.schedule, real.shots,
                                          start, end)
    to = phase3.build_team_offense_game_summary(real.team_game_logs, real.schedule, start, end)
    td = phase3.build_team_defense_game_summary(real.team_game_logs, real.schedule, real.shots, start, end)
    up = phase3.build_upcoming_player_game_context(pg, to, real.schedule, start, end)
    ts = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    for spec, df in ((schemas.PLAYER_GAME_SUMMARY, pg), (schemas.TEAM_OFFENSE_GAME_SUMMARY, to),
                     (schemas.TEAM_DEFENSE_GAME_SUMMARY, td), (schemas.UPCOMING_PLAYER_GAME_CONTEXT, up)):
        spec.conform(df.with_columns(pl.lit(ts).alias("processed_at")))  # raises on a schema mismatch
    assert pg.height == 23054 and to.height == 2160 and td.height == 2160
    assert pg.get_column("has_complete_shot_zones").all()  # zones and counts come from the same shots
    assert pg.get_column("is_starter").null_count() == pg.height and not pg.get_column("is_dnp").any()
    assert pg.filter(pl.col("usage_rate").is_not_null()
                     & ~pl.col("data_quality_issues").list.contains("estimated:usage_rate")).height == 0
    assert pg.filter(pl.col("data_quality_issues").list.contains("inferred:game_id")).height == 116
    # no ORB -> possessions, pace, ratings NULL (never estimated), and no pace window built from them
    for col in ("possessions", "pace", "offensive_rating"):
        assert to.get_column(col).null_count() == 2160
    assert td.get_column("opponent_pace").null_count() == 2160
    assert up.get_column("pace_differential").null_count() == up.height
    # the pre-game universe (players whose last played game, within 30 days, was for a team playing on D),
    # not the 23,054 player-games that were played: 32,400 rows (measured); star_teammates_out needs no DNP
    # rows (a star is out when he missed the team's last game or is not in the universe), so it has values
    assert up.height == 32400 and up.get_column("star_teammates_out").null_count() == 0


# --------------------------------------------------------------------- malformed input: mutated real copies

@pytest.fixture()
def raw_copy(tmp_path, raw_data_dir) -> Path:
    """Copies of the two 2020-21 logs (and a link to the shot chart) to mutate in ``tmp_path``."""
    for rel in (s20.TEAM_LOG_FILE, s20.PLAYER_LOG_FILE):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(raw_data_dir / rel, tmp_path / rel)
    (tmp_path / s20.SHOTS_FILE).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / s20.SHOTS_FILE).symlink_to((raw_data_dir / s20.SHOTS_FILE).resolve())
    return tmp_path


def edit_line(path: Path, line: int, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` on 1-based ``line`` of ``path``; returns the original line."""
    lines = path.read_text().split("\n")
    original = lines[line - 1]
    assert old in original, original
    lines[line - 1] = original.replace(old, new, 1)
    path.write_text("\n".join(lines))
    return original


def test_truncated_team_log_names_file_line_and_row(raw_copy):
    path = raw_copy / s20.TEAM_LOG_FILE
    text = path.read_text()
    cut = sum(len(x) + 1 for x in text.split("\n")[:1499]) + 30  # 30 characters into line 1500
    path.write_text(text[:cut])
    with pytest.raises(RawDataError, match=r"team_game_logs_2020-21\.csv, line 1500: expected 17 comma-separated "
                                           r"fields like the header, found \d+ .*: '") as exc:
        s20.read_schedule_2020(raw_copy)
    assert repr(text[cut - 30:cut]) in str(exc.value)  # the truncated row is quoted


def test_truncated_shot_archive(raw_copy):
    target = raw_copy / s20.SHOTS_FILE
    data = target.read_bytes()
    target.unlink()
    target.write_bytes(data[: len(data) // 2])
    with pytest.raises(RawDataError, match=r"NBA_2021_Shots\.csv\.zip: truncated or corrupt file"):
        s20.read_schedule_2020(raw_copy)


def test_dropped_column_names_file_and_column(raw_copy):
    path = raw_copy / s20.PLAYER_LOG_FILE
    df = pl.read_csv(path, infer_schema_length=0).drop("PTS")
    df.write_csv(path)
    with pytest.raises(RawDataError, match=r"player_game_logs_2020-21\.csv, line 1: missing required column\(s\) "
                                           r"\['PTS'\]"):
        s20.read_player_boxscores_2020(raw_copy, s20.read_shots_2020(raw_copy))


def test_corrupt_count_names_file_line_column_and_value(raw_copy):
    path = raw_copy / s20.TEAM_LOG_FILE
    lines = path.read_text().split("\n")
    fields = lines[9].split(",")  # line 10
    fields[6] = "1O9"  # PTS, with a letter O
    lines[9] = ",".join(fields)
    path.write_text("\n".join(lines))
    with pytest.raises(RawDataError, match=r"team_game_logs_2020-21\.csv, line 10: column 'PTS' value '1O9' is "
                                           r"not a non-negative integer"):
        s20.read_schedule_2020(raw_copy)


def _read_player_log(raw_dir):
    return s20.read_player_boxscores_2020(raw_dir, s20.read_shots_2020(raw_dir))


# (file, line, old text, new text, reader, message): one line of a copy of the real file edited
EDITED_LINES = {
    "unparseable date in the player log": (
        s20.PLAYER_LOG_FILE, 7, "2020-12-22", "2020-13-22", _read_player_log,
        r"player_game_logs_2020-21\.csv, line 7: column 'GAME_DATE' value '2020-13-22' is not a date"),
    "bad matchup syntax": (
        s20.TEAM_LOG_FILE, 3, "LAL vs. LAC", "LAL - LAC", s20.read_schedule_2020,
        r"team_game_logs_2020-21\.csv, line 3: column 'MATCHUP' value 'LAL - LAC' is not 'TEAM vs\. OPP'"),
    "matchup naming neither team": (
        s20.TEAM_LOG_FILE, 3, "LAL vs. LAC", "NYK vs. BOS", s20.read_schedule_2020,
        r"line 3: column 'MATCHUP' value 'NYK vs\. BOS' does not name the row's team 'LAL' first"),
    # GSW played BKN that night; the first broken game (by line) is the Clippers' row, whose partner
    # now points elsewhere: games left with one row
    "matchup with the wrong opponent": (
        s20.TEAM_LOG_FILE, 3, "LAL vs. LAC", "LAL vs. GSW", s20.read_schedule_2020,
        r"team_game_logs_2020-21\.csv, line\(s\) 2: the game LAC @ LAL on 2020-12-22 has 1 team row\(s\) "
        r"\(MATCHUP \['LAC @ LAL'\]\); LAL's row of that date \(line 3\) says 'LAL vs\. GSW'"),
    "player row whose matchup differs from its team's": (
        s20.PLAYER_LOG_FILE, 2, "GSW @ BKN", "GSW @ BOS", _read_player_log,
        r"player_game_logs_2020-21\.csv, line 2: column 'MATCHUP' value 'GSW @ BOS' of player 'Kevon Looney': "
        r"its team's row says 'GSW @ BKN'"),
    "unknown season type": (
        s20.PLAYER_LOG_FILE, 5, ",Regular Season", ",Regular Seasn", _read_player_log,
        r"line 5: column 'SEASON_TYPE' value 'Regular Seasn' is not one of"),
}


@pytest.mark.parametrize("case", list(EDITED_LINES), ids=list(EDITED_LINES))
def test_an_edited_line_is_named_with_its_value(raw_copy, case):
    file, line, old, new, read, message = EDITED_LINES[case]
    edit_line(raw_copy / file, line, old, new)
    with pytest.raises(RawDataError, match=message):
        read(raw_copy)


def test_game_with_a_missing_team_row(raw_copy):
    path = raw_copy / s20.TEAM_LOG_FILE
    lines = path.read_text().split("\n")
    assert lines[1].startswith("1610612746,LAC,") and "LAC @ LAL" in lines[1]
    path.write_text("\n".join([lines[0], *lines[2:]]))  # LAC's row of the opener is gone
    with pytest.raises(RawDataError, match=r"line\(s\) 2: the game LAC @ LAL on 2020-12-22 has 1 team row\(s\) "
                                           r"\(MATCHUP \['LAL vs\. LAC'\]\)"):
        s20.read_schedule_2020(raw_copy)


def test_shot_of_a_team_not_in_its_game(raw_copy, raw_data_dir):
    with zipfile.ZipFile(raw_data_dir / s20.SHOTS_FILE) as zf:
        text = zf.read("NBA_2021_Shots.csv").decode()
    lines = text.split("\n")
    assert lines[1].startswith("2021,2020-21,1610612753,Orlando Magic,")  # ORL @ PHI on 05-16-2021
    lines[1] = lines[1].replace("1610612753", "1610612747", 1)  # a Lakers shot in ORL @ PHI
    (raw_copy / s20.SHOTS_FILE).unlink()
    write_shots_zip(raw_copy, "\n".join(lines))
    with pytest.raises(RawDataError, match=r"NBA_2021_Shots\.csv\.zip, line 2: column 'TEAM_ID' value 1610612747 is "
                                           r"neither team of the game ORL @ PHI on 2021-05-16"):
        s20.read_schedule_2020(raw_copy)


def test_quoted_csv_gets_the_same_line_numbers(tmp_path):
    """A file with quoted fields (the general CSV path) reports the same line numbers."""
    rows = list(TEAM_ROWS)
    rows[0] = rows[0].replace("Team A", '"Team A, the"')
    rows[3] = rows[3].replace(",5,6,1,", ",5,6,x,")  # line 5: AST not an integer
    root = write_season(tmp_path, team_rows=rows)
    with pytest.raises(RawDataError, match=r"team_game_logs_2020-21\.csv, line 5: column 'AST' value 'x'"):
        s20.read_schedule_2020(root)


def test_missing_file(tmp_path):
    with pytest.raises(RawDataError, match=r"team_game_logs_2020-21\.csv: raw file not found"):
        s20.read_schedule_2020(tmp_path)


def test_plain_csv_path_keeps_line_numbers_with_crlf_and_rejects_blank_lines():
    df = s20._split_plain(Path("x.csv"), "A,B\r\n1,2\r\n3,4\r\n")
    assert df.rows() == [(2, "1", "2"), (3, "3", "4")]
    with pytest.raises(RawDataError, match=r"x\.csv, line 3: expected 2 comma-separated fields like the header, "
                                           r"found 1 .*: ''"):
        s20._split_plain(Path("x.csv"), "A,B\n1,2\n\n3,4\n")
