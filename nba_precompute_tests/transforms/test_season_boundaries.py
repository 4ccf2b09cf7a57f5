"""Every "this season" window restarts at each season's opening night (issue 10).

Hand-built worlds with two seasons of the same teams and players: season A (``season_year`` 2022) and
season B (2023). In a hand-built world the seasons may lie closer than in reality (B can open 3 or 11
days after A's last night), which is what makes a leak visible in the calendar windows ([D - 7, D),
[D - 30, D) ...). Every expected value is computed by hand in the comments; each test also states what
the value would be if the window reached back into season A, so it fails if it did.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute.defs.phase4.factory import daily_counts
from nba_precompute.defs.phase4.tables import PSZA as PSZA_TABLE
from nba_precompute.schemas import (
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_GAME_SUMMARY,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_TEAM_GAME_CONTEXT,
    TableSpec,
    empty_failures,
)
from nba_precompute.transforms.common import season_calendar, with_season
from nba_precompute.transforms.mlfs import build_ml_feature_store
from nba_precompute.transforms.pcf import build_player_composite_factors
from nba_precompute.transforms.pdc import build_player_daily_cache
from nba_precompute.transforms.phase3 import build_upcoming_player_game_context
from nba_precompute.transforms.psza import build_player_shot_zone_analysis
from nba_precompute.transforms.tdza import LEAGUE_DEFAULTS, build_team_defense_zone_analysis, league_averages
from nba_precompute.transforms.validation import (
    PLAYERS_BEFORE,
    ReportTable,
    expected_entities,
    partitions_frame,
    phase4_report,
    weekly_incomplete,
)

A, B = 2022, 2023  # season_year (start year) of the two seasons
D = dt.date
ZONE_COUNTS = ("paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes", "three_pt_attempts",
               "three_pt_makes")


# ------------------------------------------------------------------ hand-built frames


def day_range(first: dt.date, n: int) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range(n)]


def schedule_of(games: list[tuple[dt.date, str, str, int]]) -> pl.DataFrame:
    """Schedule rows (regular-season ids ``002yy#####``, numbered per season) from (date, home, away,
    season_year) tuples."""
    teams = sorted({t for _, h, a, _ in games for t in (h, a)})
    team_id = {t: i + 1 for i, t in enumerate(teams)}
    seen: dict[int, int] = {}
    rows = []
    for day, home, away, season in sorted(games):
        seen[season] = seen.get(season, 0) + 1
        rows.append({"game_id": f"00{200 + season % 100}{seen[season]:05d}", "game_date": day, "season_year": season,
                     "home_team_id": team_id[home], "away_team_id": team_id[away], "home_team_abbr": home,
                     "away_team_abbr": away})
    return pl.DataFrame(rows)


def frame_of(spec: TableSpec, rows: list[dict]) -> pl.DataFrame:
    """Rows with ``spec``'s data columns and types; unspecified columns NULL."""
    schema = {c.name: c.polars_type for c in spec.columns if c.name in spec.data_columns}
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def team_game(sched: pl.DataFrame, team_abbr: str, day: D) -> dict:
    """The team's game on ``day`` in ``sched``: ``game_id``, ``season_year``, ``is_home``,
    ``opponent_team_abbr``."""
    g = sched.filter((pl.col("game_date") == day)
                     & ((pl.col("home_team_abbr") == team_abbr) | (pl.col("away_team_abbr") == team_abbr)))
    g = g.row(0, named=True)
    home = g["home_team_abbr"] == team_abbr
    return {"game_id": g["game_id"], "season_year": g["season_year"], "is_home": home,
            "opponent_team_abbr": g["away_team_abbr"] if home else g["home_team_abbr"]}


def player_games(rows: list[dict], sched: pl.DataFrame) -> pl.DataFrame:
    """``player_game_summary`` rows; each dict needs ``player_id``, ``team_abbr``, ``game_date`` (the
    team's game that day gives ``game_id``, ``season_year``, opponent and home flag). Zone and box
    counts default to 0 and minutes to 30.0 (``minutes_played=None``: a DNP row)."""
    out = []
    for r in rows:
        row = dict.fromkeys((*ZONE_COUNTS, "fg_attempts", "fg_makes", "points", "ft_attempts", "ft_makes",
                             "turnovers", "box_three_pt_attempts", "box_three_pt_makes"), 0)
        row.update({**team_game(sched, r["team_abbr"], r["game_date"]),
                    "player_lookup": f"player{r['player_id']}", "minutes_played": 30.0,
                    "has_complete_shot_zones": True, "data_quality_issues": []})
        row.update(r)
        row["is_dnp"] = row["minutes_played"] is None
        out.append(row)
    return frame_of(PLAYER_GAME_SUMMARY, out)


def team_offense(rows: list[dict], sched: pl.DataFrame) -> pl.DataFrame:
    """``team_offense_game_summary`` rows from dicts with ``team_abbr``, ``game_date`` and values."""
    out = [{**team_game(sched, r["team_abbr"], r["game_date"]), "win_flag": True, "margin_of_victory": 5, **r}
           for r in rows]
    return frame_of(TEAM_OFFENSE_GAME_SUMMARY, out)


def row_of(df: pl.DataFrame, **keys) -> dict:
    hit = df.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, (keys, hit.height)
    return hit.row(0, named=True)


# ------------------------------------------------------------------ PSZA: last 10 / last 20 and the 10-game minimum

# Season A: AAA-BBB every day 2023-03-21 .. 04-09 (20 games); season B: every day from 2023-10-24 (20 games).
PSZA_A = day_range(D(2023, 3, 21), 20)
PSZA_B = day_range(D(2023, 10, 24), 20)


def _psza_world():
    sched = schedule_of([(d, "AAA", "BBB", A) for d in PSZA_A] + [(d, "AAA", "BBB", B) for d in PSZA_B])
    rows = [
        # season A: 10 paint attempts, all made, nothing else
        *[{"player_id": 1, "team_abbr": "AAA", "game_date": d, "paint_attempts": 10, "paint_makes": 10,
           "fg_attempts": 10, "fg_makes": 10} for d in PSZA_A],
        # season B: 1 paint attempt (missed) and 3 threes (1 made) per game
        *[{"player_id": 1, "team_abbr": "AAA", "game_date": d, "paint_attempts": 1, "three_pt_attempts": 3,
           "three_pt_makes": 1, "fg_attempts": 4, "fg_makes": 1} for d in PSZA_B],
    ]
    return sched, player_games(rows, sched)


def test_psza_windows_and_minimum_restart_on_opening_night():
    sched, pg = _psza_world()
    opening, night2, night10, night11, night16 = (PSZA_B[0], PSZA_B[1], PSZA_B[9], PSZA_B[10], PSZA_B[15])
    days = [PSZA_A[-1], opening, night2, night10, night11, night16]
    rows, failures = build_player_shot_zone_analysis(pg, sched, PSZA_A[-1], night16, dates=days)
    p1 = rows.filter(pl.col("player_id") == 1)
    f1 = failures.filter(pl.col("entity_id") == "1")

    # A's last night: 19 A games before D, all paint -> the A values (what a leak would carry over)
    a = row_of(p1, analysis_date=PSZA_A[-1])
    assert (a["paint_rate_last_10"], a["paint_pct_last_10"], a["games_in_sample_20"]) == (1.0, 1.0, 19)

    # B's opening night: 0 B games before D -> not in the universe: no row, no failure
    # (leaking: a row built from A's last 10 games, paint rate 1.0)
    assert p1.filter(pl.col("analysis_date") == opening).is_empty()
    assert f1.filter(pl.col("analysis_date") == opening).is_empty()
    # nights 2 and 10: 1 and 9 B games -> INCOMPLETE_DATA (leaking: 21 and 29 games, a row)
    for day, games in ((night2, 1), (night10, 9)):
        f = row_of(f1, analysis_date=day)
        assert (f["failure_category"], f["games_found"], f["is_failure"]) == ("INCOMPLETE_DATA", games, False)
        assert p1.filter(pl.col("analysis_date") == day).is_empty()

    # night 11: exactly 10 B games. Per game 1 paint (0 made) + 3 threes (1 made): 40 shots,
    # paint 10/40 = 0.25, three 30/40 = 0.75, paint FG% 0/10 = 0, three FG% 10/30 = 1/3.
    # The 20-game window holds the 10 B games only (leaking: 20, with 10 A games)
    r = row_of(p1, analysis_date=night11)
    assert r["season_year"] == B
    assert (r["games_in_sample_10"], r["games_in_sample_20"], r["total_shots_last_10"]) == (10, 10, 40)
    assert r["paint_rate_last_10"] == pytest.approx(0.25)
    assert r["three_pt_rate_last_10"] == pytest.approx(0.75)
    assert r["paint_pct_last_10"] == 0.0
    assert r["three_pt_pct_last_10"] == pytest.approx(1 / 3)
    assert r["mid_range_pct_last_10"] is None  # no mid-range attempt in B
    assert r["paint_rate_last_20"] is None  # 10 < 15 games in the 20-game window
    assert r["sample_quality_20"] == "limited"  # 10 >= floor(0.5 x 20)

    # night 16: 15 B games -> the 20-game columns exist, over B only: paint 15/60 = 0.25, FG% 0/15 = 0
    # (leaking: 15 B + 5 A games, paint (15 + 50) / (60 + 50) = 0.59, FG% 50/65 = 0.77)
    r = row_of(p1, analysis_date=night16)
    assert r["games_in_sample_20"] == 15
    assert r["paint_rate_last_20"] == pytest.approx(0.25)
    assert r["paint_pct_last_20"] == 0.0
    assert failures.filter(pl.col("is_failure")).is_empty()


# ------------------------------------------------------------------ TDZA: last 15, the 15-game minimum, league [D-30, D)

TEAMS = [f"T{i:02d}" for i in range(12)]
TDZA_A = day_range(D(2023, 3, 21), 20)  # season A: 03-21 .. 04-09
TDZA_B = day_range(D(2023, 4, 20), 20)  # season B opens 11 days later (hand-built world): 04-20 .. 05-09


def _tdza_world():
    """12 teams paired T00-T01, T02-T03 ... every day of both seasons. What the opponents shot against
    team k: season A 10/10 in every zone (100 %), defensive rating 200, opponent pace 90; season B paint
    10 attempts with 5 made (k even) or 6 (k odd), mid-range 10/4, three 10/3, defensive rating 100 + n on
    B's n-th night, opponent pace 98, 100 points allowed."""
    games, td = [], []
    for season, days in ((A, TDZA_A), (B, TDZA_B)):
        for n, day in enumerate(days, start=1):
            for g in range(6):
                games.append((day, TEAMS[2 * g], TEAMS[2 * g + 1], season))
                for k in (2 * g, 2 * g + 1):
                    in_a = season == A
                    paint = 10 if in_a else (5 if k % 2 == 0 else 6)
                    mid, three = (10, 10) if in_a else (4, 3)
                    td.append({
                        "game_date": day, "season_year": season, "defending_team_abbr": TEAMS[k],
                        "opponent_team_abbr": TEAMS[k + 1 if k % 2 == 0 else k - 1],
                        "points_allowed": 150 if in_a else 100,
                        "opp_paint_attempts": 10, "opp_paint_makes": paint, "opp_mid_range_attempts": 10,
                        "opp_mid_range_makes": mid, "opp_three_pt_attempts": 10, "opp_three_pt_makes": three,
                        "points_in_paint_allowed": 2 * paint, "mid_range_points_allowed": 2 * mid,
                        "three_pt_points_allowed": 3 * three,
                        "defensive_rating": 200.0 if in_a else 100.0 + n,
                        "opponent_pace": 90.0 if in_a else 98.0,
                    })
    sched = schedule_of(games)
    ids = sched.select("game_id", "game_date", pl.col("home_team_abbr").alias("defending_team_abbr"))
    ids = pl.concat([ids, sched.select("game_id", "game_date", pl.col("away_team_abbr").alias("defending_team_abbr"))])
    return sched, pl.DataFrame(td).join(ids, on=["game_date", "defending_team_abbr"])


def test_tdza_window_minimum_and_league_average_restart_on_opening_night():
    sched, td = _tdza_world()
    opening, night2, night16 = TDZA_B[0], TDZA_B[1], TDZA_B[15]  # 05-05: 15 B games before D
    rows, failures = build_team_defense_zone_analysis(td, sched, opening, night16,
                                                      dates=[opening, night2, night16])
    # opening night: no team has a B game before D -> no row, no failure (leaking: 12 rows from A)
    assert rows.filter(pl.col("analysis_date") == opening).is_empty()
    assert failures.filter(pl.col("analysis_date") == opening).is_empty()
    # night 2: one B game each -> 12 INCOMPLETE_DATA with games_found 1 (leaking: 21 games, 12 rows)
    f2 = failures.filter(pl.col("analysis_date") == night2)
    assert f2.height == 12 and set(f2.get_column("games_found")) == {1}
    assert set(f2.get_column("failure_category")) == {"INCOMPLETE_DATA"}
    assert rows.filter(pl.col("analysis_date") == night2).is_empty()

    # D = 05-05: window = B nights 1..15 (exactly 15 B games; with A it would still be the last 15)
    t0 = row_of(rows, team_abbr="T00", analysis_date=night16)
    t1 = row_of(rows, team_abbr="T01", analysis_date=night16)
    assert t0["games_in_sample"] == 15
    assert t0["paint_pct_allowed_last_15"] == pytest.approx(0.5)
    assert t1["paint_pct_allowed_last_15"] == pytest.approx(0.6)
    assert t0["mid_range_pct_allowed_last_15"] == pytest.approx(0.4)
    assert t0["three_pt_pct_allowed_last_15"] == pytest.approx(0.3)
    assert t0["defensive_rating_last_15"] == pytest.approx(108.0)  # mean of 101 .. 115
    assert t0["opponent_pace"] == pytest.approx(98.0)
    assert t0["opponent_points_per_game"] == pytest.approx(100.0)
    # League window [04-05, 05-05) also holds A's last 5 nights (04-05 .. 04-09), 30 days apart or less.
    # B only: 12 teams x 15 games; paint = mean(0.5 x 6, 0.6 x 6) = 0.55, mid 0.4, three 0.3.
    # (leaking: 20 games per team, paint (50 + 75) / 200 = 0.625 or (50 + 90) / 200 = 0.70 -> 0.6625;
    # mid (50 + 60) / 200 = 0.55; three (50 + 45) / 200 = 0.475)
    assert t0["league_avg_teams"] == 12 and t0["league_avg_is_default"] is False
    assert t0["league_paint_pct"] == pytest.approx(0.55)
    assert t0["league_mid_range_pct"] == pytest.approx(0.4)
    assert t0["league_three_pt_pct"] == pytest.approx(0.3)
    assert t0["paint_defense_vs_league_avg"] == pytest.approx(-0.05)
    assert t1["paint_defense_vs_league_avg"] == pytest.approx(0.05)
    assert failures.filter(pl.col("is_failure")).is_empty()


def test_league_average_of_a_young_season_does_not_borrow_last_seasons_games():
    sched, td = _tdza_world()
    # D = 04-27, B's 8th night: [03-28, 04-27) holds 7 B games and 13 A games (03-28 .. 04-09) per team.
    # B alone: no team reaches the 10 games needed -> 0 teams, the reference defaults 0.580 / 0.410 /
    # 0.355. (leaking: 20 games per team, 12 teams, paint (130 + 38.5) / 200 = 0.84, not the default)
    day = TDZA_B[7]
    keys = pl.DataFrame({"team_abbr": TEAMS, "season_year": [B] * 12, "analysis_date": [day] * 12},
                        schema_overrides={"season_year": pl.Int64})
    out = league_averages(td.rename({"defending_team_abbr": "team_abbr"}), keys).row(0, named=True)
    assert out["league_avg_teams"] == 0 and out["league_avg_is_default"] is True
    assert (out["league_paint_pct"], out["league_mid_range_pct"], out["league_three_pt_pct"]) == (
        LEAGUE_DEFAULTS["paint"], LEAGUE_DEFAULTS["mid_range"], LEAGUE_DEFAULTS["three_pt"])
    # the same day keyed on season A's games (what a leak would see) is not the default
    leak = league_averages(td.rename({"defending_team_abbr": "team_abbr"}),
                           keys.with_columns(pl.lit(A, pl.Int64).alias("season_year"))).row(0, named=True)
    assert leak["league_avg_teams"] == 12 and leak["league_paint_pct"] == pytest.approx(1.0)


# ------------------------------------------------------------------ PDC: points and team windows

PDC_A = day_range(D(2023, 3, 31), 10)  # 03-31 .. 04-09
PDC_B = day_range(D(2023, 10, 24), 5)  # 10-24 .. 10-28


def _pdc_world():
    sched = schedule_of([(d, "AAA", "BBB", A) for d in PDC_A] + [(d, "AAA", "BBB", B) for d in PDC_B])
    rows = [
        # season A: 40 points, 40 minutes, usage 0.5 every game
        *[{"player_id": 1, "team_abbr": "AAA", "game_date": d, "points": 40, "minutes_played": 40.0,
           "usage_rate": 0.5, "ts_pct": 0.7} for d in PDC_A],
        # season B: 10, 12, 14, 16 points, then 99 on D (never used for D), 30 minutes, usage 0.2
        *[{"player_id": 1, "team_abbr": "AAA", "game_date": d, "points": p, "minutes_played": 30.0,
           "usage_rate": 0.2, "ts_pct": 0.5} for d, p in zip(PDC_B, (10, 12, 14, 16, 99))],
    ]
    pg = player_games(rows, sched)
    # AAA pace 80 / rating 90 in A; 100, 101, 102, 103, (104 on D) / 110 .. 114 in B
    team = team_offense(
        [{"team_abbr": "AAA", "game_date": d, "pace": 80.0, "offensive_rating": 90.0} for d in PDC_A]
        + [{"team_abbr": "AAA", "game_date": d, "pace": 100.0 + i, "offensive_rating": 110.0 + i}
           for i, d in enumerate(PDC_B)], sched)
    return sched, pg, team


def test_pdc_points_and_team_windows_restart_on_opening_night():
    sched, pg, team = _pdc_world()
    night3, d = PDC_B[2], PDC_B[4]  # 10-26 (2 B games before), 10-28 (4 B games before)
    upcg = build_upcoming_player_game_context(pg, team, sched, night3, d)
    psza = frame_of(PLAYER_SHOT_ZONE_ANALYSIS, [])
    rows, failures = build_player_daily_cache(upcg, pg, team, psza, sched, night3, d, dates=[night3, d])
    # 10-26: 2 B games -> INCOMPLETE_DATA (leaking: 12 games, a row)
    f = row_of(failures, analysis_date=night3)
    assert (f["failure_category"], f["games_found"]) == ("INCOMPLETE_DATA", 2)
    assert rows.filter(pl.col("cache_date") == night3).is_empty()
    # 10-28: B games 10, 12, 14, 16 -> every window holds these 4 games: mean 13
    # (leaking: last 5 = 40, 10, 12, 14, 16 -> 18.4; last 10 (6 x 40 + 52) / 10 = 29.2; season 452/14)
    r = row_of(rows, cache_date=d)
    assert r["points_avg_last_5"] == pytest.approx(13.0)
    assert r["points_avg_last_10"] == pytest.approx(13.0)
    assert r["points_avg_season"] == pytest.approx(13.0)
    assert r["points_std_last_10"] == pytest.approx((20 / 3) ** 0.5)  # (9 + 1 + 1 + 9) / (4 - 1)
    assert r["games_played_season"] == 4 and r["early_season_flag"] is True
    assert r["minutes_avg_last_10"] == pytest.approx(30.0)
    assert r["usage_rate_last_10"] == pytest.approx(0.2)
    assert r["player_usage_rate_season"] == pytest.approx(0.2)
    # team: B games before D only: pace mean(100 .. 103) = 101.5, rating mean(110 .. 113) = 111.5
    # (leaking: (6 x 80 + 406) / 10 = 88.6 and (6 x 90 + 446) / 10 = 98.6)
    assert r["team_games_last_10"] == 4
    assert r["team_pace_last_10"] == pytest.approx(101.5)
    assert r["team_off_rating_last_10"] == pytest.approx(111.5)
    # completeness windows count B's scheduled games only: 4 of the last 5 / 10 (leaking: 5 / 10)
    assert (r["expected_games_count"], r["actual_games_count"]) == (4, 4)
    assert r["days_since_last_game"] == 1


# ------------------------------------------------------------------ UPCG and PCF

UP_A = day_range(D(2023, 3, 31), 10)  # 03-31 .. 04-09
UP_B = day_range(D(2023, 4, 12), 10)  # B opens 3 days after A's last night (hand-built): 04-12 .. 04-21


def _upcg_world():
    """AAA-BBB every day. Player 1 (AAA) plays every game: A 40 minutes, usage 0.5; B 30 minutes, usage
    0.1 in B's first game then 0.3. Player 2 (AAA) scores 30 a game in A, 5 in B's first game, then
    sits (DNP). Player 3 (AAA) is new in B: 25 points in B's first game, then sits. Team pace: AAA 80
    in A, 100 in B; BBB 120 in A, 96 in B. Season A has a shot chart (zone counts), B has none (NULL)."""
    sched = schedule_of([(d, "AAA", "BBB", A) for d in UP_A] + [(d, "AAA", "BBB", B) for d in UP_B])
    no_chart = dict.fromkeys(("paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes"))
    rows = []
    for d in UP_A:
        rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "minutes_played": 40.0,
                     "usage_rate": 0.5, "points": 10, "paint_attempts": 6, "three_pt_attempts": 4,
                     "fg_attempts": 10})
        rows.append({"player_id": 2, "team_abbr": "AAA", "game_date": d, "points": 30, "usage_rate": 0.3})
    for i, d in enumerate(UP_B):
        rows.append({"player_id": 1, "team_abbr": "AAA", "game_date": d, "usage_rate": 0.1 if i == 0 else 0.3,
                     "points": 10, "three_pt_attempts": 4, "fg_attempts": 10, **no_chart})
        rows.append({"player_id": 2, "team_abbr": "AAA", "game_date": d, "points": 5 if i == 0 else 0,
                     "minutes_played": 30.0 if i == 0 else None, **no_chart})
        rows.append({"player_id": 3, "team_abbr": "AAA", "game_date": d, "points": 25 if i == 0 else 0,
                     "minutes_played": 30.0 if i == 0 else None, **no_chart})
    pg = player_games(rows, sched)
    team = team_offense(
        [{"team_abbr": t, "game_date": d, "pace": p} for d in UP_A for t, p in (("AAA", 80.0), ("BBB", 120.0))]
        + [{"team_abbr": t, "game_date": d, "pace": p} for d in UP_B for t, p in (("AAA", 100.0), ("BBB", 96.0))],
        sched)
    return sched, pg, team


def test_upcoming_context_rest_load_usage_stars_and_pace_restart_on_opening_night():
    sched, pg, team = _upcg_world()
    out = build_upcoming_player_game_context(pg, team, sched, UP_B[0], UP_B[-1]).filter(pl.col("player_id") == 1)

    # opening night 04-12: nothing before D this season (A's last game was 3 days earlier): the pre-game
    # universe is the team's roster at the end of season A, and the row holds nothing of season A
    # (leaking A's games: days_rest 3, 5 games / 200 minutes in [04-05, 04-12), usage 0.5, pace 80 - 120 = -40)
    r = row_of(out, game_date=UP_B[0])
    assert r["days_rest"] is None and r["back_to_back"] is False
    assert (r["games_in_last_7_days"], r["minutes_in_last_7_days"]) in ((0, 0.0), (0, None), (None, None))
    assert r["avg_usage_rate_last_7_games"] is None and r["projected_usage_rate"] is None
    assert r["pace_differential"] is None and r["star_teammates_out"] == 0

    # night 2 (04-13): one B game the night before
    # (leaking: 5 games in [04-06, 04-13) with 190 minutes, 4+ back-to-backs, usage (6 x 0.5 + 0.1) / 7)
    r = row_of(out, game_date=UP_B[1])
    assert r["days_rest"] == 1 and r["back_to_back"] is True
    assert r["games_in_last_7_days"] == 1 and r["minutes_in_last_7_days"] == pytest.approx(30.0)
    assert r["avg_minutes_per_game_last_7"] == pytest.approx(30.0)
    assert r["back_to_backs_last_14_days"] == 0  # the 04-12 game is B's first: no pair
    assert r["avg_usage_rate_last_7_games"] == pytest.approx(0.1)
    assert r["projected_usage_rate"] == pytest.approx(0.1)
    # stars out: nobody has the 5 played games of this season a star needs yet (leaking A: player 2, 30 a
    # game over 10 games, did not play AAA's last game -> 1)
    assert r["star_teammates_out"] == 0
    # pace: B games only: AAA 100, BBB 96 -> +4 (leaking: (9 x 80 + 100) / 10 = 82 vs 117.6 -> -35.6)
    assert (r["team_pace_last_10"], r["opponent_pace_last_10"]) == (pytest.approx(100.0), pytest.approx(96.0))
    assert r["pace_differential"] == pytest.approx(4.0)

    # night 3 (04-14): one back-to-back pair (04-12, 04-13) in [D - 14, D) (leaking: 9 more in A)
    assert row_of(out, game_date=UP_B[2])["back_to_backs_last_14_days"] == 1

    # night 10 (04-21): 9 B games, usage 0.1 then 8 x 0.3: last 7 = 0.3, season (0.1 + 2.4) / 9 = 0.2778
    # (leaking the season average: (10 x 0.5 + 2.5) / 19 = 0.3947)
    r = row_of(out, game_date=UP_B[9])
    assert r["avg_usage_rate_last_7_games"] == pytest.approx(0.3)
    assert r["projected_usage_rate"] == pytest.approx(2.5 / 9)
    assert r["games_in_last_7_days"] == 7 and r["back_to_backs_last_14_days"] == 8
    # AAA's stars this season: player 1 only (9 games); players 2 and 3 have 1 B game each (< 5), so
    # nobody is out (leaking A: player 2, 30 a game, sat out AAA's last game -> 1)
    assert r["star_teammates_out"] == 0


def test_pcf_usage_fatigue_and_zone_factor_use_this_season_only():
    sched, pg, team = _upcg_world()
    a_last, night2, night10 = UP_A[-1], UP_B[1], UP_B[9]
    days = [a_last, night2, night10]
    upcg = build_upcoming_player_game_context(pg, team, sched, a_last, night10).filter(
        pl.col("player_id") == 1, pl.col("game_date").is_in(days))
    # PSZA / TDZA rows for both dates: player 1 a paint scorer in A; no zone split in B (three rate only)
    psza = frame_of(PLAYER_SHOT_ZONE_ANALYSIS, [
        {"player_id": 1, "player_lookup": "player1", "analysis_date": a_last, "season_year": A,
         "primary_scoring_zone": "paint", "paint_rate_last_10": 0.6, "mid_range_rate_last_10": 0.0,
         "three_pt_rate_last_10": 0.4, "is_production_ready": True, "has_shot_chart": True},
        *[{"player_id": 1, "player_lookup": "player1", "analysis_date": d, "season_year": B,
           "three_pt_rate_last_10": 0.4, "is_production_ready": True, "has_shot_chart": False}
          for d in (night2, night10)],
    ])
    tdza = frame_of(TEAM_DEFENSE_ZONE_ANALYSIS, [
        {"team_abbr": "BBB", "analysis_date": a_last, "season_year": A, "paint_defense_vs_league_avg": 0.04,
         "mid_range_defense_vs_league_avg": 0.0, "three_pt_defense_vs_league_avg": 0.0, "is_production_ready": True},
        *[{"team_abbr": "BBB", "analysis_date": d, "season_year": B, "three_pt_defense_vs_league_avg": 0.02,
           "is_production_ready": True} for d in (night2, night10)],
    ])
    uptgc = frame_of(UPCOMING_TEAM_GAME_CONTEXT, [
        {"team_abbr": t, "game_date": d, "is_production_ready": True} for d in days for t in ("AAA", "BBB")])
    present = pg.filter(pl.col("game_date") < night10)  # rows before the last D (the transform's contract)
    rows, failures = build_player_composite_factors(upcg, psza, tdza, uptgc, present, sched, a_last, night10,
                                                    dates=days)
    assert failures.is_empty()

    # A's last night: a zone split exists: paint rate 0.6 -> weight min(0.6 / 0.5, 1) = 1, d = 4 points -> 4.0
    assert row_of(rows, game_date=a_last)["shot_zone_mismatch_score"] == pytest.approx(4.0)
    # B has no zone split: NULL, even with PSZA and TDZA rows present (a season-blind shot-chart flag
    # would read A's chart and give 0.0)
    for d in (night2, night10):
        r = row_of(rows, game_date=d)
        assert r["shot_zone_mismatch_score"] is None and r["shot_zone_mismatch_type"] is None
        assert "shot_zones (no shot chart for the season)" in r["missing_data_fields"]

    # night 2: fatigue from B only: back-to-back -15, 1 game and 30 minutes in the last 7 days, no earlier
    # pair -> 85 (leaking: 5 games -10, 2+ back-to-backs -12, 38 mpg -8 -> 55)
    r = row_of(rows, game_date=night2)
    assert r["fatigue_score"] == 85
    # own completeness: AAA's scheduled games this season before D: 1 (leaking: the last 10, of A)
    assert (r["expected_games_count"], r["actual_games_count"]) == (1, 1)
    # usage: projected = base = 0.1 -> 0 (leaking: (10 x 0.5 + 0.1) / 11 vs (6 x 0.5 + 0.1) / 7 -> +0.62)
    assert r["usage_spike_score"] == pytest.approx(0.0)
    assert r["pace_score"] == pytest.approx(2.0)  # differential +4 -> 4 / 2

    # night 10: projected (season) 2.5 / 9, base (last 7) 0.3 -> (0.27778 - 0.3) x 100 x 0.3 = -0.6667
    # (leaking: season (5 + 2.5) / 19 = 0.3947 -> +2.84)
    r = row_of(rows, game_date=night10)
    assert r["usage_differential"] == pytest.approx(2.5 / 9 - 0.3)
    assert r["usage_spike_score"] == pytest.approx((2.5 / 9 - 0.3) * 30)
    assert r["usage_trend"] == "drop"


# ------------------------------------------------------------------ MLFS season features

ML_A = day_range(D(2023, 3, 31), 10)  # season A: AAA-BBB 03-31 .. 04-09
ML_B = [(D(2023, 4, 20), "AAA", "BBB", B), (D(2023, 4, 21), "AAA", "CCC", B),  # B opens 11 days later
        (D(2023, 4, 22), "AAA", "BBB", B)]


def _mlfs_world():
    """Player 1 (AAA) scores 40 in each of A's 10 games against BBB (season A has a shot chart); in B
    (no shot chart) 10 against BBB on 04-20 and 20 against CCC on 04-21, then faces BBB again on D =
    04-22. A's games lie within 60 days of D (the recent-form window)."""
    sched = schedule_of([(d, "AAA", "BBB", A) for d in ML_A] + ML_B)
    rows = [{"player_id": 1, "team_abbr": "AAA", "game_date": d, "points": 40, "paint_attempts": 5,
             "three_pt_attempts": 5, "fg_attempts": 10, "usage_rate": 0.3} for d in ML_A]
    no_chart = dict.fromkeys(("paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes"))
    rows += [{"player_id": 1, "team_abbr": "AAA", "game_date": g[0], "points": p, "three_pt_attempts": 3,
              "fg_attempts": 6, "usage_rate": 0.2, **no_chart} for g, p in zip(ML_B, (10, 20, 30))]
    pg = player_games(rows, sched)
    team = team_offense([{"team_abbr": "AAA", "game_date": d, "pace": 100.0, "offensive_rating": 110.0}
                         for d in [*ML_A, *(g[0] for g in ML_B)]], sched)
    return sched, pg, team


def test_mlfs_season_features_use_this_season_only():
    sched, pg, team = _mlfs_world()
    d = ML_B[-1][0]
    upcg = build_upcoming_player_game_context(pg, team, sched, d, d)
    # no Phase 4 rows: every history feature comes from Phase 3 computed here
    rows, failures = build_ml_feature_store(
        upcg, frame_of(PLAYER_DAILY_CACHE, []), frame_of(PLAYER_COMPOSITE_FACTORS, []),
        frame_of(PLAYER_SHOT_ZONE_ANALYSIS, []), frame_of(TEAM_DEFENSE_ZONE_ANALYSIS, []), pg, team, d, d)
    assert failures.is_empty()
    r = row_of(rows, player_id=1)
    # B before D: 10 (vs BBB) and 20 (vs CCC) (leaking: season (400 + 30) / 12 = 35.8)
    assert (r["points_avg_season"], r["points_avg_season_source"]) == (pytest.approx(15.0), "phase3")
    # the games vs this opponent are the last 365 days, across seasons (reference §8.4, 29/30): A's 10
    # games vs BBB (40 each) and B's 10 -> (400 + 10) / 11 (test_mlfs_games_vs_opponent_... below)
    assert (r["avg_points_vs_opponent"], r["avg_points_vs_opponent_source"]) == (pytest.approx(410 / 11), "phase3")
    assert (r["games_vs_opponent"], r["games_vs_opponent_source"]) == (11.0, "phase3")
    assert r["points_avg_last_10"] == pytest.approx(15.0)
    assert r["points_avg_last_3"] == pytest.approx(15.0)  # (leaking: (40 + 10 + 20) / 3 = 23.3)
    # Phase 3's last-5 mean needs 5 games: 2 this season -> the default (leaking: 5 games, 30.0)
    assert (r["points_avg_last_5"], r["points_avg_last_5_source"]) == (10.0, "default")
    # team win share needs 5 team games this season: 2 -> default (leaking: 12 games, calculated)
    assert (r["team_win_pct"], r["team_win_pct_source"]) == (0.5, "default")
    # DNP rate needs 3 box-score rows this season: 2 -> default (leaking: 12 rows, calculated)
    assert r["dnp_rate_source"] == "default"
    assert r["games_played_season"] == 2 and r["early_season_flag"] is True
    # 60-day form window [02-21, 04-22) holds A's 10 games too; this season only: mean 15, sample std
    # of (10, 20) = 7.07; last 3 (15) - 15 = 0; the newest game (20) is not below 15 -> streak 0; 2 games
    # since the season began. (leaking: mean 35.8 -> both B games below it, streak 2; 12 games since a
    # change, A's last game being 11 days before B's first)
    assert r["deviation_from_avg_last3"] == pytest.approx(0.0)
    assert r["consecutive_games_below_avg"] == 0.0
    assert r["games_since_structural_change"] == 2.0
    # B has no shot chart: zone features missing (a season-blind flag would see A's chart: 0.0 default);
    # the three-point share comes from B's box scores: (3 + 3) / (6 + 6) = 0.5
    assert (r["pct_paint"], r["pct_paint_source"]) == (None, "missing")
    assert (r["pct_mid_range"], r["pct_mid_range_source"]) == (None, "missing")
    assert (r["shot_zone_mismatch_score"], r["shot_zone_mismatch_score_source"]) == (None, "missing")
    assert (r["pct_three"], r["pct_three_source"]) == (pytest.approx(0.5), "phase3")


# A (2022-23) and B (2023-24), D = 2023-11-10, D - 365 days = 2022-11-10: player 1 (AAA) vs BBB scores 40 on
# 2022-11-09 (one day too old), 30 on 2022-11-10 (the window's first day), 20 on 2023-03-01; 50 vs CCC on
# 2023-03-02 (another opponent); in B 10 vs BBB on 2023-11-01, then 99 vs BBB on D itself (never used for D).
OPP_GAMES = [(D(2022, 11, 9), "BBB", A, 40), (D(2022, 11, 10), "BBB", A, 30), (D(2023, 3, 1), "BBB", A, 20),
             (D(2023, 3, 2), "CCC", A, 50), (D(2023, 11, 1), "BBB", B, 10), (D(2023, 11, 10), "BBB", B, 99)]


def test_mlfs_games_vs_opponent_are_the_365_days_before_d_across_seasons():
    sched = schedule_of([(d, "AAA", opp, season) for d, opp, season, _ in OPP_GAMES])
    pg = player_games([{"player_id": 1, "team_abbr": "AAA", "game_date": d, "points": p}
                       for d, _, _, p in OPP_GAMES], sched)
    team = team_offense([{"team_abbr": "AAA", "game_date": d, "pace": 100.0, "offensive_rating": 110.0}
                         for d, *_ in OPP_GAMES], sched)
    d = OPP_GAMES[-1][0]
    upcg = build_upcoming_player_game_context(pg, team, sched, d, d)
    rows, failures = build_ml_feature_store(
        upcg, frame_of(PLAYER_DAILY_CACHE, []), frame_of(PLAYER_COMPOSITE_FACTORS, []),
        frame_of(PLAYER_SHOT_ZONE_ANALYSIS, []), frame_of(TEAM_DEFENSE_ZONE_ANALYSIS, []), pg, team, d, d)
    assert failures.is_empty()
    r = row_of(rows, player_id=1)
    # in [2022-11-10, 2023-11-10) vs BBB: 30, 20 (season A) and 10 (season B) -> 3 games, mean 20
    # (this season only: 1 game, 10; the 40 of 2022-11-09 is 366 days before D; 50 was vs CCC)
    assert (r["games_vs_opponent"], r["games_vs_opponent_source"]) == (3.0, "phase3")
    assert (r["avg_points_vs_opponent"], r["avg_points_vs_opponent_source"]) == (pytest.approx(20.0), "phase3")
    # the season features still restart on opening night: one B game before D
    assert r["points_avg_season"] == pytest.approx(10.0) and r["games_played_season"] == 1


# ------------------------------------------------------------------ season week, expected band, universes


def _two_season_calendar():
    """Season A opens 2022-10-18 (AAA-BBB) and ends 2023-04-09 (AAA-CCC); season B opens 2023-10-24
    (AAA-BBB), then CCC-DDD on 10-25 and AAA-DDD on 10-26."""
    sched = schedule_of([(D(2022, 10, 18), "AAA", "BBB", A), (D(2023, 4, 9), "AAA", "CCC", A),
                         (D(2023, 10, 24), "AAA", "BBB", B), (D(2023, 10, 25), "CCC", "DDD", B),
                         (D(2023, 10, 26), "AAA", "DDD", B)])
    pg = player_games([
        {"player_id": 1, "team_abbr": "AAA", "game_date": D(2022, 10, 18)},
        {"player_id": 2, "team_abbr": "BBB", "game_date": D(2022, 10, 18)},
        {"player_id": 1, "team_abbr": "AAA", "game_date": D(2023, 4, 9)},
        {"player_id": 3, "team_abbr": "CCC", "game_date": D(2023, 4, 9)},
        {"player_id": 1, "team_abbr": "AAA", "game_date": D(2023, 10, 24)},
        {"player_id": 4, "team_abbr": "DDD", "game_date": D(2023, 10, 25)},
        {"player_id": 5, "team_abbr": "CCC", "game_date": D(2023, 10, 25), "minutes_played": None},  # DNP
    ], sched)
    return sched, pg


def test_season_week_restarts_at_each_opening_night():
    sched, _ = _two_season_calendar()
    days = pl.DataFrame({"analysis_date": [D(2023, 4, 9), D(2023, 10, 24), D(2023, 10, 30), D(2023, 10, 31)]})
    out = with_season(days, season_calendar(sched)).sort("analysis_date")
    # 04-09: 173 days after A's opening -> week 173 // 7 + 1 = 25; B's opening night and 6 days later:
    # week 1 (not 54, counted from A's opening); 7 days later: week 2
    assert out.get_column("season_year").to_list() == [A, B, B, B]
    assert out.get_column("season_week").to_list() == [25, 1, 1, 2]


def _report_inputs(sched: pl.DataFrame, days: list[dt.date], log_rows: list[int]):
    """The validation report's partition frame and PSZA log / row counts (``log_rows`` per day)."""
    parts = partitions_frame(days, season_calendar(sched))
    name = PLAYER_SHOT_ZONE_ANALYSIS.qualified_name
    log = pl.DataFrame({"table_name": [name] * len(days), "partition_date": days, "row_count": log_rows})
    return parts, log


def test_expected_entities_and_band_are_per_season():
    sched, pg = _two_season_calendar()
    days = [D(2023, 4, 9), D(2023, 10, 24), D(2023, 10, 25), D(2023, 10, 26)]
    exp = expected_entities(partitions_frame(days, season_calendar(sched)), sched, pg).sort("analysis_date")
    # 04-09 (A, week 25): teams with an A game before D: AAA, BBB; players: 1, 2
    # 10-24 (B's opening night, week 1): nobody has a B game before D (leaking: 3 teams, 3 players)
    # 10-25: AAA, BBB / player 1; 10-26: AAA, BBB, CCC, DDD / players 1, 4 (5 only sat: not counted)
    # pre-game universe (last played game within 30 days, for a team playing on D; a team without a game
    # this season yet takes its roster at the end of the previous season): nobody on 04-09 (player 1's
    # last game is 173 days old; CCC's first A game, no season before A); 10-24 (opening night AAA-BBB):
    # 1 and 2, their teams at the end of A; 10-25 (CCC-DDD, no B game yet): 3 (CCC at the end of A);
    # 10-26 (AAA-DDD): 1 (AAA on 10-24) and 4 (DDD on 10-25)
    assert exp.get_column("season_week").to_list() == [25, 1, 1, 1]
    assert exp.get_column("teams_before").to_list() == [2, 0, 2, 4]
    assert exp.get_column("players_before").to_list() == [2, 0, 1, 2]
    assert exp.get_column("upcoming_players").to_list() == [0, 2, 1, 2]

    # PSZA on B's first nights: every expected player below the 10-game minimum (rate 1.0). Week 1's
    # band allows 100 %; counted from A's opening (week 54) the band would be 25 % and this a WARN.
    b_days = [D(2023, 10, 24), D(2023, 10, 25), D(2023, 10, 26)]
    parts, log = _report_inputs(sched, b_days, [0, 0, 0])
    fail = pl.DataFrame([
        {"processor": "player_shot_zone_analysis", "analysis_date": day, "entity_type": "player",
         "entity_id": str(p), "entity_name": f"player{p}", "failure_category": "INCOMPLETE_DATA",
         "is_failure": False, "reason": "r", "games_required": 10, "games_found": 1}
        for day, p in ((D(2023, 10, 25), 1), (D(2023, 10, 26), 1), (D(2023, 10, 26), 4))],
        schema=empty_failures().schema)
    table = ReportTable(PLAYER_SHOT_ZONE_ANALYSIS.qualified_name, "player_shot_zone_analysis", PLAYERS_BEFORE,
                        PSZA_TABLE.bands)
    b_sched = sched.filter(pl.col("season_year") == B)
    report = phase4_report(parts, b_sched, exp, log, log, fail, [table])
    assert report.get_column("status").to_list() == ["COMPLETE"] * 3
    week = weekly_incomplete(report, [table]).row(0, named=True)
    assert (week["season_week"], week["expected"], week["incomplete_data"]) == (1, 3, 3)
    assert week["incomplete_rate"] == 1.0 and week["band_upper"] == 1.0 and week["within_band"] is True

    # the asset's per-day metadata and check numbers (factory.daily_counts) with the two seasons'
    # schedule: B's nights are week 1, A's last night week 25
    counts = daily_counts(PSZA_TABLE, frame_of(PLAYER_SHOT_ZONE_ANALYSIS, []), fail, sched,
                          [D(2023, 4, 9), *b_days]).sort("day")
    assert counts.get_column("season_week").to_list() == [25, 1, 1, 1]


def test_weekly_incomplete_rate_is_per_season_not_pooled_across_seasons():
    # A report over two seasons: week 10 of A (2022-12-20, 63 days after A's opening 10-18) and week 10
    # of B (2023-12-26, 63 days after B's opening 10-24), 10 PSZA players expected on each night.
    # A: 0 below the minimum (rate 0.0); B: 4 below (rate 0.4, above week 10's 25 % band).
    # Pooled into one "week 10" the rate would be 4 / 20 = 0.2, within the band: B's WARN-worthy week
    # would be hidden by A's.
    a_day, b_day = D(2022, 12, 20), D(2023, 12, 26)
    sched = schedule_of([(D(2022, 10, 18), "AAA", "BBB", A), (a_day, "AAA", "BBB", A),
                         (D(2023, 10, 24), "AAA", "BBB", B), (b_day, "AAA", "BBB", B)])
    dates = pl.DataFrame({"analysis_date": [a_day, b_day]})
    assert with_season(dates, season_calendar(sched)).get_column("season_week").to_list() == [10, 10]
    parts, log = _report_inputs(sched, [a_day, b_day], [10, 6])
    expected = pl.DataFrame({"analysis_date": [a_day, b_day], "season_year": [A, B], "season_week": [10, 10],
                             "teams_before": [2, 2], "players_before": [10, 10], "upcoming_players": [0, 0]})
    name = PLAYER_SHOT_ZONE_ANALYSIS.qualified_name
    fail = pl.DataFrame([
        {"processor": "player_shot_zone_analysis", "analysis_date": b_day, "entity_type": "player",
         "entity_id": str(p), "entity_name": f"player{p}", "failure_category": "INCOMPLETE_DATA",
         "is_failure": False, "reason": "r", "games_required": 10, "games_found": 5} for p in range(4)],
        schema=empty_failures().schema)
    table = ReportTable(name, "player_shot_zone_analysis", PLAYERS_BEFORE, PSZA_TABLE.bands)
    per_date = phase4_report(parts, sched, expected, log, log, fail, [table])
    assert per_date.get_column("status").to_list() == ["COMPLETE", "COMPLETE"]
    assert per_date.get_column("season_year").to_list() == [A, B]
    weeks = weekly_incomplete(per_date, [table]).sort("season_year")
    assert weeks.select("season_year", "season_week", "expected", "incomplete_data").rows() == [
        (A, 10, 10, 0), (B, 10, 10, 4)]
    assert weeks.get_column("incomplete_rate").to_list() == [0.0, 0.4]
    assert weeks.get_column("band_upper").to_list() == [0.25, 0.25]
    assert weeks.get_column("within_band").to_list() == [True, False]
