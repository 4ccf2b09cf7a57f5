"""The three asset checks of every Phase 4 asset (SPEC §6), one result per daily partition.

:func:`build_phase4_checks` turns a Phase 4 asset descriptor (asset key, table, processor name,
minimum games, incomplete-rate bands) into one ``@multi_asset_check`` holding three checks:

* ``minimum_games`` - INCOMPLETE_DATA: never fails the run, never blocks; WARN only when the day's
  incomplete rate is above the expected band's upper edge for that week of the season.
* ``upstream_complete`` - MISSING_DEPENDENCY: ERROR, blocking.
* ``valid_values`` - PROCESSING_ERROR: ERROR, blocking.

The check step reads what the asset wrote (its rows, its ``precompute_failures`` rows, the partition
log) over the run's whole partition range, computes every day in one Polars pass
(:func:`nba_precompute.transforms.quality.daily_check_results`), and yields one
``AssetCheckEvaluation`` per check per day with ``partition=<day>``: Dagster stores each one against
that day's row of this run in its asset-check executions (the project's instance storage,
:mod:`nba_precompute.dagster_storage`, writes them in batches). When any day fails a blocking check,
the step fails after every day's result has been yielded, so downstream assets of the run do not
execute.

Adding the checks to another Phase 4 asset is one line in :data:`PHASE4_CHECKED`.
"""

import datetime as dt
from collections.abc import Mapping, Sequence

import polars as pl
from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetsDefinition,
    Failure,
    MetadataValue,
    Output,
    multi_asset_check,
)

from nba_precompute.dagster_storage import latest_materialization_targets
from nba_precompute.defs.common import WAREHOUSE_POOL, read_season_schedule
from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.partitions import daily_partitions
from nba_precompute.schemas import (
    ML_FEATURE_STORE_V2,
    PLAYER_COMPOSITE_FACTORS,
    PLAYER_DAILY_CACHE,
    PLAYER_SHOT_ZONE_ANALYSIS,
    PRECOMPUTE_FAILURES,
    TEAM_DEFENSE_ZONE_ANALYSIS,
    TableSpec,
)
from nba_precompute.transforms import mlfs, pcf, pdc, psza, tdza
from nba_precompute.transforms.common import dates_frame, season_calendar, with_season
from nba_precompute.transforms.quality import (
    DEFAULT_BANDS,
    Band,
    RangeRule,
    daily_check_results,
    entity_columns,
    range_rules,
    value_violations,
)

MINIMUM_GAMES = "minimum_games"
UPSTREAM_COMPLETE = "upstream_complete"
VALID_VALUES = "valid_values"
CHECK_NAMES = (MINIMUM_GAMES, UPSTREAM_COMPLETE, VALID_VALUES)
_USE_DEFAULT = object()


def _descriptions(table: TableSpec, minimum: int | None) -> dict[str, str]:
    below = (f"fewer than {minimum} played games before D" if minimum is not None else
             "no row because an upstream row is INCOMPLETE_DATA (this asset has no minimum of its own)")
    return {
        MINIMUM_GAMES: (
            f"INCOMPLETE_DATA is expected, not a failure. Counts the entities of {table.name} with {below} "
            "(the player sat, was injured or traded, or the season is young). Never fails the run and "
            "never blocks; WARN only when the day's incomplete rate is above the expected band for that "
            "week of the season. Metadata: status, counts, incomplete_rate, season_week, expected band."
        ),
        UPSTREAM_COMPLETE: (
            "MISSING_DEPENDENCY: ERROR and blocking when an upstream partition that the schedule requires "
            "for the window before D is missing or empty. Metadata names the missing partitions and the "
            "affected entities (their rows in nba_processing.precompute_failures say which)."
        ),
        VALID_VALUES: (
            "PROCESSING_ERROR: ERROR and blocking when a row had an invalid value (NULL or duplicate key, "
            "a fraction outside [0, 1], a value outside its reference §2.8/§6.4 range). Such rows are "
            "withheld from the table and recorded in nba_processing.precompute_failures; the check also "
            "re-validates the rows that are in the table."
        ),
    }


def _evaluations(asset_key: AssetKey, table: TableSpec, minimum: int | None, results: pl.DataFrame,
                 selected: set[str], targets: Mapping) -> list[AssetCheckEvaluation]:
    """One AssetCheckEvaluation per selected check and per day of ``results``."""
    out: list[AssetCheckEvaluation] = []
    for r in results.iter_rows(named=True):  # one iteration per partition: building Dagster events
        day = r["analysis_date"].isoformat()
        target = targets.get(day)
        common = {"partition": day, "season_week": r["season_week"]}
        if not r["materialized"]:
            note = f"partition {day} of {table.qualified_name} was never materialised: nothing to check"
            for name in selected:
                out.append(AssetCheckEvaluation(
                    asset_key=asset_key, check_name=name, passed=False, partition=day,
                    severity=AssetCheckSeverity.WARN if name == MINIMUM_GAMES else AssetCheckSeverity.ERROR,
                    blocking=name != MINIMUM_GAMES, description=note,
                    metadata={**common, "status": "NOT_MATERIALIZED"}, target_materialization_data=target))
            continue
        if MINIMUM_GAMES in selected:
            incomplete = r["incomplete"]
            band = r["band_label"] or "no band configured"
            above = bool(r["above_band"])
            out.append(AssetCheckEvaluation(
                asset_key=asset_key, check_name=MINIMUM_GAMES, passed=not above, partition=day,
                severity=AssetCheckSeverity.WARN, blocking=False, target_materialization_data=target,
                description=(
                    f"{incomplete} of {r['entities_total']} entities below the minimum "
                    f"({r['incomplete_rate']:.1%}), expected: {band}. INCOMPLETE_DATA is expected, not a failure."
                    + (" The rate is ABOVE the expected band: look at the upstream coverage." if above else "")),
                metadata={
                    **common,
                    "status": "INCOMPLETE_DATA" if incomplete else "COMPLETE",
                    "minimum_games": MetadataValue.int(minimum) if minimum is not None else "none",
                    "entities_total": MetadataValue.int(r["entities_total"]),
                    "entities_written": MetadataValue.int(r["rows_written"]),
                    "entities_incomplete": MetadataValue.int(incomplete),
                    "entities_stale": MetadataValue.int(r["stale"]),
                    "incomplete_rate": MetadataValue.float(float(r["incomplete_rate"])),
                    "expected_band": band,
                    "expected_band_upper": (MetadataValue.float(float(r["band_upper"]))
                                            if r["band_upper"] is not None else "none"),
                    "above_band": MetadataValue.bool(above),
                }))
        if UPSTREAM_COMPLETE in selected:
            n_ent, n_date = r["missing_dependency_entities"], r["missing_dependency_date_level"]
            failed = (n_ent + n_date) > 0
            out.append(AssetCheckEvaluation(
                asset_key=asset_key, check_name=UPSTREAM_COMPLETE, passed=not failed, partition=day,
                severity=AssetCheckSeverity.ERROR, blocking=True, target_materialization_data=target,
                description=(("MISSING_DEPENDENCY: " + " | ".join(r["missing_partitions"] or [
                    f"{n_ent} entities have scheduled games missing upstream"])) if failed
                    else "every upstream partition the window needs is present"),
                metadata={
                    **common,
                    "status": "MISSING_DEPENDENCY" if failed else "COMPLETE",
                    "missing_dependency_entities": MetadataValue.int(n_ent),
                    "date_level_failures": MetadataValue.int(n_date),
                    "missing_partitions": MetadataValue.json(r["missing_partitions"]),
                    "affected_entities_sample": MetadataValue.json(r["affected_entities"]),
                }))
        if VALID_VALUES in selected:
            n_pe, n_inv = r["processing_errors"], r["invalid_written"]
            failed = (n_pe + n_inv) > 0
            out.append(AssetCheckEvaluation(
                asset_key=asset_key, check_name=VALID_VALUES, passed=not failed, partition=day,
                severity=AssetCheckSeverity.ERROR, blocking=True, target_materialization_data=target,
                description=(f"PROCESSING_ERROR: {n_pe} row(s) withheld, {n_inv} invalid row(s) in the table"
                             if failed else "unique non-NULL keys, every value in range"),
                metadata={
                    **common,
                    "status": "PROCESSING_ERROR" if failed else "COMPLETE",
                    "processing_errors": MetadataValue.int(n_pe),
                    "invalid_rows_in_table": MetadataValue.int(n_inv),
                    "samples": MetadataValue.json(r["processing_error_samples"]),
                }))
    return out


def build_phase4_checks(asset_key: AssetKey | Sequence[str], table: TableSpec, processor: str,
                        minimum: int | None, bands: Sequence[Band] | None | object = _USE_DEFAULT,
                        extra_rules: Sequence[RangeRule] = (), name: str | None = None) -> AssetsDefinition:
    """The three SPEC §6 checks of one Phase 4 asset, as one ``@multi_asset_check``.

    Args:
        asset_key: the Phase 4 asset (e.g. ``["nba_precompute", "player_shot_zone_analysis"]``).
        table: its warehouse table (rows are read back and re-validated).
        processor: its ``processor`` value in ``nba_processing.precompute_failures``.
        minimum: the asset's minimum played games (PSZA 10, TDZA 15, PDC 3), or None when it has no
            minimum of its own (PCF, MLFS): ``minimum_games`` then reports the INCOMPLETE_DATA rows the
            asset recorded (entities whose upstream row is INCOMPLETE_DATA), COMPLETE when there are none.
        bands: incomplete-rate bands by season week; default ``DEFAULT_BANDS[table.name]`` (none for
            tables without a default: ``minimum_games`` then never WARNs).
        extra_rules: value ranges on top of ``quality.range_rules(table)``.
        name: op name (default ``<table>_checks``).

    Returns an ``AssetChecksDefinition`` whose specs are partitioned like the asset.
    """
    key = AssetKey(list(asset_key)) if not isinstance(asset_key, AssetKey) else asset_key
    band_list = DEFAULT_BANDS.get(table.name) if bands is _USE_DEFAULT else bands
    rules = range_rules(table, extra_rules)
    desc = _descriptions(table, minimum)
    specs = [
        AssetCheckSpec(MINIMUM_GAMES, asset=key, description=desc[MINIMUM_GAMES], blocking=False,
                       partitions_def=daily_partitions),
        AssetCheckSpec(UPSTREAM_COMPLETE, asset=key, description=desc[UPSTREAM_COMPLETE], blocking=True,
                       partitions_def=daily_partitions),
        AssetCheckSpec(VALID_VALUES, asset=key, description=desc[VALID_VALUES], blocking=True,
                       partitions_def=daily_partitions),
    ]
    _, _, ident, _ = entity_columns(table)

    @multi_asset_check(specs=specs, can_subset=True, name=name or f"{table.name}_checks", pool=WAREHOUSE_POOL,
                       description=f"SPEC §6 checks of {table.qualified_name}, one result per daily partition")
    def _checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        keys = list(context.op_execution_context.partition_keys)
        start, end = dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])
        wh = warehouse.get()
        schedule, _ = read_season_schedule(wh, start, end)
        days = with_season(dates_frame(start, end), season_calendar(schedule)).select(
            "analysis_date", pl.when(pl.col("season_week") >= 1).then(pl.col("season_week")).alias("season_week"))
        log = wh.partition_log(table, start, end).select(
            pl.col("partition_date").alias("analysis_date"), pl.lit(True).alias("materialized"))
        rows = wh.read(table, start, end)
        counts = rows.group_by(table.partition_column).len().select(
            pl.col(table.partition_column).alias("analysis_date"), pl.col("len").cast(pl.Int64).alias("rows_written"))
        days = days.join(log, on="analysis_date", how="left").join(counts, on="analysis_date", how="left").with_columns(
            pl.col("materialized").fill_null(False), pl.col("rows_written").fill_null(0))
        failures = wh.read(PRECOMPUTE_FAILURES, start, end).filter(pl.col("processor") == processor)
        invalid = value_violations(rows, table, rules).select(
            pl.col(table.partition_column).alias("analysis_date"), ident.alias("entity_id"), "violations")
        results = daily_check_results(days, failures, invalid, band_list)

        selected = {k.name for k in context.selected_asset_check_keys}
        evaluations = _evaluations(key, table, minimum, results, selected,
                                   latest_materialization_targets(context.instance, key, keys))
        yield from evaluations  # one per check and day, stored by Dagster against this run's partitions
        failed = [e for e in evaluations if not e.passed and e.blocking]
        warned = [e for e in evaluations if not e.passed and not e.blocking]
        context.log.info(
            f"{table.name}: {len(evaluations)} check evaluations over {len(keys)} partition(s); "
            f"{len(failed)} blocking failure(s), {len(warned)} minimum_games WARN(s) (INCOMPLETE_DATA above band)")
        if failed:
            by_check: dict[str, list[str]] = {}
            for e in failed:
                by_check.setdefault(e.check_name, []).append(str(e.partition))
            raise Failure(
                description=f"{table.name}: blocking check(s) failed with ERROR: " + "; ".join(
                    f"{c} on {len(d)} day(s): {', '.join(d[:10])}{' ...' if len(d) > 10 else ''}"
                    for c, d in by_check.items()),
                metadata={c: MetadataValue.json(d) for c, d in by_check.items()},
            )
        for spec in specs:
            if spec.name in selected:
                yield Output(None, output_name=spec.get_python_identifier())

    return _checks


# Phase 4 assets with checks: (asset key, table, processor, minimum games). One line per asset.
PHASE4_CHECKED = [
    (TEAM_DEFENSE_ZONE_ANALYSIS.asset_key_path, TEAM_DEFENSE_ZONE_ANALYSIS, tdza.PROCESSOR, tdza.MIN_GAMES),
    (PLAYER_SHOT_ZONE_ANALYSIS.asset_key_path, PLAYER_SHOT_ZONE_ANALYSIS, psza.PROCESSOR, psza.MIN_GAMES),
    (PLAYER_COMPOSITE_FACTORS.asset_key_path, PLAYER_COMPOSITE_FACTORS, pcf.PROCESSOR, None),
    (PLAYER_DAILY_CACHE.asset_key_path, PLAYER_DAILY_CACHE, pdc.PROCESSOR, pdc.MIN_GAMES),
    (ML_FEATURE_STORE_V2.asset_key_path, ML_FEATURE_STORE_V2, mlfs.PROCESSOR, None),
]

ALL_CHECKS = [build_phase4_checks(*entry) for entry in PHASE4_CHECKED]
CHECK_KEYS = [AssetCheckKey(AssetKey(list(k)), n) for k, *_ in PHASE4_CHECKED for n in CHECK_NAMES]
