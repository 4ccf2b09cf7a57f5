"""What the asset's metadata **Plots** view (by partition) reads, through a real webserver's GraphQL API:
the two documents the Dagster web app sends for it (``benchmarks/ui_queries.py``, verbatim), on an
instance holding a replayed Phase 4 range.

The view asks for the definition's newest 120 partition keys, then for the latest materialisation of each,
and draws every Int/Float metadata entry, one chart per label. So a season's shape shows only if those
keys are the days the instance holds and their materialisations carry ``incomplete_rate``,
``incomplete_rate_band_upper`` and ``incomplete_rate_over_band`` as float metadata.
"""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import DagsterInstance

from benchmarks.ui_queries import ASSET_PARTITION_EVENTS_QUERY, LATEST_ASSET_PARTITIONS_QUERY
from nba_precompute.defs.phase4.tables import PSZA
from nba_precompute.partitions import LOOKAHEAD_DAYS
from nba_precompute.pipeline import materialize_range
from nba_precompute_tests.conftest import HISTORY_START
from nba_precompute_tests.ui.conftest import ARTIFACTS
from nba_precompute_tests.ui.services import DagsterServices, prepare_home

PLOTTED_START = "2022-12-10"
PLOTTED_END = "2022-12-26"  # Christmas Eve has no games: a day with nothing to measure
TODAY = PLOTTED_END  # the replay's morning: the newest partition keys end a week after it
PLOTS_LIMIT = 120  # AssetPartitionMetadataPlots' limit in the web app (AssetEventMetadataEntriesTable.tsx)


@pytest.fixture(scope="module")
def replay_ui(tmp_path_factory, raw_data_dir):
    """Phase 3 over [opening night, PLOTTED_END] and PSZA over [PLOTTED_START, PLOTTED_END] in a fresh
    instance (the project's dagster.yaml), replayed as of PLOTTED_END, and a webserver alone on it."""
    tmp = tmp_path_factory.mktemp("plots_ui")
    home = prepare_home(tmp / "dagster_home")
    db = str(tmp / "warehouse.duckdb")
    env = {"NBA_PRECOMPUTE_DUCKDB_PATH": db, "NBA_RAW_DATA_DIR": str(raw_data_dir),
           "NBA_PRECOMPUTE_WAREHOUSE": "duckdb", "NBA_PRECOMPUTE_TODAY": TODAY}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DAGSTER_HOME", str(home))
        mp.setenv("NBA_PRECOMPUTE_TODAY", TODAY)
        with DagsterInstance.from_config(str(home)) as instance:
            for start, selection in ((HISTORY_START, "group:phase3_analytics"),
                                     (PLOTTED_START, "/".join(PSZA.spec.asset_key_path))):
                result = materialize_range(start, PLOTTED_END, duckdb_path=db, raw_dir=str(raw_data_dir),
                                           selection=selection, instance=instance)
                assert result.success
        services = DagsterServices(home, env, log_dir=ARTIFACTS / "plots-logs", daemon=False)
        try:
            services.start(timeout=240)
            yield services
        finally:
            services.stop()


def _days(start: str, end: str) -> list[str]:
    a, b = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    return [(a + dt.timedelta(days=i)).isoformat() for i in range((b - a).days + 1)]


def test_plots_view_reads_the_replayed_days_with_the_incomplete_rate_and_its_band(replay_ui):
    asset = {"path": list(PSZA.spec.asset_key_path)}
    keys = replay_ui.graphql(LATEST_ASSET_PARTITIONS_QUERY, {"assetKey": asset, "limit": PLOTS_LIMIT})[
        "assetNodeOrError"]["partitionKeyConnection"]["results"]
    # newest first, ending a week after the replay's today (not at the clock's today)
    last = (dt.date.fromisoformat(TODAY) + dt.timedelta(days=LOOKAHEAD_DAYS)).isoformat()
    assert keys[0] == last and len(keys) == PLOTS_LIMIT
    assert keys == sorted(keys, reverse=True) and set(_days(PLOTTED_START, PLOTTED_END)) <= set(keys)

    events = replay_ui.graphql(ASSET_PARTITION_EVENTS_QUERY, {"assetKey": asset, "partitions": keys[::-1]})[
        "assetNodeOrError"]["latestMaterializationByPartition"]
    materialized = {e["partition"]: e for e in events if e is not None}
    assert sorted(materialized) == _days(PLOTTED_START, PLOTTED_END)
    without_games = []
    for day, event in materialized.items():
        entries = {m["label"]: m for m in event["metadataEntries"]}
        # FloatMetadataEntry is the entry type carrying floatValue: what the view plots
        rate, band = entries["incomplete_rate"]["floatValue"], entries["incomplete_rate_band_upper"]["floatValue"]
        below, total = entries["entities_below_minimum"]["intValue"], entries["entities_total"]["intValue"]
        assert rate == pytest.approx(below / total if total else 0.0), day
        assert 0.0 <= rate <= 1.0 and 0.0 < band <= 1.0, day
        if entries["no_games"]["boolValue"]:  # nothing measured: a gap in the distance to the band
            without_games.append(day)
            assert total == 0 and "incomplete_rate_over_band" not in entries, day
        else:
            assert entries["incomplete_rate_over_band"]["floatValue"] == pytest.approx(rate - band), day
    assert without_games == ["2022-12-24"]
    # the band is per season week: a December fortnight spans at least two weeks, each plotted
    assert len({entries["season_week"]["intValue"] for entries in
                ({m["label"]: m for m in e["metadataEntries"]} for e in materialized.values())}) >= 2
