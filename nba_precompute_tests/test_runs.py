"""``runs.same_day_upstream`` (which partitions of the same day a partition reads from the warehouse: a
quarantined row blocking one blocks the others) agrees with the code location's asset graph."""

from __future__ import annotations

from dagster import AssetKey, IdentityPartitionMapping, TimeWindowPartitionMapping

from nba_precompute.definitions import defs
from nba_precompute.refresh import SPECS
from nba_precompute.runs import same_day_upstream


def test_same_day_upstream_is_every_dependency_that_reads_day_d_itself(raw_data_dir, monkeypatch):
    monkeypatch.setenv("NBA_RAW_DATA_DIR", str(raw_data_dir))
    graph = defs().resolve_asset_graph()
    name_of = {AssetKey(spec.asset_key_path): name for name, spec in SPECS.items()}
    expected: dict[str, list[str]] = {}
    for key, name in name_of.items():
        for parent in graph.get(key).parent_keys:
            if parent not in name_of:  # raw files and version assets
                continue
            mapping = graph.get_partition_mapping(key, parent)
            reads_d = (isinstance(mapping, IdentityPartitionMapping)
                       or (isinstance(mapping, TimeWindowPartitionMapping) and mapping.end_offset == 0))
            if reads_d:
                expected.setdefault(name, []).append(name_of[parent])
    got = {t: sorted(ups) for t, ups in same_day_upstream().items() if ups}
    assert got == {t: sorted(ups) for t, ups in expected.items()}
    assert "nba_analytics.nba_schedule" in got["nba_analytics.upcoming_team_game_context"]
