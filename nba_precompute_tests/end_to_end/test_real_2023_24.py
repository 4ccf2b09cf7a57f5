"""The second complete season (2023-24) on the real data, built through Dagster: Phase 3 from opening
night (2023-10-24) to 2023-12-11, Phase 4 over the In-Season Tournament knockout week and the next game
night (partitions 12-04, 12-05, 12-06, 12-07, 12-08, 12-11; the tournament final 0062300001 on 12-09 is
not a regular-season game, so 12-09 is not a partition).

The same invariants as the 2022-23 December tests, and values recomputed here from the raw files with
plain Polars (``real_seasons.raw_*``): every PSZA row and every PDC points average, a player traded in
November (Daniel Theis, IND -> LAC; Robert Covington, LAC -> PHI), the tournament's knockout games inside
the windows, and a team's defense window from the raw shot chart and team logs.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute.partitions import game_calendar
from nba_precompute.schemas import (
    ALL_TABLES,
    PLAYER_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute_tests.end_to_end.real_seasons import (
    HOOPR,
    assert_checks_pass,
    assert_phase4_invariants,
    build_season,
    last_games,
    raw_hoopr_games,
    raw_shots,
    zone_totals,
)

HISTORY = ("2023-10-24", "2023-12-11")
PHASE4_RANGE = ("2023-12-04", "2023-12-11")
PHASE4_DAYS = [dt.date(2023, 12, d) for d in (4, 5, 6, 7, 8, 11)]  # the game dates of the Phase 4 run
# its partitions: every day (12-09, the IST final only, and 12-10 have no regular-season game: empty)
PARTITION_DAYS = [dt.date(2023, 12, d) for d in range(4, 12)]
IST_FINAL = "0062300001"  # LAL-IND, 2023-12-09: not a regular-season game
# knockout games: quarterfinals 12-04 / 12-05, semifinals 12-07 (regular season, ids 00223...)
IST_KNOCKOUT = ("0022301201", "0022301202", "0022301203", "0022301204", "0022301229", "0022301230")
THEIS, COVINGTON, HALIBURTON = 1628464, 203496, 1630169
IND, LAC, PHI = 1610612754, 1610612746, 1610612755


@pytest.fixture(scope="module")
def season(tmp_path_factory, raw_data_dir):
    return build_season(tmp_path_factory.mktemp("season_2023") / "warehouse.duckdb", raw_data_dir, HISTORY,
                        [PHASE4_RANGE])


@pytest.fixture(scope="module")
def tables(season):
    return assert_phase4_invariants(season)


@pytest.fixture(scope="module")
def raw(raw_data_dir):
    box, teams = raw_hoopr_games(raw_data_dir, 2023)
    return {"box": box, "played": box.filter(pl.col("played")), "teams": teams, "shots": raw_shots(raw_data_dir, 2024)}


def _row(df: pl.DataFrame, **keys) -> dict:
    hit = df.filter(*[pl.col(k) == v for k, v in keys.items()])
    assert hit.height == 1, (keys, hit.height)
    return hit.row(0, named=True)


# ------------------------------------------------------------------ invariants and checks


def test_phase4_invariants_and_checks(season, tables):
    assert season.phase4_days == PARTITION_DAYS
    assert_checks_pass(season)
    # every team has >= 15 games by the knockout week: 30 TDZA rows a night, no INCOMPLETE_DATA
    assert tables["team_defense_zone_analysis"].group_by("analysis_date").len().get_column("len").to_list() == [30] * 6
    assert tables["player_shot_zone_analysis"].height > 300 * len(PHASE4_DAYS)
    # PCF and MLFS write every player in a game on D; PDC caches them or says why not
    upcg = season.warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT).filter(pl.col("game_date").is_in(PHASE4_DAYS)).select(
        "game_date", "player_id").sort(pl.all())
    for name in ("player_composite_factors", "ml_feature_store_v2"):
        assert tables[name].select("game_date", "player_id").sort(pl.all()).equals(upcg), name
    pdc = tables["player_daily_cache"].select(pl.col("cache_date").alias("game_date"), "player_id")
    f = tables["failures"].filter(pl.col("processor") == "player_daily_cache").select(
        pl.col("analysis_date").alias("game_date"), pl.col("entity_id").cast(pl.Int64).alias("player_id"))
    assert pl.concat([pdc, f]).sort(pl.all()).equals(upcg)


# ------------------------------------------------------------------ the In-Season Tournament


def test_the_tournament_final_is_not_regular_season_and_appears_nowhere(season, raw_data_dir):
    # the raw box scores hold the final (so leaving it out is a decision, not an absence)
    box = pl.read_csv(raw_data_dir / HOOPR / "player_game_logs1.csv.gz", infer_schema_length=0)
    assert box.filter(pl.col("game_id_nba").str.zfill(10) == IST_FINAL).height > 0
    # a day without a regular-season game: the only game on 12-09 is the final
    cal = game_calendar(raw_data_dir)
    assert cal.explain(dt.date(2023, 12, 9)) is None and dt.date(2023, 12, 9) not in cal.game_dates
    wh = season.warehouse
    for table in ALL_TABLES:
        df = wh.read(table)
        if "game_id" in df.columns:
            assert IST_FINAL not in df.get_column("game_id").to_list(), table.name
        assert dt.date(2023, 12, 9) not in df.get_column(table.partition_column).to_list(), table.name
    # where the run covered it, 12-09 is an empty partition (no_games), never the final's rows
    log = wh.query("SELECT row_count FROM nba_processing.partition_log WHERE partition_date = DATE '2023-12-09' "
                   "AND table_name NOT LIKE 'nba_processing.input_versions%'")  # one version row per partition
    assert set(log.get_column("row_count").to_list()) <= {0}
    # IND played the semifinal on 12-07, the final on 12-09, then at DET on 12-11: its players' rest on
    # 12-11 counts from the semifinal (4 days; 2 had the final been counted)
    upcg = wh.read(UPCOMING_PLAYER_GAME_CONTEXT)
    ind = upcg.filter((pl.col("game_date") == dt.date(2023, 12, 11)) & (pl.col("team_abbr") == "IND"))
    assert ind.height >= 8
    rested = ind.filter(pl.col("days_rest").is_not_null())
    # D's pre-game universe also lists IND players whose last played game was earlier (they sat the
    # semifinal): longer rests; nobody's rest counts from the final (2 days)
    assert rested.get_column("days_rest").min() == 4 and 2 not in rested.get_column("days_rest").to_list()
    assert rested.filter(pl.col("days_rest") == 4).height >= 8
    assert rested.height >= 7


def test_knockout_games_are_regular_season_games_inside_the_windows(season, tables, raw):
    pgs = season.warehouse.read(PLAYER_GAME_SUMMARY)
    assert set(IST_KNOCKOUT) <= set(pgs.get_column("game_id").to_list())
    # Haliburton (IND) on 12-08: his last 10 played games before D end with the quarterfinal (12-04)
    # and the semifinal (12-07); recomputed from the raw shot chart
    keys = pl.DataFrame({"player_id": [HALIBURTON], "analysis_date": [dt.date(2023, 12, 8)]})
    window = last_games(raw["played"], keys, 10)
    assert {"0022301202", "0022301229"} <= set(window.get_column("game_id").to_list())
    z = zone_totals(window, raw["shots"]).row(0, named=True)
    total = z["paint_att"] + z["mid_range_att"] + z["three_pt_att"]
    r = _row(tables["player_shot_zone_analysis"], player_id=HALIBURTON, analysis_date=dt.date(2023, 12, 8))
    assert r["total_shots_last_10"] == total
    for zone in ("paint", "mid_range", "three_pt"):
        assert r[f"{zone}_rate_last_10"] == pytest.approx(z[f"{zone}_att"] / total, abs=1e-12)
        assert r[f"{zone}_pct_last_10"] == pytest.approx(z[f"{zone}_made"] / z[f"{zone}_att"], abs=1e-12)


def test_team_defense_window_from_the_raw_shot_chart_and_team_logs(tables, raw):
    # IND on 12-11: its last 15 games before D hold both knockout games and not the final
    d = dt.date(2023, 12, 11)
    games = raw["teams"].filter((pl.col("team_id") == IND) & (pl.col("game_date") < d)).sort("game_date").tail(15)
    ids = games.get_column("game_id").to_list()
    assert {"0022301202", "0022301229"} <= set(ids) and IST_FINAL not in ids
    opp_shots = raw["shots"].filter(pl.col("game_id").is_in(ids) & (pl.col("team_id") != IND))
    r = _row(tables["team_defense_zone_analysis"], team_abbr="IND", analysis_date=d)
    assert r["games_in_sample"] == 15
    for zone in ("paint", "mid_range", "three_pt"):
        s = opp_shots.filter(pl.col("zone") == zone)
        assert r[f"{zone}_pct_allowed_last_15"] == pytest.approx(s.get_column("made").sum() / s.height, abs=1e-12)
        assert r[f"{zone}_attempts_allowed_per_game"] == pytest.approx(s.height / 15, abs=1e-12)
    # Basketball-Reference possessions of the opponent: FGA + 0.44 FTA + TOV - ORB
    poss = games.get_column("opp_fga") + 0.44 * games.get_column("opp_fta") + games.get_column("opp_tov") \
        - games.get_column("opp_oreb")
    assert r["defensive_rating_last_15"] == pytest.approx((games.get_column("opp_pts") * 100 / poss).mean(), rel=1e-12)
    assert r["opponent_pace"] == pytest.approx((poss * 48 / (games.get_column("minutes") / 5)).mean(), rel=1e-12)
    assert r["opponent_points_per_game"] == pytest.approx(games.get_column("opp_pts").mean(), rel=1e-12)


# ------------------------------------------------------------------ every PSZA row and PDC average against the raw files


def test_every_psza_row_and_incomplete_record_matches_the_raw_files(tables, raw):
    psza, failures = tables["player_shot_zone_analysis"], tables["failures"]
    days = pl.DataFrame({"analysis_date": PHASE4_DAYS})
    # universe: every player with >= 1 played game before D; >= 10 -> a row, 1-9 -> INCOMPLETE_DATA
    before = raw["played"].join(days, how="cross").filter(pl.col("game_date") < pl.col("analysis_date")).group_by(
        "player_id", "analysis_date").agg(pl.len().alias("games"))
    rows = psza.select("player_id", "analysis_date")
    assert rows.sort(pl.all()).equals(before.filter(pl.col("games") >= 10).select(rows.columns).sort(pl.all()))
    incomplete = failures.filter((pl.col("processor") == "player_shot_zone_analysis")).select(
        pl.col("entity_id").cast(pl.Int64).alias("player_id"), "analysis_date", pl.col("games_found").alias("games"))
    expected = before.filter(pl.col("games") < 10).with_columns(pl.col("games").cast(pl.Int64))
    assert incomplete.sort(pl.all()).equals(expected.select(incomplete.columns).sort(pl.all()))
    # every row: the last 10 played games strictly before D (a game on D would change the counts of the
    # players who played that night), zone counts from the raw shot chart
    window = last_games(raw["played"], rows, 10)
    z = rows.join(zone_totals(window, raw["shots"]), on=["player_id", "analysis_date"], how="left").fill_null(0)
    twenty = last_games(raw["played"], rows, 20).group_by("player_id", "analysis_date").len("g20")
    got = psza.join(z, on=["player_id", "analysis_date"]).join(twenty, on=["player_id", "analysis_date"])
    assert got.height == psza.height
    total = pl.col("paint_att") + pl.col("mid_range_att") + pl.col("three_pt_att")
    assert (got.get_column("total_shots_last_10") == got.select(total).to_series()).all()
    assert (got.get_column("games_in_sample_20") == got.get_column("g20")).all()
    for zone in ("paint", "mid_range", "three_pt"):
        rate = got.select((pl.col(f"{zone}_rate_last_10") - pl.col(f"{zone}_att") / total).abs().max()).item()
        pct = got.select((pl.col(f"{zone}_pct_last_10") - pl.col(f"{zone}_made") / pl.col(f"{zone}_att"))
                         .abs().max()).item()
        assert rate < 1e-12 and (pct is None or pct < 1e-12), zone
        # a zone without attempts has a NULL FG%, never 0
        assert got.filter((pl.col(f"{zone}_att") == 0) & pl.col(f"{zone}_pct_last_10").is_not_null()).is_empty()


def test_every_pdc_points_average_matches_the_raw_box_scores(tables, raw):
    pdc = tables["player_daily_cache"]
    keys = pdc.select("player_id", pl.col("cache_date").alias("analysis_date"))
    games = last_games(raw["played"], keys, None).with_columns(
        pl.int_range(1, pl.len() + 1).over("player_id", "analysis_date").alias("recent"))
    means = games.group_by("player_id", "analysis_date").agg(
        pl.col("points").filter(pl.col("recent") <= 5).mean().alias("l5"),
        pl.col("points").filter(pl.col("recent") <= 10).mean().alias("l10"),
        pl.col("points").mean().alias("season"), pl.len().alias("n"), pl.col("game_date").max().alias("last"))
    got = pdc.join(means, left_on=["player_id", "cache_date"], right_on=["player_id", "analysis_date"])
    assert got.height == pdc.height
    for col, ref in (("points_avg_last_5", "l5"), ("points_avg_last_10", "l10"), ("points_avg_season", "season")):
        assert got.select((pl.col(col) - pl.col(ref)).abs().max()).item() < 1e-9, col
    assert (got.get_column("games_played_season") == got.get_column("n")).all()
    assert (got.get_column("last_played_game_date") == got.get_column("last")).all()


# ------------------------------------------------------------------ traded players


def _team_pace_last_10(raw, team_id: int, d: dt.date) -> float:
    g = raw["teams"].filter((pl.col("team_id") == team_id) & (pl.col("game_date") < d)).sort("game_date").tail(10)
    poss = g.get_column("fga") + 0.44 * g.get_column("fta") + g.get_column("tov") - g.get_column("oreb")
    return (poss * 48 / (g.get_column("minutes") / 5)).mean()


def test_a_traded_players_windows_follow_him_and_team_windows_are_his_new_teams(season, tables, raw):
    # Theis: 1 game for IND (11-09), then LAC from 11-17. On 12-06 his last 10 played games are that IND
    # game and 9 LAC games; from 12-07 on the IND game has left the window.
    psza, pdc = tables["player_shot_zone_analysis"], tables["player_daily_cache"]
    for day, teams in ((dt.date(2023, 12, 6), {IND, LAC}), (dt.date(2023, 12, 7), {LAC})):
        keys = pl.DataFrame({"player_id": [THEIS], "analysis_date": [day]})
        window = last_games(raw["played"], keys, 10)
        assert set(window.get_column("team_id").to_list()) == teams
        z = zone_totals(window, raw["shots"]).row(0, named=True)
        total = z["paint_att"] + z["mid_range_att"] + z["three_pt_att"]
        r = _row(psza, player_id=THEIS, analysis_date=day)
        assert r["team_abbr"] == "LAC" and r["games_in_sample_10"] == 10
        assert r["total_shots_last_10"] == total
        assert r["paint_rate_last_10"] == pytest.approx(z["paint_att"] / total, abs=1e-12)
        assert r["three_pt_pct_last_10"] == pytest.approx(z["three_pt_made"] / z["three_pt_att"], abs=1e-12)
    # PDC on 12-06 (he played at home vs DEN): the season average spans both teams,
    # (2 + 2 + 19 + 8 + 3 + 5 + 4 + 5 + 10 + 12) / 10 = 7.0, and the team window is LAC's, not IND's
    r = _row(pdc, player_id=THEIS, cache_date=dt.date(2023, 12, 6))
    assert r["points_avg_season"] == pytest.approx(7.0) and r["games_played_season"] == 10
    assert r["team_abbr"] == "LAC"
    lac, ind = _team_pace_last_10(raw, LAC, r["cache_date"]), _team_pace_last_10(raw, IND, r["cache_date"])
    assert r["team_pace_last_10"] == pytest.approx(lac, rel=1e-12) and abs(lac - ind) > 0.1
    # Covington: 3 games for LAC, then PHI from 11-02. On 12-04 his 20-game window holds every game of
    # his season (both teams); the paint share over it from the raw shot chart
    d = dt.date(2023, 12, 4)
    keys = pl.DataFrame({"player_id": [COVINGTON], "analysis_date": [d]})
    window = last_games(raw["played"], keys, 20)
    assert 15 <= window.height < 20 and set(window.get_column("team_id").to_list()) == {LAC, PHI}
    z = zone_totals(window, raw["shots"]).row(0, named=True)
    r = _row(psza, player_id=COVINGTON, analysis_date=d)
    assert r["team_abbr"] == "PHI" and r["games_in_sample_20"] == window.height
    assert r["paint_rate_last_20"] == pytest.approx(
        z["paint_att"] / (z["paint_att"] + z["mid_range_att"] + z["three_pt_att"]), abs=1e-12)
    assert r["paint_pct_last_20"] == pytest.approx(z["paint_made"] / z["paint_att"], abs=1e-12)
    # after the trades their old teams' nights do not list them: every upcoming row of theirs in the
    # Phase 4 week is with the new team
    upcg = season.warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT).filter(
        pl.col("game_date").is_in(PHASE4_DAYS) & pl.col("player_id").is_in([THEIS, COVINGTON]))
    assert upcg.height >= 3
    assert set(upcg.select("player_id", "team_abbr").iter_rows()) <= {(THEIS, "LAC"), (COVINGTON, "PHI")}
    # Covington on his PHI nights: the team window is PHI's
    cov = pdc.filter(pl.col("player_id") == COVINGTON)
    assert cov.height >= 2
    for r in cov.iter_rows(named=True):
        assert r["team_abbr"] == "PHI"
        assert r["team_pace_last_10"] == pytest.approx(_team_pace_last_10(raw, PHI, r["cache_date"]), rel=1e-12)
