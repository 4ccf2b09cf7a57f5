"""The one ``Definitions`` object: the code location for ``dagster dev``, ``dagster asset materialize
-m nba_precompute.definitions`` and the tests."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from nba_precompute.defs.checks import ALL_CHECKS
from nba_precompute.defs.phase3 import PHASE3_ASSETS, RAW_ASSETS
from nba_precompute.defs.precompute import PRECOMPUTE_ASSETS
from nba_precompute.defs.resources import default_resources

ALL_ASSETS = [*RAW_ASSETS, *PHASE3_ASSETS, *PRECOMPUTE_ASSETS]

# DuckDB allows one writer process: every step of a run executes in the run's own process.
defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    resources=default_resources(),
    executor=in_process_executor,
)
