"""Upstream integrity on hand-built frames: partitions never written or changed behind the platform's
back, team-games missing from a game-grained table, the entities they block, and the
MISSING_DEPENDENCY rows the Phase 4 assets write for them (word for word: users read these)."""

import datetime as dt

import polars as pl

from nba_precompute.schemas import PLAYER_COMPOSITE_FACTORS, empty_failures
from nba_precompute.transforms.coverage import (
    blocked_entities,
    missing_team_games,
    missing_upstream_dates,
    one_date_level_row_per_upstream,
    partition_gaps,
    summarize_days,
    upstream_gap_failures,
    withhold_blocked,
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
    def summary(days):
        return pl.DataFrame({"d": [days]}, schema={"d": pl.List(pl.Date)}).select(summarize_days(pl.col("d"))).item()

    assert summary([D[0], D[1]]) == "2 day(s): 2022-11-01, 2022-11-02"
    assert summary(D[:3]) == "3 day(s): 2022-11-01, 2022-11-02, 2022-11-03"
    many = [dt.date(2022, 10, 18) + dt.timedelta(days=i) for i in range(58)]
    assert summary(many) == "58 days, 2022-10-18 .. 2022-12-14"


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


PGS, PGS_KEY = "nba_analytics.player_game_summary", "nba_analytics/player_game_summary"
NEVER_SUMMARY = "nba_analytics.player_game_summary: {} never materialised; materialise first: dg launch --assets " \
    "'nba_analytics/player_game_summary' --partition-range {}...{}"
CHANGED = "nba_analytics.player_game_summary: {} day(s) changed since written, e.g. 2022-11-02: 0 rows, the " \
    "partition log says 12; rematerialise: dg launch --assets 'nba_analytics/player_game_summary' --partition 2022-11-02"


def _gap_days() -> pl.DataFrame:
    day = [dt.date(2022, 11, d) for d in (1, 2, 4, 6, 7, 8, 9)]
    problems = ["never materialised", "0 rows, the partition log says 12", "never materialised",
                "never materialised", "never materialised", "never materialised", "3 rows, the partition log says 2"]
    return pl.DataFrame({"partition_date": day, "problem": problems})


def test_upstream_gap_failures_one_date_level_row_per_day_in_the_window():
    dates = pl.DataFrame({"analysis_date": [dt.date(2022, 11, d) for d in (3, 4, 10)]})
    out = upstream_gap_failures(dates, _gap_days(), PGS, PGS_KEY, "before", "player_composite_factors")
    assert out.schema == empty_failures().schema
    assert set(out.select("processor", "entity_type", "entity_id", "entity_name", "failure_category", "is_failure",
                          "games_required", "games_found").rows()) == {
        ("player_composite_factors", "date", "DATE_LEVEL", f"{PGS} (partitions)", "MISSING_DEPENDENCY", True, None, None)}
    assert out.select("analysis_date", "reason").rows() == [
        (dt.date(2022, 11, 3), NEVER_SUMMARY.format("1 day(s): 2022-11-01", "2022-11-01", "2022-11-01") + "; "
         + CHANGED.format(1)),
        # the 11-04 gap is D itself: not history for "before"
        (dt.date(2022, 11, 4), NEVER_SUMMARY.format("1 day(s): 2022-11-01", "2022-11-01", "2022-11-01") + "; "
         + CHANGED.format(1)),
        (dt.date(2022, 11, 10), NEVER_SUMMARY.format("5 days, 2022-11-01 .. 2022-11-08", "2022-11-01", "2022-11-08")
         + "; " + CHANGED.format(2)),
    ]
    through = upstream_gap_failures(dates, _gap_days(), PGS, PGS_KEY, "through", "p")
    assert through.item(1, "reason").startswith(NEVER_SUMMARY.format("2 day(s): 2022-11-01, 2022-11-04",
                                                                     "2022-11-01", "2022-11-04") + "; ")
    same_day = upstream_gap_failures(dates, _gap_days(), PGS, PGS_KEY, "same_day", "p")
    assert same_day.select("analysis_date", "reason").rows() == [
        (dt.date(2022, 11, 4), NEVER_SUMMARY.format("1 day(s): 2022-11-04", "2022-11-04", "2022-11-04"))]
    changed_only = upstream_gap_failures(dates.head(1), _gap_days().filter(pl.col("problem") != "never materialised"),
                                         PGS, PGS_KEY, "before", "p")
    assert changed_only.get_column("reason").to_list() == [CHANGED.format(1)]
    assert upstream_gap_failures(dates.head(1), _gap_days().tail(1), PGS, PGS_KEY, "through", "p").is_empty()


def test_withhold_blocked_names_what_each_withheld_row_misses():
    schedule = pl.DataFrame({"game_id": ["0022200001", "0022200002", "0022200004"],
                             "game_date": [dt.date(2022, 11, 1), dt.date(2022, 11, 2), dt.date(2022, 11, 10)],
                             "season_year": [2022] * 3, "home_team_abbr": ["AAA", "CCC", "AAA"],
                             "away_team_abbr": ["BBB", "DDD", "DDD"]})
    rows = pl.DataFrame({"game_date": [dt.date(2022, 11, d) for d in (2, 3, 3, 3, 4)], "player_id": [1, 2, 3, 4, 5],
                         "player_lookup": ["a", "b", None, "d", "e"], "team_abbr": ["DDD", "DDD", "DDD", "AAA", "EEE"]})
    pgs_gaps = pl.DataFrame({"season_year": [2022, 2022], "team_abbr": ["DDD", "DDD"],
                             "game_date": [dt.date(2022, 11, 2), dt.date(2022, 11, 1)],
                             "game_id": ["0022200002", "0022200009"], "table": [PGS] * 2})
    tog_gaps = pgs_gaps.head(1).with_columns(pl.lit("nba_analytics.team_offense_game_summary").alias("table"))
    kept, failures = withhold_blocked(rows, PLAYER_COMPOSITE_FACTORS, "player_composite_factors", None, schedule,
                                      {dt.date(2022, 11, 4)}, [("before", pgs_gaps), ("through", tog_gaps)])
    assert kept.equals(rows.filter(pl.col("player_id") == 4))
    assert failures.schema == empty_failures().schema
    assert set(failures.get_column("failure_category")) == {"MISSING_DEPENDENCY"} and failures["is_failure"].all()
    pgs = f"game(s) of DDD missing from {PGS} before D"
    tog = "1 game(s) of DDD missing from nba_analytics.team_offense_game_summary before D (e.g. 0022200002 on 2022-11-02)"
    assert failures.select("analysis_date", "entity_type", "entity_id", "entity_name", "reason").rows() == [
        (dt.date(2022, 11, 2), "player", "1", "a", f"row withheld: 1 {pgs} (e.g. 0022200009 on 2022-11-01); {tog}"),
        (dt.date(2022, 11, 3), "player", "2", "b", f"row withheld: {tog}; 2 {pgs} (e.g. 0022200002 on 2022-11-02)"),
        # no player_lookup: the failure row is named by the id
        (dt.date(2022, 11, 3), "player", "3", "3", f"row withheld: {tog}; 2 {pgs} (e.g. 0022200002 on 2022-11-02)"),
        (dt.date(2022, 11, 4), "player", "5", "e", "row withheld: a same-day upstream partition is missing or was changed"),
    ]
    # nothing missing: the rows pass untouched
    assert withhold_blocked(rows, PLAYER_COMPOSITE_FACTORS, "p", None, schedule, set(), [])[0] is rows


def test_one_date_level_row_per_missing_upstream_partition():
    """The transform's "scheduled games" DATE_LEVEL row of a (D, upstream) is dropped when the partition
    log's row names the same upstream on D; other days, other upstreams and entity rows stay."""
    sched = pl.DataFrame({"game_id": ["0022200001", "0022200002"], "game_date": [D[0], D[1]],
                          "season_year": [2022, 2022], "home_team_abbr": ["A", "C"], "away_team_abbr": ["B", "D"]})
    dates = pl.DataFrame({"analysis_date": [D[2], D[3]], "season_year": [2022, 2022]})
    # no rows of 11-02 upstream: the transform names it for D = 11-03 and D = 11-04
    in_data = missing_upstream_dates(sched, pl.Series([D[0]]), dates, "player_shot_zone_analysis", PGS)
    other = missing_upstream_dates(sched, pl.Series([D[0]]), dates, "player_shot_zone_analysis", "nba_analytics.x")
    entity = in_data.filter(pl.col("analysis_date") == D[2]).with_columns(pl.lit("player").alias("entity_type"), pl.lit("7").alias("entity_id"))
    assert sorted(in_data.get_column("analysis_date").to_list()) == [D[2], D[3]]
    # the partition log names PGS on 11-03 only
    in_log = upstream_gap_failures(pl.DataFrame({"analysis_date": [D[2]]}),
                                   pl.DataFrame({"partition_date": [D[1]], "problem": ["never materialised"]}),
                                   PGS, PGS_KEY, "before", "player_shot_zone_analysis")
    kept = one_date_level_row_per_upstream(pl.concat([in_data, other, entity]), in_log)
    assert sorted(kept.select("analysis_date", "entity_id", "entity_name").rows()) == [
        (D[2], "7", f"{PGS} (scheduled games)"),
        (D[2], "DATE_LEVEL", "nba_analytics.x (scheduled games)"),
        (D[3], "DATE_LEVEL", f"{PGS} (scheduled games)"),
        (D[3], "DATE_LEVEL", "nba_analytics.x (scheduled games)")]
    assert one_date_level_row_per_upstream(in_data, empty_failures()).equals(in_data)
