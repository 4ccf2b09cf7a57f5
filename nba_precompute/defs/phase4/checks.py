"""The three asset checks of every Phase 4 asset (SPEC §6), one result per daily partition.

:func:`build_phase4_checks` turns a Phase 4 declaration (``defs/phase4/tables.py``: table, processor,
minimum games, incomplete-rate bands, value ranges) into one ``@multi_asset_check`` holding three checks:

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
"""

import datetime as dt
from collections.abc import Mapping

import polars as pl
from dagster import (
    AssetCheckEvaluation,
    AssetCheckExecutionContext,
    AssetChecksDefinition,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    Failure,
    MetadataValue,
    Output,
    PartitionsDefinition,
    multi_asset_check,
)

from nba_precompute.dagster_storage import latest_materialization_targets
from nba_precompute.defs.common import WAREHOUSE_POOL, read_season_schedule
from nba_precompute.defs.phase4.tables import Phase4Table
from nba_precompute.defs.resources import WarehouseResource
from nba_precompute.schemas import PRECOMPUTE_FAILURES, TableSpec
from nba_precompute.transforms.common import season_calendar, with_season
from nba_precompute.transforms.quality import (
    daily_check_results,
    entity_columns,
    range_rules,
    value_violations,
)

MINIMUM_GAMES = "minimum_games"
UPSTREAM_COMPLETE = "upstream_complete"
VALID_VALUES = "valid_values"
CHECK_NAMES = (MINIMUM_GAMES, UPSTREAM_COMPLETE, VALID_VALUES)


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


def build_phase4_checks(decl: Phase4Table, partitions_def: PartitionsDefinition) -> AssetChecksDefinition:
    """The three SPEC §6 checks of one Phase 4 table, as one ``@multi_asset_check`` named
    ``<table>_checks`` whose specs are partitioned like the asset.

    Everything comes from the declaration: the asset key and table (rows are read back and
    re-validated with the declared ranges), the processor (its ``precompute_failures`` rows), the
    minimum games (``None`` for PCF and MLFS: ``minimum_games`` then reports the INCOMPLETE_DATA rows the
    asset recorded, COMPLETE when there are none) and the incomplete-rate bands (none: never WARN).
    """
    table, processor, minimum, band_list = decl.spec, decl.processor, decl.minimum_games, decl.bands
    key = AssetKey(table.asset_key_path)
    rules = range_rules(table, decl.ranges)
    desc = _descriptions(table, minimum)
    specs = [
        AssetCheckSpec(MINIMUM_GAMES, asset=key, description=desc[MINIMUM_GAMES], blocking=False,
                       partitions_def=partitions_def),
        AssetCheckSpec(UPSTREAM_COMPLETE, asset=key, description=desc[UPSTREAM_COMPLETE], blocking=True,
                       partitions_def=partitions_def),
        AssetCheckSpec(VALID_VALUES, asset=key, description=desc[VALID_VALUES], blocking=True,
                       partitions_def=partitions_def),
    ]
    _, _, ident, _ = entity_columns(table)

    @multi_asset_check(specs=specs, can_subset=True, name=f"{table.name}_checks", pool=WAREHOUSE_POOL,
                       description=f"SPEC §6 checks of {table.qualified_name}, one result per daily partition")
    def _checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        keys = list(context.op_execution_context.partition_keys)
        start, end = dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])
        wh = warehouse.get()
        schedule, _ = read_season_schedule(wh, start, end)
        day_frame = pl.DataFrame({"analysis_date": [dt.date.fromisoformat(k) for k in keys]},
                                 schema={"analysis_date": pl.Date})
        days = with_season(day_frame, season_calendar(schedule)).select(
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
