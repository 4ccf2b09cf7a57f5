"""PCF, PDC and MLFS materialised through Dagster on a real December 2022 week: invariants and values
recomputed independently in SQL from the Phase 3 tables."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from dagster import AssetKey, BackfillPolicy

from nba_precompute import schemas
from nba_precompute.partitions import daily_partitions
from nba_precompute.schemas import (
    FRACTION,
    ML_FEATURE_STORE_V2,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute.transforms import mlfs
from nba_precompute_tests.conftest import DEC_END, DEC_START
from nba_precompute_tests.dagster_helpers import loaded_definitions

TABLES = (PLAYER_COMPOSITE_FACTORS, PLAYER_DAILY_CACHE, ML_FEATURE_STORE_V2)


def test_assets_are_declared_with_their_dependencies():
    graph = loaded_definitions().resolve_asset_graph()
    expected_deps = {
        PLAYER_COMPOSITE_FACTORS: {"player_shot_zone_analysis", "team_defense_zone_analysis",
                                   "upcoming_player_game_context", "upcoming_team_game_context"},
        PLAYER_DAILY_CACHE: {"player_game_summary", "team_offense_game_summary", "upcoming_player_game_context",
                             "player_shot_zone_analysis"},
        ML_FEATURE_STORE_V2: {"player_daily_cache", "player_composite_factors", "player_shot_zone_analysis",
                              "team_defense_zone_analysis"},
    }
    for table, deps in expected_deps.items():
        node = graph.get(AssetKey(table.asset_key_path))
        assert node.partitions_def == daily_partitions()
        assert node.backfill_policy == BackfillPolicy.single_run()
        assert deps <= {k.path[-1] for k in node.parent_keys}
    assert graph.get(AssetKey(ML_FEATURE_STORE_V2.asset_key_path)).group_name == "phase4_predictions"
    assert graph.get(AssetKey(PLAYER_DAILY_CACHE.asset_key_path)).group_name == "phase4_precompute"


@pytest.fixture(scope="module")
def built(december_warehouse):
    wh = december_warehouse.warehouse
    start, end = dt.date.fromisoformat(DEC_START), dt.date.fromisoformat(DEC_END)
    return {
        "wh": wh,
        "upcg": wh.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end),
        "pcf": wh.read(PLAYER_COMPOSITE_FACTORS, start, end),
        "pdc": wh.read(PLAYER_DAILY_CACHE, start, end),
        "mlfs": wh.read(ML_FEATURE_STORE_V2, start, end),
        "failures": wh.query("SELECT * FROM nba_processing.precompute_failures WHERE processor = "
                             "'player_daily_cache' AND analysis_date BETWEEN ? AND ?", [start, end]),
    }


def test_one_row_per_key_and_every_playing_player_accounted_for(built):
    for table in TABLES:
        df = built[{"player_composite_factors": "pcf", "player_daily_cache": "pdc",
                    "ml_feature_store_v2": "mlfs"}[table.name]]
        assert df.height > 0
        assert df.select(table.key).null_count().sum_horizontal().item() == 0
        assert not df.select(table.key).is_duplicated().any(), table.name
    upcg = built["upcg"].select("game_date", "player_id")
    assert upcg.height > 1000 and upcg["game_date"].n_unique() == 7
    key = ["game_date", "player_id"]
    for name in ("pcf", "mlfs"):
        assert built[name].select(key).sort(key).equals(upcg.sort(key)), name
    pdc = built["pdc"].select(pl.col("cache_date").alias("game_date"), "player_id")
    fails = built["failures"].select(pl.col("analysis_date").alias("game_date"),
                                     pl.col("entity_id").cast(pl.Int64).alias("player_id"))
    assert pdc.join(fails, on=key, how="inner").is_empty()  # a player is either cached or a failure
    assert pl.concat([pdc, fails]).sort(key).equals(upcg.sort(key))
    f = built["failures"]
    assert set(f["failure_category"]) <= {"INCOMPLETE_DATA", "STALE_DATA"}
    assert not f["is_failure"].any()
    assert (f.filter(pl.col("failure_category") == "INCOMPLETE_DATA")["games_found"] < 3).all()


def test_value_ranges(built):
    pcf, pdc, ml = built["pcf"], built["pdc"], built["mlfs"]
    # reference §2.8 / §6.4 on the new scales
    assert pcf["fatigue_score"].is_between(0, 100).all()
    assert pcf["fatigue_adjustment"].is_between(-5, 0).all()
    assert (pcf["fatigue_adjustment"] == (pcf["fatigue_score"] - 100) / 20).all()
    assert pcf["shot_zone_mismatch_score"].abs().max() <= 10
    assert pcf["pace_score"].abs().max() <= 3 and pcf["usage_spike_score"].abs().max() <= 3
    assert pcf["total_composite_adjustment"].abs().max() <= 30
    for c in ("referee_favorability_score", "look_ahead_pressure_score", "travel_impact_score",
              "opponent_strength_score"):
        assert (pcf[c] == 0.0).all()
    assert pcf["usage_spike_score"].std() > 0  # a real projection, not the constant-25 artefact (B4)
    assert (pdc["games_played_season"] >= 3).all() and (pdc["days_since_last_game"] <= 30).all()
    assert pdc["points_std_last_10"].is_between(0, 30).all()
    # every fraction of the three tables on 0-1 (SPEC §3); the only 0-100 value is fatigue_score
    for table, df in ((PLAYER_COMPOSITE_FACTORS, pcf), (PLAYER_DAILY_CACHE, pdc), (ML_FEATURE_STORE_V2, ml)):
        for col in table.columns:
            if col.unit in (FRACTION, "fraction 0-1", "quality 0-1") and df[col.name].drop_nulls().len():
                assert df[col.name].min() >= 0 and df[col.name].max() <= 1, (table.name, col.name)
    # MLFS reference §8.6: the critical range holds everywhere; hard bounds of the formulas
    assert ml["fatigue_score"].is_between(0, 100).all()
    bounds = {"shot_zone_mismatch_score": 10, "pace_score": 3, "usage_spike_score": 3, "rest_advantage": 2,
              "recent_trend": 2, "minutes_change": 2, "pts_vs_season_zscore": 3}
    for name, b in bounds.items():
        assert ml[name].abs().max() <= b, name
    assert ml["injury_risk"].is_between(0, 3).all() and ml["pct_free_throw"].is_between(0, 0.5).all()
    for name in ("home_away", "back_to_back", "playoff_game", "breakout_flag", "has_vegas_line"):
        assert set(ml[name].unique()) <= {0.0, 1.0}, name
    # any other out-of-range value is reported as a range warning on its row
    ranged = [f for f in schemas.FEATURES if f.valid_range]
    out_of_range = pl.any_horizontal(*[~pl.col(f.name).is_between(*f.valid_range) for f in ranged]).fill_null(False)
    flagged = ml.filter(out_of_range)
    assert flagged["data_quality_issues"].list.eval(pl.element().str.starts_with("range_warning:")).list.any().all()
    assert ml["feature_quality_score"].is_between(0, 1).all()


def test_sources_nulls_and_quality(built):
    ml = built["mlfs"]
    for f in schemas.FEATURES:
        src = ml[f"{f.name}_source"]
        assert set(src.unique()) <= set(mlfs.SOURCE_TAGS), f.name
        # a NULL value is always tagged missing and vice versa
        assert (ml[f.name].is_null() == (src == "missing")).all(), f.name
    for i in (25, 26, 27, 38, 41, 42, 47, *range(50, 57)):
        assert ml[schemas.FEATURES[i].name].null_count() == ml.height
    with_defaults = ml.filter(pl.col("required_default_count") >= 1)
    assert (with_defaults["feature_quality_score"] <= 0.69).all()
    assert (ml.filter(pl.col("required_default_count") >= 5)["feature_quality_score"] <= 0.49).all()
    # most December players have every Phase 4 input
    assert (ml["quality_tier"] == "gold").mean() > 0.8


def test_values_match_upstream_tables(built):
    wh = built["wh"]
    ml, pcf, pdc = built["mlfs"], built["pcf"], built["pdc"]
    j = ml.join(pcf, on=["game_date", "player_id"], suffix="_pcf")
    assert (j["fatigue_score"] == j["fatigue_score_pcf"].cast(pl.Float64)).all()
    # B1: PSZA rates are copied as they are (0-1), never divided by 100
    psza = wh.query("SELECT player_id, analysis_date AS game_date, paint_rate_last_10, mid_range_rate_last_10 "
                    "FROM nba_precompute.player_shot_zone_analysis")
    z = ml.join(psza, on=["game_date", "player_id"])
    assert z.height > 500
    assert (z["pct_paint"] == z["paint_rate_last_10"]).all() and (z["pct_mid_range"] == z["mid_range_rate_last_10"]).all()
    # the opponent's TDZA row, not the player's own team
    tdza = wh.query("SELECT team_abbr AS opponent_team_abbr, analysis_date AS game_date, defensive_rating_last_15 "
                    "FROM nba_precompute.team_defense_zone_analysis")
    o = ml.join(tdza, on=["opponent_team_abbr", "game_date"])
    assert (o["opponent_def_rating"] == o["defensive_rating_last_15"]).all()

    # PDC windows recomputed with DuckDB window functions over player_game_summary
    ref = wh.query("""
        WITH k AS (SELECT player_id, cache_date FROM nba_precompute.player_daily_cache),
        w AS (
            SELECT k.player_id, k.cache_date, p.points, p.minutes_played,
                   row_number() OVER (PARTITION BY k.player_id, k.cache_date ORDER BY p.game_date DESC) AS rn
            FROM k JOIN nba_analytics.player_game_summary p
              ON p.player_id = k.player_id AND p.game_date < k.cache_date AND p.minutes_played > 0
             AND p.season_year = 2022)
        SELECT player_id, cache_date,
               avg(points) FILTER (WHERE rn <= 10) AS avg10, stddev_samp(points) FILTER (WHERE rn <= 10) AS sd10,
               avg(points) FILTER (WHERE rn <= 5) AS avg5, avg(points) AS avg_season,
               avg(minutes_played) FILTER (WHERE rn <= 10) AS min10, count(*) AS n
        FROM w GROUP BY ALL""")
    c = pdc.join(ref, on=["player_id", "cache_date"])
    assert c.height == pdc.height
    for mine, theirs in (("points_avg_last_10", "avg10"), ("points_std_last_10", "sd10"),
                         ("points_avg_last_5", "avg5"), ("points_avg_season", "avg_season"),
                         ("minutes_avg_last_10", "min10")):
        assert (c[mine] - c[theirs]).abs().max() < 1e-9, mine
    assert (c["games_played_season"] == c["n"]).all()
