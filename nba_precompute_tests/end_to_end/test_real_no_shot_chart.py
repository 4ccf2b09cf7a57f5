"""Seasons without a shot chart (2024-25) and the trimmed 2020-21 season on the real data, built through
Dagster a few weeks at a time (issue 10).

2024-25: Phase 3 from opening night (2024-10-22) to 2024-11-22; Phase 4 on opening night and over
11-18 .. 11-22 (when the first teams reach 15 games). No shot chart was published: every zone-only
column must be NULL (never 0, never the reference defaults), the rows must say why, and what the box
score does support (three-point attempts and makes, the three-point share 3PA / FGA) must equal the
raw box score, recomputed here with plain Polars.

2020-21: Phase 3 from opening night (2020-12-22) to 2021-01-22, Phase 4 over 01-18 .. 01-22. The
source has no offensive rebounds: possessions, pace and ratings are NULL (not 0) all the way to TDZA,
and the source's quality flags reach ``data_quality_issues``; the shot chart exists, so zones are
computed, checked here against the raw 2021 shot chart.
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from nba_precompute import schemas
from nba_precompute.schemas import (
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute.transforms.mlfs import SHOT_CHART_FEATURES
from nba_precompute.transforms.tdza import LEAGUE_DEFAULTS
from nba_precompute_tests.end_to_end.real_seasons import (
    assert_checks_pass,
    assert_phase4_invariants,
    build_season,
    last_games,
    raw_hoopr_games,
    raw_shots,
    zone_totals,
)

NO_CHART_2024 = "no shot chart for season 2024-25: paint and mid-range splits unknown (not published)"
LATE_2024 = [dt.date(2024, 11, d) for d in range(18, 23)]
OPENING_2024 = dt.date(2024, 10, 22)
DAYS_2020 = [dt.date(2021, 1, d) for d in range(18, 23)]
TRIMMED = "boxscores/nba-lineup-analyzer"


@pytest.fixture(scope="module")
def s2024(tmp_path_factory, raw_data_dir):
    return build_season(tmp_path_factory.mktemp("season_2024") / "warehouse.duckdb", raw_data_dir,
                        ("2024-10-22", "2024-11-22"), [("2024-10-22", "2024-10-22"), ("2024-11-18", "2024-11-22")])


@pytest.fixture(scope="module")
def t2024(s2024):
    return assert_phase4_invariants(s2024)


@pytest.fixture(scope="module")
def raw2024(raw_data_dir):
    box, teams = raw_hoopr_games(raw_data_dir, 2024)
    return {"box": box, "played": box.filter(pl.col("played")), "teams": teams}


@pytest.fixture(scope="module")
def s2020(tmp_path_factory, raw_data_dir):
    return build_season(tmp_path_factory.mktemp("season_2020") / "warehouse.duckdb", raw_data_dir,
                        ("2020-12-22", "2021-01-22"), [("2021-01-18", "2021-01-22")])


@pytest.fixture(scope="module")
def t2020(s2020):
    return assert_phase4_invariants(s2020)


# ------------------------------------------------------------------ 2024-25: every asset runs, zones NULL


def test_2024_every_asset_runs_and_every_check_passes(s2024, t2024):
    assert s2024.phase4_days == [OPENING_2024, *LATE_2024]
    assert_checks_pass(s2024)
    # the first teams reach 15 games: TDZA rows exist (the columns below are checked on real rows)
    tdza = t2024["team_defense_zone_analysis"]
    assert tdza.height >= 10 and tdza.get_column("analysis_date").max() == LATE_2024[-1]
    assert t2024["player_shot_zone_analysis"].height > 1000


def test_2024_phase3_zone_columns_null_and_threes_equal_the_box_score(s2024, raw2024):
    wh = s2024.warehouse
    pgs = wh.read(PLAYER_GAME_SUMMARY)
    assert pgs.height > 5000
    for c in ("paint_attempts", "paint_makes", "mid_range_attempts", "mid_range_makes"):
        assert pgs.get_column(c).null_count() == pgs.height, c
    assert not pgs.get_column("has_complete_shot_zones").any()
    assert pgs.get_column("data_quality_issues").list.contains(NO_CHART_2024).all()
    # three-point attempts and makes: the box score's, row for row
    box = raw2024["box"].select("player_id", "game_id", "fg3a", "fg3m")
    j = pgs.join(box, on=["player_id", "game_id"], how="left")
    assert j.get_column("fg3a").null_count() == 0
    assert (j.get_column("three_pt_attempts") == j.get_column("fg3a")).all()
    assert (j.get_column("three_pt_makes") == j.get_column("fg3m")).all()
    # the defense view: the opponent's threes from its box score, zones NULL
    tdgs = wh.read(TEAM_DEFENSE_GAME_SUMMARY)
    for c in ("opp_paint_attempts", "opp_paint_makes", "opp_mid_range_attempts", "opp_mid_range_makes",
              "points_in_paint_allowed", "mid_range_points_allowed"):
        assert tdgs.get_column(c).null_count() == tdgs.height, c
    assert not tdgs.get_column("has_shot_chart").any()
    teams = raw2024["teams"].select("game_id", "team_id", "opp_fg3a", "opp_fg3m")
    tog = wh.read(TEAM_OFFENSE_GAME_SUMMARY).select("game_id", "team_abbr", "team_id")
    j = tdgs.join(tog, left_on=["game_id", "defending_team_abbr"], right_on=["game_id", "team_abbr"]).join(
        teams, on=["game_id", "team_id"])
    assert j.height == tdgs.height
    assert (j.get_column("opp_three_pt_attempts") == j.get_column("opp_fg3a")).all()
    assert (j.get_column("opp_three_pt_makes") == j.get_column("opp_fg3m")).all()


def test_2024_psza_zone_columns_null_three_share_from_the_box_score(t2024, raw2024):
    psza = t2024["player_shot_zone_analysis"]
    for c in ("paint_rate_last_10", "mid_range_rate_last_10", "paint_pct_last_10", "mid_range_pct_last_10",
              "paint_attempts_per_game", "mid_range_attempts_per_game", "paint_rate_last_20", "paint_pct_last_20",
              "primary_scoring_zone"):
        assert psza.get_column(c).null_count() == psza.height, c
    assert not psza.get_column("has_shot_chart").any() and not psza.get_column("has_complete_shot_zones").any()
    assert set(psza.get_column("data_quality_issues").list.join("|").to_list()) == {NO_CHART_2024}
    # three-point share = 3PA / FGA and FG% = 3PM / 3PA over the last 10 played games before D, from the
    # raw box scores, for every row
    keys = psza.select("player_id", "analysis_date")
    sums = last_games(raw2024["played"], keys, 10).group_by("player_id", "analysis_date").agg(
        pl.col("fga").sum(), pl.col("fg3a").sum(), pl.col("fg3m").sum())
    got = psza.join(sums, on=["player_id", "analysis_date"])
    assert got.height == psza.height
    assert (got.get_column("total_shots_last_10") == got.get_column("fga")).all()
    share = got.select((pl.col("three_pt_rate_last_10") - pl.col("fg3a") / pl.col("fga")).abs().max()).item()
    pct = got.select((pl.col("three_pt_pct_last_10") - pl.col("fg3m") / pl.col("fg3a")).abs().max()).item()
    per_game = got.select((pl.col("three_pt_attempts_per_game") - pl.col("fg3a") / 10).abs().max()).item()
    assert share < 1e-12 and pct < 1e-12 and per_game < 1e-12
    assert got.get_column("three_pt_rate_last_10").null_count() == got.filter(pl.col("fga") == 0).height


def test_2024_tdza_zone_columns_and_league_zone_averages_null_not_defaulted(t2024, raw2024):
    tdza = t2024["team_defense_zone_analysis"]
    for c in ("paint_pct_allowed_last_15", "paint_attempts_allowed_per_game", "paint_points_allowed_per_game",
              "paint_defense_vs_league_avg", "mid_range_pct_allowed_last_15", "mid_range_attempts_allowed_per_game",
              "mid_range_points_allowed_per_game", "mid_range_defense_vs_league_avg", "league_paint_pct",
              "league_mid_range_pct", "strongest_zone", "weakest_zone"):
        assert tdza.get_column(c).null_count() == tdza.height, c  # NULL: not 0, not 0.580 / 0.410
    assert not tdza.get_column("has_shot_chart").any()
    assert tdza.get_column("calculation_notes").str.contains(NO_CHART_2024, literal=True).all()
    assert tdza.get_column("three_pt_pct_allowed_last_15").null_count() == 0
    # the three-point columns from the box scores: a team's last 15 games, and the league mean over the
    # teams with >= 10 games in [D - 30, D) of their FG3% allowed
    teams = raw2024["teams"]
    for r in tdza.filter(pl.col("analysis_date") == LATE_2024[-1]).iter_rows(named=True):
        d = r["analysis_date"]
        team_id = teams.join(raw2024["box"].select("team_id", "team").unique(), on="team_id").filter(
            pl.col("team") == r["team_abbr"]).item(0, "team_id")
        g = teams.filter((pl.col("team_id") == team_id) & (pl.col("game_date") < d)).sort("game_date").tail(15)
        assert r["three_pt_pct_allowed_last_15"] == pytest.approx(g["opp_fg3m"].sum() / g["opp_fg3a"].sum(), abs=1e-12)
        window = teams.filter(pl.col("game_date").is_between(d - dt.timedelta(days=30), d, closed="left"))
        per_team = window.group_by("team_id").agg(pl.len().alias("n"), pl.col("opp_fg3m").sum(),
                                                  pl.col("opp_fg3a").sum()).filter(pl.col("n") >= 10)
        assert per_team.height >= 10
        league = (per_team["opp_fg3m"] / per_team["opp_fg3a"]).mean()
        assert r["league_three_pt_pct"] == pytest.approx(league, abs=1e-12)
        assert r["league_three_pt_pct"] != LEAGUE_DEFAULTS["three_pt"] and r["league_avg_is_default"] is False
        assert r["three_pt_defense_vs_league_avg"] == pytest.approx(r["three_pt_pct_allowed_last_15"] - league,
                                                                    abs=1e-12)


def test_2024_pcf_mismatch_null_with_the_reason_on_every_night(t2024):
    pcf = t2024["player_composite_factors"]
    # opening night: nobody has a played game this season before D, so its pre-game universe is empty
    assert set(pcf.get_column("game_date").unique().to_list()) == set(LATE_2024)
    for c in ("shot_zone_mismatch_score", "shot_zone_mismatch_type", "primary_zone_frequency",
              "opponent_defense_vs_league"):
        assert pcf.get_column(c).null_count() == pcf.height, c
    assert pcf.get_column("missing_data_fields").list.contains("shot_zones (no shot chart for the season)").all()
    # the other factors are computed: the total is their sum (the NULL mismatch counts 0, not an error)
    total = pcf.select((pl.col("total_composite_adjustment") - pl.col("fatigue_adjustment") - pl.col("pace_score")
                        - pl.col("usage_spike_score")).abs().max()).item()
    assert total < 1e-9


def test_2024_mlfs_zone_features_missing_three_share_present(t2024, raw2024):
    mlfs, psza = t2024["ml_feature_store_v2"], t2024["player_shot_zone_analysis"]
    for f in ("pct_paint", "pct_mid_range", "shot_zone_mismatch_score"):
        assert mlfs.get_column(f).null_count() == mlfs.height, f
        assert set(mlfs.get_column(f"{f}_source").to_list()) == {"missing"}, f
    # pct_three: the three-point share of the last 10 played games before D (3PA / FGA from the box
    # score): PSZA's where the player has a PSZA row, else Phase 3's, same formula
    late = mlfs.filter(pl.col("game_date").is_in(LATE_2024)).select(
        "player_id", pl.col("game_date").alias("analysis_date"), "pct_three", "pct_three_source")
    sums = last_games(raw2024["played"], late, 10).group_by("player_id", "analysis_date").agg(
        pl.col("fga").sum(), pl.col("fg3a").sum())
    got = late.join(sums, on=["player_id", "analysis_date"], how="left")
    has = got.filter(pl.col("fga") > 0)
    assert has.height > 0.95 * late.height
    assert has.get_column("pct_three").null_count() == 0
    assert has.select((pl.col("pct_three") - pl.col("fg3a") / pl.col("fga")).abs().max()).item() < 1e-12
    with_psza = got.join(psza.select("player_id", "analysis_date"), on=["player_id", "analysis_date"])
    assert set(with_psza.get_column("pct_three_source").to_list()) == {"phase4"}
    assert set(has.get_column("pct_three_source").to_list()) <= {"phase4", "phase3"}


def test_2024_zone_features_do_not_count_against_quality(t2024):
    """Without a shot chart the 3 zone features are not applicable: the required-default count is the
    count over the other required features, and rows with full histories reach gold as in 2022-23."""
    mlfs = t2024["ml_feature_store_v2"]
    others = [f for f in schemas.FEATURES if f.required and f.name not in SHOT_CHART_FEATURES]
    expected = mlfs.select(pl.sum_horizontal(
        *[pl.col(f"{f.name}_source").is_in(["default", "missing"]).cast(pl.Int64) for f in others]))
    assert mlfs.get_column("required_default_count").to_list() == expected.to_series().to_list()
    clean = mlfs.filter(pl.col("required_default_count") == 0)
    assert clean.height > 0 and (clean.get_column("feature_quality_score") > 0.69).all()
    assert "gold" in set(clean.get_column("quality_tier").to_list())


# ------------------------------------------------------------------ 2020-21: the trimmed season


def test_2020_every_asset_runs_and_every_check_passes(s2020, t2020):
    assert s2020.phase4_days == DAYS_2020
    assert_checks_pass(s2020)
    assert t2020["team_defense_zone_analysis"].height >= 10


def test_2020_possessions_pace_and_ratings_null_never_0(s2020, t2020):
    wh = s2020.warehouse
    tog = wh.read(TEAM_OFFENSE_GAME_SUMMARY)
    for c in ("offensive_rebounds", "possessions", "pace", "offensive_rating"):
        assert tog.get_column(c).null_count() == tog.height, c
    tdgs = wh.read(TEAM_DEFENSE_GAME_SUMMARY)
    for c in ("opponent_possessions", "defensive_rating", "opponent_pace"):
        assert tdgs.get_column(c).null_count() == tdgs.height, c
    tdza = t2020["team_defense_zone_analysis"]
    for c in ("defensive_rating_last_15", "opponent_pace"):
        assert tdza.get_column(c).null_count() == tdza.height, c  # NULL, not a mean of zeros
    assert tdza.get_column("opponent_points_per_game").min() > 80
    pdc = t2020["player_daily_cache"]
    for c in ("team_pace_last_10", "team_off_rating_last_10"):
        assert pdc.get_column(c).null_count() == pdc.height, c
    upcg = wh.read(UPCOMING_PLAYER_GAME_CONTEXT)
    for c in ("team_pace_last_10", "opponent_pace_last_10", "pace_differential"):
        assert upcg.get_column(c).null_count() == upcg.height, c
    # star_teammates_out needs played games only (no DNP rows): known in 2020-21 too
    stars = upcg.get_column("star_teammates_out")
    assert stars.null_count() == 0 and stars.max() > 0
    # MLFS: no 0 stands in for them; the fallback chain ends at the reference defaults, tagged so
    mlfs = t2020["ml_feature_store_v2"]
    for f, default in (("opponent_def_rating", 112.0), ("opponent_pace", 100.0), ("team_pace", 100.0)):
        assert set(mlfs.get_column(f"{f}_source").to_list()) == {"default"}, f
        assert set(mlfs.get_column(f).to_list()) == {default}, f
    assert set(mlfs.get_column("opponent_pace_mismatch_source").to_list()) == {"missing"}


def test_2020_source_flags_reach_data_quality_issues(s2020):
    pgs = s2020.warehouse.read(PLAYER_GAME_SUMMARY)
    issues = pgs.get_column("data_quality_issues")
    # every row: a source listing only players who appeared, without starters
    for flag in ("unknown:dnp_rows", "unknown:position"):
        assert issues.list.contains(flag).all(), flag
    # whole-minute MIN: rounded, or estimated (0.25) for MIN = 0
    rounded, estimated = issues.list.contains("rounded:minutes_played"), issues.list.contains("estimated:minutes_played")
    assert (rounded | estimated).all() and rounded.sum() > 0.9 * pgs.height
    assert pgs.filter(estimated).get_column("minutes_played").eq(0.25).all()
    assert issues.list.contains("inferred:game_id").any()
    # usage from rounded minutes is marked estimated wherever it is computed
    usage = pgs.filter(pl.col("usage_rate").is_not_null())
    assert usage.get_column("data_quality_issues").list.contains("estimated:usage_rate").all()
    assert pgs.get_column("is_starter").null_count() == pgs.height and not pgs.get_column("is_dnp").any()


def test_2020_psza_and_pdc_match_the_raw_trimmed_logs_and_shot_chart(t2020, raw_data_dir):
    logs = pl.read_csv(raw_data_dir / TRIMMED / "player_game_logs_2020-21.csv", infer_schema_length=0).filter(
        pl.col("SEASON_TYPE") == "Regular Season").select(
        pl.col("PLAYER_ID").cast(pl.Int64).alias("player_id"), pl.col("GAME_DATE").str.to_date().alias("game_date"),
        pl.col("PTS").cast(pl.Int64).alias("points"))
    # the source lists only players who appeared: every row is a played game (MIN 0 = under 30 seconds)
    logs = logs.with_columns(pl.format("{}_{}", "player_id", "game_date").alias("game_id"))
    shots = raw_shots(raw_data_dir, 2021).with_columns(pl.format("{}_{}", "player_id", "game_date").alias("game_id"))
    psza = t2020["player_shot_zone_analysis"]
    assert psza.get_column("has_shot_chart").all()
    keys = psza.select("player_id", "analysis_date")
    z = keys.join(zone_totals(last_games(logs, keys, 10), shots), on=["player_id", "analysis_date"],
                  how="left").fill_null(0)
    got = psza.join(z, on=["player_id", "analysis_date"])
    assert got.height == psza.height
    total = pl.col("paint_att") + pl.col("mid_range_att") + pl.col("three_pt_att")
    assert (got.get_column("total_shots_last_10") == got.select(total).to_series()).all()
    for zone in ("paint", "mid_range", "three_pt"):
        assert got.select((pl.col(f"{zone}_rate_last_10") - pl.col(f"{zone}_att") / total).abs().max()).item() < 1e-12
    # PDC points averages from the published PTS
    pdc = t2020["player_daily_cache"]
    pkeys = pdc.select("player_id", pl.col("cache_date").alias("analysis_date"))
    means = last_games(logs, pkeys, None).with_columns(
        pl.int_range(1, pl.len() + 1).over("player_id", "analysis_date").alias("recent")).group_by(
        "player_id", "analysis_date").agg(pl.col("points").filter(pl.col("recent") <= 5).mean().alias("l5"),
                                          pl.col("points").mean().alias("season"))
    got = pdc.join(means, left_on=["player_id", "cache_date"], right_on=["player_id", "analysis_date"])
    assert got.height == pdc.height
    assert got.select((pl.col("points_avg_last_5") - pl.col("l5")).abs().max()).item() < 1e-9
    assert got.select((pl.col("points_avg_season") - pl.col("season")).abs().max()).item() < 1e-9
