"""The one ``Definitions`` object: the code location for ``dagster dev``, ``dagster asset materialize
-m nba_precompute.definitions`` and the tests."""

from __future__ import annotations

import os
import warnings

from dagster import Definitions, in_process_executor
from dagster._utils.warnings import BetaWarning, PreviewWarning

# Single-run backfill policies and partition-mapping options are marked beta/preview in Dagster 1.13;
# this project relies on them deliberately, so their warnings are not repeated on every command.
warnings.filterwarnings("ignore", category=BetaWarning)
warnings.filterwarnings("ignore", category=PreviewWarning)

# A single-run backfill of a season writes one "materialisation planned" event per asset and partition
# (11 assets x 174 days) before the run starts: ~45 s on the default SQLite instance storage. With this
# Dagster switch the process that launches the run (the `dagster asset materialize` CLI, `materialize()`)
# writes one planned event per asset instead. Trade-off (SQLite storage only): the partitions of a run
# that *fails* show as "missing" rather than "failed" in the asset's partition bar; the run page and the
# asset checks still show the failure. Set it to 0 to keep Dagster's default. See README "Performance".
os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "1")

from nba_precompute.defs.checks import ALL_CHECKS
from nba_precompute.defs.composite import COMPOSITE_ASSETS
from nba_precompute.defs.phase3 import PHASE3_ASSETS, RAW_ASSETS
from nba_precompute.defs.precompute import PRECOMPUTE_ASSETS
from nba_precompute.defs.predictions import PREDICTION_ASSETS
from nba_precompute.defs.resources import default_resources
from nba_precompute.defs.schedules import daily_refresh_job, daily_refresh_schedule

ALL_ASSETS = [*RAW_ASSETS, *PHASE3_ASSETS, *PRECOMPUTE_ASSETS, *COMPOSITE_ASSETS, *PREDICTION_ASSETS]

# DuckDB allows one writer process: every step of a run executes in the run's own process.
defs = Definitions(
    assets=ALL_ASSETS,
    asset_checks=ALL_CHECKS,
    resources=default_resources(),
    jobs=[daily_refresh_job],
    schedules=[daily_refresh_schedule],
    executor=in_process_executor,
)
