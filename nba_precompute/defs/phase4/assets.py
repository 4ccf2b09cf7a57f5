"""The Phase 4 assets and their asset checks, built from the declarations in
:mod:`nba_precompute.defs.phase4.tables` (one asset and one four-check definition per table)."""

from __future__ import annotations

from dagster import AssetChecksDefinition, AssetsDefinition, Definitions, PartitionsDefinition, definitions

from nba_precompute import config
from nba_precompute.defs.phase4.checks import build_phase4_checks
from nba_precompute.defs.phase4.factory import build_phase4_asset
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, Phase4Table
from nba_precompute.partitions import daily_partitions


def build_phase4(partitions_def: PartitionsDefinition, warehouse_kind: str,
                 tables: tuple[Phase4Table, ...] = PHASE4_TABLES,
                 ) -> tuple[list[AssetsDefinition], list[AssetChecksDefinition]]:
    """The asset and the checks of every declared Phase 4 table."""
    return ([build_phase4_asset(t, partitions_def, warehouse_kind) for t in tables],
            [build_phase4_checks(t, partitions_def) for t in tables])


@definitions
def phase4_definitions() -> Definitions:
    """TDZA, PSZA, PCF, PDC (group ``phase4_precompute``) and MLFS (``phase4_predictions``), each with
    ``minimum_games``, ``incomplete_rate_within_band``, ``upstream_complete`` and ``valid_values``."""
    assets, checks = build_phase4(daily_partitions(), config.warehouse_kind())
    return Definitions(assets=assets, asset_checks=checks)
