"""The code location: every definition under ``nba_precompute/defs`` (``dg``'s defs folder), loaded when
Dagster (``dg``, ``dagster dev``, ``dagster-webserver``, the run worker) or a test asks for it.

Importing this module has no side effect; the environment (``NBA_PRECOMPUTE_WAREHOUSE``,
``NBA_RAW_DATA_DIR``, ...) is read when the definitions load.
"""

from __future__ import annotations

from pathlib import Path

from dagster import Definitions, definitions, load_from_defs_folder


@definitions
def defs() -> Definitions:
    """Raw and Phase 3 assets, the Phase 4 assets with their checks, resources, executor, schedule."""
    return load_from_defs_folder(path_within_project=Path(__file__).parent)
