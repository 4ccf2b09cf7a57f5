"""The whole code location loads, validates, and every asset shares one partitions definition."""

import datetime as dt

import polars as pl
from dagster import AssetKey, BackfillPolicy, Definitions

from nba_precompute.partitions import HISTORY_PARTITIONS, daily_partitions, game_calendar
from nba_precompute.raw.readers import read_schedule
from nba_precompute.transforms.common import season_calendar
from nba_precompute_tests.dagster_helpers import loaded_definitions

PHASE3 = ["nba_schedule", "player_game_summary", "team_defense_game_summary", "team_offense_game_summary",
          "upcoming_player_game_context", "upcoming_team_game_context"]


def test_definitions_load_and_validate():
    Definitions.validate_loadable(loaded_definitions())
    graph = loaded_definitions().resolve_asset_graph()
    for name in PHASE3:
        assert graph.has(AssetKey(["nba_analytics", name]))
    for key in (["nba_precompute", "team_defense_zone_analysis"], ["nba_precompute", "player_shot_zone_analysis"]):
        assert graph.has(AssetKey(key))


def test_every_materialisable_asset_is_daily_partitioned_with_single_run_backfills():
    graph = loaded_definitions().resolve_asset_graph()
    keys = [k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable]
    assert len(keys) >= 8
    for key in keys:
        node = graph.get(key)
        assert node.partitions_def == daily_partitions(), key
        assert node.backfill_policy == BackfillPolicy.single_run(), key


def test_lineage_raw_to_phase3_to_phase4():
    graph = loaded_definitions().resolve_asset_graph()
    psza = graph.get(AssetKey(["nba_precompute", "player_shot_zone_analysis"]))
    assert AssetKey(["nba_analytics", "player_game_summary"]) in psza.parent_keys
    pgs = graph.get(AssetKey(["nba_analytics", "player_game_summary"]))
    assert AssetKey(["raw", "nba_shots"]) in pgs.parent_keys
    tdza = graph.get(AssetKey(["nba_precompute", "team_defense_zone_analysis"]))
    assert AssetKey(["nba_analytics", "team_defense_game_summary"]) in tdza.parent_keys


def test_partitions_are_every_day_from_the_first_opening_night_and_the_calendar_says_which_may_run(raw_data_dir):
    schedule = read_schedule(raw_data_dir).filter(pl.col("game_id").str.starts_with("002"))
    hoopr = set(schedule.get_column("game_date").to_list())
    logs = pl.read_csv(raw_data_dir / "boxscores/nba-lineup-analyzer/team_game_logs_2020-21.csv")
    trimmed = {dt.date.fromisoformat(d)
               for d in logs.filter(pl.col("SEASON_TYPE") == "Regular Season").get_column("GAME_DATE").to_list()}
    definition = daily_partitions(raw_data_dir)
    # a plain daily definition: no exclusions (cheap for Dagster's UI to hash), no end date (today's
    # slate and new seasons appear without a reload)
    assert not definition.exclusions and definition.end is None
    assert definition.get_first_partition_key() == "2020-12-22"  # 2020-21 opening night, from its trimmed source
    assert "2026-02-10" in definition.get_partition_keys()
    cal = game_calendar(raw_data_dir)
    # tonight's slate: the first game date whose box scores are not in (every night before it is)
    assert (cal.tonight, cal.last_night, cal.horizon) == (dt.date(2026, 2, 10), dt.date(2026, 2, 9), dt.date(2026, 2, 10))
    assert cal.missing_games(cal.tonight) == ("0022500771", "0022500772", "0022500773", "0022500774")
    assert set(cal.game_dates) == {d for d in hoopr | trimmed if d <= dt.date(2026, 2, 10)}
    # every day of a season may run (days without games as empty partitions), 2021-22 is not in the data
    assert cal.spans() == [(dt.date(2020, 12, 22), dt.date(2021, 5, 16)), (dt.date(2022, 10, 18), dt.date(2026, 2, 10))]
    assert len(cal.partition_days) == 146 + (dt.date(2026, 2, 10) - dt.date(2022, 10, 18)).days + 1
    opening = {r["season_year"]: r["season_start_date"] for r in season_calendar(schedule).iter_rows(named=True)}
    assert opening[2022] == dt.date(2022, 10, 18) and opening[2023] == dt.date(2023, 10, 24)
    seasons = cal.seasons
    assert seasons.get_column("season_year").to_list() == [2020, 2022, 2023, 2024, 2025]
    # Dagster's declared history window (in partitions = days) covers a whole season
    assert ((seasons["season_end_date"] - seasons["season_start_date"]).dt.total_days().max()
            < HISTORY_PARTITIONS)


def test_a_date_that_may_not_run_is_explained_in_one_line(raw_data_dir):
    cal = game_calendar(raw_data_dir)
    assert cal.explain(dt.date(2023, 2, 1)) is None
    assert cal.explain(dt.date(2023, 7, 1)) is None  # off-season: an empty partition, no_games
    assert cal.explain(dt.date(2023, 2, 18)) is None  # All-Star break: likewise
    assert cal.explain(dt.date(2021, 12, 1)) == (
        "2021-12-01: no season of the raw data covers this day (2020-21 ends 2021-05-16, 2022-23 opens "
        "2022-10-18; the seasons in between are not in the raw data)")
    assert cal.explain(dt.date(2026, 2, 10)) is None
    assert cal.explain(dt.date(2026, 2, 10), box_scores=True) == (
        "the box scores of 2026-02-10 are not in the raw data yet (4 game(s): 0022500771, 0022500772, "
        "0022500773, 0022500774); a night's box-score tables are materialised when they arrive")
    assert cal.explain(dt.date(2026, 2, 11)).startswith(
        "2026-02-11 is after tonight's slate 2026-02-10: it can run once every night before it is in the raw data")
    assert cal.explain(dt.date(2020, 1, 1)) == "2020-01-01 is before the first season in the raw data (2020-21 opens 2020-12-22)"


def test_the_phase4_declarations_agree_and_every_table_asset_depends_on_its_input_version_asset():
    """A table is declared twice (its warehouse columns in schemas.py, its computation in
    defs/phase4/tables.py: README "Adding a Phase 4 table"); the two lists must name the same tables in
    the same order, and every table with input versions must depend on its kind's version asset."""
    from nba_precompute import schemas
    from nba_precompute.defs.data_versions import VERSION_KEYS
    from nba_precompute.defs.phase4.tables import PHASE4_TABLES

    assert [t.spec for t in PHASE4_TABLES] == list(schemas.PHASE4_TABLES)
    graph = loaded_definitions().resolve_asset_graph()
    for spec in (*schemas.PHASE3_TABLES, *schemas.PHASE4_TABLES):
        assert spec.reads in schemas.INPUT_WINDOWS, spec.name
        assert VERSION_KEYS[spec.reads] in graph.get(AssetKey(spec.asset_key_path)).parent_keys, spec.name
