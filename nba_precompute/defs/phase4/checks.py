"""The four asset checks of every Phase 4 asset (SPEC §6), one result per daily partition, declared as data.

Each check is one :class:`CheckDecl` in :data:`CHECKS`: its name, severity, whether it blocks, how its
description is written from the table's declaration, and how one day's numbers (a row of
:func:`nba_precompute.transforms.quality.daily_check_results`) become a verdict. A new check is one more
entry in that tuple; :func:`build_phase4_checks` turns the tuple into the ``@multi_asset_check``'s specs
and the per-day evaluation loop.

* ``minimum_games`` - INCOMPLETE_DATA, informational: **passes on every day**. It reports how many
  entities are below the asset's minimum games (the player sat, was injured or traded, the season is
  young): expected, not a failure.
* ``incomplete_rate_within_band`` - WARN, non-blocking: fails (WARN) only on a day whose incomplete rate
  is above the expected band's upper edge for that week of the season (more entities than usual lack the
  minimum: worth a look, not a pipeline failure).
* ``upstream_complete`` - MISSING_DEPENDENCY: ERROR, blocking.
* ``valid_values`` - PROCESSING_ERROR: ERROR, blocking.

On the dashboard "Failed" therefore always means something unexpected: a WARN is a day above its band,
an ERROR a true failure.

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
from nba_precompute.schemas import PRECOMPUTE_FAILURES
from nba_precompute.transforms.common import season_calendar, with_season
from nba_precompute.transforms.quality import (
    daily_check_results,
    entity_columns,
    range_rules,
    value_violations,
)

MINIMUM_GAMES = "minimum_games"
INCOMPLETE_RATE_WITHIN_BAND = "incomplete_rate_within_band"
UPSTREAM_COMPLETE = "upstream_complete"
VALID_VALUES = "valid_values"

NOT_MATERIALIZED = "NOT_MATERIALIZED"


@dataclass(frozen=True)
class Verdict:
    """One check's result for one day: passed or not, the one-line description, the metadata."""

    passed: bool
    description: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class CheckDecl:
    """One asset check of every Phase 4 asset.

    ``describe(table)`` is the check's description (shown on the check's page); ``evaluate(day, table)``
    turns one row of :func:`~nba_precompute.transforms.quality.daily_check_results` (a materialised
    day) into a :class:`Verdict`. A day the asset never materialised fails the blocking checks (there is
    nothing they can vouch for) and passes the non-blocking ones (they measure incompleteness, and there
    is nothing to measure); every check reports ``status = NOT_MATERIALIZED`` then.
    """

    name: str
    severity: AssetCheckSeverity
    blocking: bool
    describe: Callable[[Phase4Table], str]
    evaluate: Callable[[Mapping[str, Any], Phase4Table], Verdict]

    def spec(self, key: AssetKey, table: Phase4Table, partitions_def: PartitionsDefinition) -> AssetCheckSpec:
        return AssetCheckSpec(self.name, asset=key, description=self.describe(table), blocking=self.blocking,
                              partitions_def=partitions_def)


# --------------------------------------------------------------------------- the four checks

def _below(table: Phase4Table) -> str:
    return (f"fewer than {table.minimum_games} played games before D" if table.minimum_games is not None else
            "no row because an upstream row is INCOMPLETE_DATA (this asset has no minimum of its own)")


def _band_metadata(day: Mapping[str, Any]) -> dict[str, Any]:
    """The expected band of the day's season week (label and upper edge, 0-1), "none" without one."""
    return {
        "expected_band": day["band_label"] or "no band configured",
        "expected_band_upper": (MetadataValue.float(float(day["band_upper"]))
                                if day["band_upper"] is not None else "none"),
    }


def _rate_metadata(day: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "entities_total": MetadataValue.int(day["entities_total"]),
        "entities_incomplete": MetadataValue.int(day["incomplete"]),
        "incomplete_rate": MetadataValue.float(float(day["incomplete_rate"])),
        **_band_metadata(day),
    }


def _describe_minimum_games(table: Phase4Table) -> str:
    return (
        f"INCOMPLETE_DATA is expected, not a failure. Counts the entities of {table.spec.name} with "
        f"{_below(table)} (the player sat, was injured or traded, or the season is young). Informational: "
        "passes on every day, never warns, never blocks. Metadata: status (INCOMPLETE_DATA / COMPLETE), "
        "entities total/incomplete, incomplete_rate (0-1), season_week, the expected band for that week. "
        f"Whether the rate is unusual for the week is the separate check {INCOMPLETE_RATE_WITHIN_BAND}."
    )


def _evaluate_minimum_games(day: Mapping[str, Any], table: Phase4Table) -> Verdict:
    incomplete = day["incomplete"]
    minimum = table.minimum_games
    return Verdict(
        passed=True,
        description=(f"{incomplete} of {day['entities_total']} entities below the minimum "
                     f"({day['incomplete_rate']:.1%}). INCOMPLETE_DATA is expected, not a failure."),
        metadata={
            "status": "INCOMPLETE_DATA" if incomplete else "COMPLETE",
            "minimum_games": MetadataValue.int(minimum) if minimum is not None else "none",
            **_rate_metadata(day),
            "entities_written": MetadataValue.int(day["rows_written"]),
            "entities_stale": MetadataValue.int(day["stale"]),
        },
    )


def _describe_within_band(table: Phase4Table) -> str:
    bands = "; ".join(b.label() for b in table.bands) or "none configured: always passes"
    return (
        "WARN, never blocks. Fails (WARN) only on a day whose incomplete rate (entities below the minimum / "
        f"entities, the {MINIMUM_GAMES} numbers) is above the expected band's upper edge for that week of "
        "the season. Above band means more entities than usual lack the minimum for that week: worth a "
        "look (upstream coverage, a roster change), not a pipeline failure; the rows written are fine. "
        f"Bands of {table.spec.name}: {bands}. Metadata: incomplete_rate, expected_band_upper, "
        "season_week, entities total/incomplete, above_band."
    )


def _evaluate_within_band(day: Mapping[str, Any], table: Phase4Table) -> Verdict:
    above = bool(day["above_band"])
    rate = f"incomplete rate {day['incomplete_rate']:.1%} ({day['incomplete']} of {day['entities_total']})"
    if day["band_upper"] is None:
        text = f"{rate}; no band configured for week {day['season_week']}: nothing to compare"
    elif above:
        text = (f"{rate} is ABOVE the week {day['season_week']} band ({day['band_label']}): more entities "
                "than usual lack the minimum; worth a look at upstream coverage, not a pipeline failure")
    else:
        text = f"{rate} within the week {day['season_week']} band ({day['band_label']})"
    return Verdict(passed=not above, description=text, metadata={
        "status": "ABOVE_BAND" if above else "WITHIN_BAND",
        **_rate_metadata(day),
        "above_band": MetadataValue.bool(above),
    })


def _describe_upstream_complete(table: Phase4Table) -> str:
    return ("MISSING_DEPENDENCY: ERROR and blocking when an upstream partition that the schedule requires "
            "for the window before D is missing or empty. Metadata names the missing partitions and the "
            "affected entities (their rows in nba_processing.precompute_failures say which).")


def _evaluate_upstream_complete(day: Mapping[str, Any], table: Phase4Table) -> Verdict:
    n_ent, n_date = day["missing_dependency_entities"], day["missing_dependency_date_level"]
    failed = (n_ent + n_date) > 0
    return Verdict(
        passed=not failed,
        description=(("MISSING_DEPENDENCY: " + " | ".join(day["missing_partitions"] or [
            f"{n_ent} entities have scheduled games missing upstream"])) if failed
            else "every upstream partition the window needs is present"),
        metadata={
            "status": "MISSING_DEPENDENCY" if failed else "COMPLETE",
            "missing_dependency_entities": MetadataValue.int(n_ent),
            "date_level_failures": MetadataValue.int(n_date),
            "missing_partitions": MetadataValue.json(day["missing_partitions"]),
            "affected_entities_sample": MetadataValue.json(day["affected_entities"]),
        })


def _describe_valid_values(table: Phase4Table) -> str:
    return ("PROCESSING_ERROR: ERROR and blocking when a row had an invalid value (NULL or duplicate key, "
            "a fraction outside [0, 1], a value outside its reference §2.8/§6.4 range). Such rows are "
            "withheld from the table and recorded in nba_processing.precompute_failures; the check also "
            "re-validates the rows that are in the table.")


def _evaluate_valid_values(day: Mapping[str, Any], table: Phase4Table) -> Verdict:
    n_pe, n_inv = day["processing_errors"], day["invalid_written"]
    failed = (n_pe + n_inv) > 0
    return Verdict(
        passed=not failed,
        description=(f"PROCESSING_ERROR: {n_pe} row(s) withheld, {n_inv} invalid row(s) in the table"
                     if failed else "unique non-NULL keys, every value in range"),
        metadata={
            "status": "PROCESSING_ERROR" if failed else "COMPLETE",
            "processing_errors": MetadataValue.int(n_pe),
            "invalid_rows_in_table": MetadataValue.int(n_inv),
            "samples": MetadataValue.json(day["processing_error_samples"]),
        })


CHECKS: tuple[CheckDecl, ...] = (
    CheckDecl(MINIMUM_GAMES, AssetCheckSeverity.WARN, False, _describe_minimum_games, _evaluate_minimum_games),
    CheckDecl(INCOMPLETE_RATE_WITHIN_BAND, AssetCheckSeverity.WARN, False, _describe_within_band,
              _evaluate_within_band),
    CheckDecl(UPSTREAM_COMPLETE, AssetCheckSeverity.ERROR, True, _describe_upstream_complete,
              _evaluate_upstream_complete),
    CheckDecl(VALID_VALUES, AssetCheckSeverity.ERROR, True, _describe_valid_values, _evaluate_valid_values),
)
CHECK_NAMES = tuple(c.name for c in CHECKS)
CHECKS_BY_NAME = {c.name: c for c in CHECKS}


# --------------------------------------------------------------------------- evaluation and definition


def evaluations(asset_key: AssetKey, table: Phase4Table, results: pl.DataFrame, selected: set[str],
                targets: Mapping, checks: tuple[CheckDecl, ...] = CHECKS) -> list[AssetCheckEvaluation]:
    """One AssetCheckEvaluation per selected check (in declaration order) and per day of ``results``
    (:func:`~nba_precompute.transforms.quality.daily_check_results`); ``targets``: partition ->
    the materialisation each result is about (``latest_materialization_targets``)."""
    chosen = [c for c in checks if c.name in selected]
    out: list[AssetCheckEvaluation] = []
    for r in results.iter_rows(named=True):  # one iteration per partition: building Dagster events
        day = r["analysis_date"].isoformat()
        common = {"partition": day, "season_week": r["season_week"]}
        for c in chosen:
            if r["materialized"]:
                v = c.evaluate(r, table)
            else:
                v = Verdict(not c.blocking,
                            f"partition {day} of {table.spec.qualified_name} was never materialised: nothing to check",
                            {"status": NOT_MATERIALIZED})
            out.append(AssetCheckEvaluation(
                asset_key=asset_key, check_name=c.name, passed=v.passed, partition=day, severity=c.severity,
                blocking=c.blocking, description=v.description, metadata={**common, **v.metadata},
                target_materialization_data=targets.get(day)))
    return out


def evaluate_range(decl: Phase4Table, wh, keys: Sequence[str], instance,
                   selected: set[str], checks: tuple[CheckDecl, ...] = CHECKS) -> list[AssetCheckEvaluation]:
    """Every selected check of ``decl`` on every partition of ``keys`` (a contiguous range of day keys):
    reads what the asset wrote over the range (its rows, its ``precompute_failures`` rows, the partition
    log) from ``wh``, computes every day in one Polars pass and returns one ``AssetCheckEvaluation`` per
    check per day, each pointing at the partition's latest materialisation in ``instance``."""
    table, processor = decl.spec, decl.processor
    key = AssetKey(table.asset_key_path)
    _, _, ident, _ = entity_columns(table)
    start, end = dt.date.fromisoformat(keys[0]), dt.date.fromisoformat(keys[-1])
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
    invalid = value_violations(rows, table, range_rules(table, decl.ranges)).select(
        pl.col(table.partition_column).alias("analysis_date"), ident.alias("entity_id"), "violations")
    results = daily_check_results(days, failures, invalid, decl.bands)
    return evaluations(key, decl, results, selected, latest_materialization_targets(instance, key, list(keys)),
                       checks)


def check_outcome(decl: Phase4Table, evals: Sequence[AssetCheckEvaluation],
                  partitions: int) -> tuple[str, Failure | None]:
    """The one-line summary of a range's evaluations, and the ``Failure`` to raise when a blocking check
    failed on some day (``None`` otherwise): which checks, on which days."""
    name = decl.spec.name
    failed = [e for e in evals if not e.passed and e.blocking]
    warned: dict[str, int] = {}
    for e in evals:
        if not e.passed and not e.blocking:
            warned[e.check_name] = warned.get(e.check_name, 0) + 1
    summary = (f"{name}: {len(evals)} check evaluations over {partitions} partition(s); "
               f"{len(failed)} blocking failure(s); non-blocking WARN(s): "
               + (", ".join(f"{n} on {k} day(s)" for n, k in warned.items()) or "none"))
    if not failed:
        return summary, None
    by_check: dict[str, list[str]] = {}
    for e in failed:
        by_check.setdefault(e.check_name, []).append(str(e.partition))
    return summary, Failure(
        description=f"{name}: blocking check(s) failed with ERROR: " + "; ".join(
            f"{c} on {len(d)} day(s): {', '.join(d[:10])}{' ...' if len(d) > 10 else ''}"
            for c, d in by_check.items()),
        metadata={c: MetadataValue.json(d) for c, d in by_check.items()},
    )


def build_phase4_checks(decl: Phase4Table, partitions_def: PartitionsDefinition,
                        checks: tuple[CheckDecl, ...] = CHECKS) -> AssetChecksDefinition:
    """The SPEC §6 checks (``checks``, default :data:`CHECKS`) of one Phase 4 table, as one
    ``@multi_asset_check`` named ``<table>_checks`` whose specs are partitioned like the asset.

    Everything comes from the declaration: the asset key and table (rows are read back and
    re-validated with the declared ranges), the processor (its ``precompute_failures`` rows), the
    minimum games (``None`` for PCF and MLFS: ``minimum_games`` then reports the INCOMPLETE_DATA rows the
    asset recorded, COMPLETE when there are none) and the incomplete-rate bands (none:
    ``incomplete_rate_within_band`` always passes). The evaluation is :func:`evaluate_range`.
    """
    table = decl.spec
    key = AssetKey(table.asset_key_path)
    specs = [c.spec(key, decl, partitions_def) for c in checks]

    @multi_asset_check(specs=specs, can_subset=True, name=f"{table.name}_checks", pool=WAREHOUSE_POOL,
                       description=f"SPEC §6 checks of {table.qualified_name}, one result per daily partition")
    def _checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource):
        keys = list(context.op_execution_context.partition_keys)
        selected = {k.name for k in context.selected_asset_check_keys}
        evals = evaluate_range(decl, warehouse.get(), keys, context.instance, selected, checks)
        yield from evals  # one per check and day, stored by Dagster against this run's partitions
        summary, failure = check_outcome(decl, evals, len(keys))
        context.log.info(summary)
        if failure is not None:
            raise failure
        for spec in specs:
            if spec.name in selected:
                yield Output(None, output_name=spec.get_python_identifier())

    return _checks
