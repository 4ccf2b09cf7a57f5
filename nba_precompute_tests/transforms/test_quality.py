"""Value validation (PROCESSING_ERROR), incomplete-rate bands and per-day check numbers, on hand-built
frames with hand-computed expectations."""

import datetime as dt

import polars as pl
import pytest

from nba_precompute.defs.phase4.tables import PCF, PSZA, TDZA
from nba_precompute.schemas import (
    FAILURE_COLUMNS,
    PLAYER_SHOT_ZONE_ANALYSIS,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    empty_failures,
)
from nba_precompute.transforms.quality import (
    Band,
    above_band,
    attach_band,
    bands,
    daily_check_results,
    range_rules,
    split_invalid_rows,
    value_violations,
)

D1, D2, D3 = dt.date(2022, 12, 10), dt.date(2022, 12, 11), dt.date(2022, 12, 12)
PSZA_RULES = range_rules(PLAYER_SHOT_ZONE_ANALYSIS, PSZA.ranges)  # fractions + the declared reference ranges


def psza_rows(values: list[dict]) -> pl.DataFrame:
    """Minimal PSZA frame: the key, a name, and the columns a test sets (others absent)."""
    base = {"player_id": 1, "player_lookup": "a", "analysis_date": D1, "paint_rate_last_10": 0.5,
            "paint_attempts_per_game": 4.0, "total_shots_last_10": 100}
    return pl.DataFrame([{**base, **v} for v in values],
                        schema_overrides={"player_id": pl.Int64, "total_shots_last_10": pl.Int64})


def test_range_rules_cover_fractions_and_reference_ranges():
    rules = {r.column: (r.low, r.high) for r in PSZA_RULES}
    assert rules["paint_rate_last_10"] == (0.0, 1.0)  # fraction unit -> [0, 1]
    assert rules["completeness_pct"] == (0.0, 1.0)
    assert rules["paint_attempts_per_game"] == (0, 40)  # reference §2.8
    assert rules["total_shots_last_10"] == (0, 400)
    tdza = {r.column: (r.low, r.high) for r in range_rules(TEAM_DEFENSE_ZONE_ANALYSIS, [*TDZA.ranges, *PCF.ranges])}
    assert tdza["defensive_rating_last_15"] == (70, 140)
    assert "fatigue_score" not in tdza  # rules naming absent columns are dropped


def test_valid_rows_pass_untouched():
    rows = psza_rows([{"player_id": 1}, {"player_id": 2, "paint_rate_last_10": None}])  # NULL is not invalid
    valid, failures = split_invalid_rows(rows, PLAYER_SHOT_ZONE_ANALYSIS, "player_shot_zone_analysis", PSZA_RULES)
    assert valid.equals(rows)
    assert failures.is_empty()


def test_out_of_range_null_key_and_duplicates_become_processing_errors():
    rows = psza_rows([
        {"player_id": 1},                                              # valid
        {"player_id": 2, "player_lookup": "b", "paint_rate_last_10": 1.5},  # fraction > 1
        {"player_id": 3, "player_lookup": "c", "paint_attempts_per_game": 41.0, "total_shots_last_10": -1},
        {"player_id": 4, "player_lookup": "d"}, {"player_id": 4, "player_lookup": "d"},  # duplicate key
        {"player_id": None, "player_lookup": "e"},                     # NULL key
        {"player_id": 5, "player_lookup": "f", "paint_rate_last_10": float("nan")},
    ])
    valid, failures = split_invalid_rows(rows, PLAYER_SHOT_ZONE_ANALYSIS, "player_shot_zone_analysis", PSZA_RULES)
    assert valid.get_column("player_id").to_list() == [1]
    assert failures.columns == list(FAILURE_COLUMNS)
    f = {r["entity_id"]: r for r in failures.iter_rows(named=True)}
    assert sorted(f) == ["2", "3", "4", "5", "NULL"]  # the two copies of player 4 give one row
    assert all(r["failure_category"] == "PROCESSING_ERROR" and r["is_failure"] for r in f.values())
    assert "paint_rate_last_10 = 1.5 outside paint_rate_last_10 in [0, 1]" in f["2"]["reason"]
    assert "paint_attempts_per_game = 41.0 outside" in f["3"]["reason"]
    assert "total_shots_last_10 = -1.0 outside" in f["3"]["reason"]
    assert "duplicate key (analysis_date, player_id)" in f["4"]["reason"]
    assert "NULL key column player_id" in f["NULL"]["reason"]
    assert "not a finite number" in f["5"]["reason"]
    assert f["2"]["entity_type"] == "player" and f["2"]["entity_name"] == "b"


def test_value_violations_lists_every_broken_rule():
    rows = psza_rows([{"paint_rate_last_10": -0.1, "total_shots_last_10": 401}])
    bad = value_violations(rows, PLAYER_SHOT_ZONE_ANALYSIS, PSZA_RULES)
    assert bad.height == 1 and len(bad.item(0, "violations")) == 2


def test_null_partition_date_is_a_clear_error():
    rows = psza_rows([{"analysis_date": None}])
    with pytest.raises(ValueError, match="NULL analysis_date"):
        split_invalid_rows(rows, PLAYER_SHOT_ZONE_ANALYSIS, "p")


def test_bands_validate_and_attach():
    with pytest.raises(ValueError, match="overlap"):
        bands((1, 3, 1.0), (3, None, 0.5))
    with pytest.raises(ValueError, match="fraction"):
        Band(1, 1, 40.0)
    b = bands((1, 3, 1.0), (4, 4, 0.6), (5, 8, 0.4), (9, None, 0.25))
    weeks = pl.DataFrame({"season_week": [1, 3, 4, 6, 30, None]}, schema={"season_week": pl.Int64})
    out = attach_band(weeks, b)
    assert out.get_column("band_upper").to_list() == [1.0, 1.0, 0.6, 0.4, 0.25, None]
    assert out.item(3, "band_label") == "weeks 5-8: incomplete rate <= 40%"
    gap = attach_band(weeks, bands((1, 2, 1.0)))  # weeks after the last closed band: no band
    assert gap.get_column("band_upper").to_list() == [1.0, None, None, None, None, None]


def _failure(day, category, entity, reason="r"):
    return {"processor": "p", "analysis_date": day, "entity_type": "player", "entity_id": entity,
            "entity_name": entity, "failure_category": category,
            "is_failure": category in ("MISSING_DEPENDENCY", "PROCESSING_ERROR"), "reason": reason,
            "games_required": 10, "games_found": 3}


def test_daily_check_results_counts_rates_and_band():
    days = pl.DataFrame({"analysis_date": [D1, D2, D3], "season_week": [9, 9, 9],
                         "materialized": [True, True, True], "rows_written": [6, 2, 10]},
                        schema_overrides={"season_week": pl.Int64, "rows_written": pl.Int64})
    failures = pl.DataFrame([
        _failure(D1, "INCOMPLETE_DATA", "1"), _failure(D1, "INCOMPLETE_DATA", "2"),
        _failure(D2, "INCOMPLETE_DATA", "1"), _failure(D2, "INCOMPLETE_DATA", "2"),
        _failure(D2, "STALE_DATA", "3"),
        _failure(D3, "MISSING_DEPENDENCY", "7"), _failure(D3, "MISSING_DEPENDENCY", "DATE_LEVEL", "gap 2022-12-11"),
        _failure(D3, "PROCESSING_ERROR", "8", "x = 2 outside"),
    ], schema=empty_failures().schema)
    invalid = pl.DataFrame({"analysis_date": [D3], "entity_id": ["9"], "violations": [["y = -1 outside"]]})
    out = daily_check_results(days, failures, invalid, bands((1, 8, 1.0), (9, None, 0.25)))
    r1, r2, r3 = out.iter_rows(named=True)
    # D1: 2 incomplete of 6 + 2 = 8 -> 0.25, exactly at the edge: not above
    assert (r1["incomplete"], r1["entities_total"], r1["incomplete_rate"], r1["above_band"]) == (2, 8, 0.25, False)
    # D2: 2 of 2 + 2 + 1 stale = 5 -> 0.4 > 0.25
    assert (r2["incomplete"], r2["stale"], r2["entities_total"], r2["above_band"]) == (2, 1, 5, True)
    assert r2["incomplete_rate"] == pytest.approx(0.4)
    # D3: one entity-level MISSING_DEPENDENCY, one DATE_LEVEL, one withheld row, one invalid row in table
    assert (r3["missing_dependency_entities"], r3["missing_dependency_date_level"]) == (1, 1)
    assert r3["missing_partitions"] == ["gap 2022-12-11"] and r3["affected_entities"] == ["7"]
    assert (r3["processing_errors"], r3["invalid_written"], r3["entities_total"]) == (1, 1, 12)
    assert r3["processing_error_samples"] == ["8: x = 2 outside", "9 (in table): y = -1 outside"]
    assert r3["incomplete_rate"] == 0.0 and r3["band_upper"] == 0.25


def test_above_band_is_strictly_above_the_upper_edge():
    df = pl.DataFrame({"incomplete_rate": [0.1, 0.25, 0.26, 0.9, None],
                       "band_upper": [0.25, 0.25, 0.25, None, 0.25]})
    assert df.select(above_band()).to_series().to_list() == [False, False, True, False, False]


def test_daily_counts_float_rate_and_band_for_the_plots():
    """The per-partition materialisation metadata (factory.daily_counts): incomplete_rate and
    incomplete_rate_band_upper are floats, a day with no entities has rate 0.0 (quality.incomplete_rate),
    the band follows the day's season week; a table without bands has no band value (not recorded)."""
    from nba_precompute.defs.phase4.factory import daily_counts
    opening = dt.date(2022, 10, 18)
    sched = pl.DataFrame({"game_id": ["0022200001", "0022200002", "0022200003"],
                          "game_date": [opening, D1, D2], "season_year": [2022] * 3,
                          "home_team_abbr": ["A"] * 3, "away_team_abbr": ["B"] * 3})
    rows = pl.DataFrame({"analysis_date": [D1] * 3, "player_id": [1, 2, 3]})
    fails = pl.DataFrame([_failure(D1, "INCOMPLETE_DATA", "9")], schema=empty_failures().schema).with_columns(
        processor=pl.lit(PSZA.processor))
    out = daily_counts(PSZA, rows, fails, sched, [D1, D2]).sort("day")
    assert out.schema["incomplete_rate"] == pl.Float64 and out.schema["incomplete_rate_band_upper"] == pl.Float64
    # D1 (12-10, week 8): 1 of 3 + 1; D2 (12-11, week 8): no entities -> 0.0
    assert out.get_column("season_week").to_list() == [8, 8]
    assert out.get_column("incomplete_rate").to_list() == [0.25, 0.0]
    assert out.get_column("incomplete_rate_band_upper").to_list() == [0.40, 0.40]
    assert all(isinstance(v, float) for v in out.get_column("incomplete_rate").to_list())
    no_band = daily_counts(PCF, rows.rename({"analysis_date": PCF.spec.partition_column}), fails.head(0), sched, [D1])
    assert no_band.get_column("incomplete_rate_band_upper").to_list() == [None]
    assert no_band.get_column("incomplete_rate").to_list() == [0.0]
