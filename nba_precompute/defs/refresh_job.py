"""The refresh as one Dagster run (issue 18): the op job ``nba_refresh`` rematerialises exactly the stale
partitions of a refresh plan (:func:`nba_precompute.refresh.plan_refresh`), each table on its own days.

Why an op job: a run of the asset job covers one partition range for every asset it selects, and a
refresh's stale set is not one range (the changed nights' box-score tables, then the later days'
pre-game tables; a second changed night in another season is another pair). A run over the union
would rewrite partitions whose inputs did not change, which the refresh must not do.

The job has one op, ``refresh_partitions``, whose run config is the plan's steps
(:func:`nba_precompute.refresh.run_config`): each step, in order, a set of tables and one contiguous
range of days. For each table of a step, in dependency order, the op:

1. runs the table's own computation, the one its asset runs (``defs/phase3.py`` ``PHASE3_COMPUTE``,
   ``defs/phase4/factory.py`` ``compute_phase4``), over the step's days: the same quarantine and
   readiness refusal (``require_ready``), the same one-transaction write of rows, failures, partition
   log and input versions (``write_range``);
2. reports one ``AssetMaterialization`` per partition, with the metadata the asset's step would attach
   to it and the data-version tags Dagster's own step would record
   (:func:`nba_precompute.dagster_storage.step_data_version_tags`): the UI shows the partitions
   materialised by this run, and Unsynced again after a later correction;
3. for a Phase 4 table, evaluates its four asset checks on those days (``defs/phase4/checks.py``
   ``evaluate_range``) and reports every ``AssetCheckEvaluation``; a blocking check that fails stops the
   run there (as it stops the downstream assets of an asset run), after every result was reported.

The op logs one progress line per table and step (``refresh i/n``). It holds the warehouse pool, like
every step that opens the warehouse.
"""

import datetime as dt
from collections.abc import Callable, Iterator

from dagster import (
    AssetKey,
    AssetMaterialization,
    Config,
    Definitions,
    OpExecutionContext,
    definitions,
    job,
    op,
)
from pydantic import Field

from nba_precompute.dagster_storage import step_data_version_tags
from nba_precompute.defs.common import WAREHOUSE_POOL, OpTableContext
from nba_precompute.defs.phase3 import PHASE3_COMPUTE
from nba_precompute.defs.phase4.checks import CHECK_NAMES, check_outcome, evaluate_range
from nba_precompute.defs.phase4.factory import compute_phase4
from nba_precompute.defs.phase4.tables import PHASE4_TABLES
from nba_precompute.defs.resources import RawDataResource, WarehouseResource
from nba_precompute.raw.versions import VERSIONED_TABLES
from nba_precompute.refresh import REFRESH_JOB, REFRESH_OP, SPECS

PHASE4_BY_TABLE = {t.spec.qualified_name: t for t in PHASE4_TABLES}


def table_computation(table_name: str) -> Callable:
    """The computation ``(context, warehouse, raw_data)`` of a table, the one its asset runs."""
    if table_name in PHASE3_COMPUTE:
        return PHASE3_COMPUTE[table_name]
    decl = PHASE4_BY_TABLE[table_name]
    return lambda context, warehouse, raw_data: compute_phase4(decl, context, warehouse, raw_data)


class RefreshStep(Config):
    """One step of a refresh: ``tables`` (qualified names, e.g. ``nba_analytics.nba_schedule``) on every
    day of [``first_day``, ``last_day``] (ISO dates)."""

    tables: list[str] = Field(description="qualified table names, e.g. nba_precompute.player_daily_cache")
    first_day: str = Field(description="first partition, YYYY-MM-DD")
    last_day: str = Field(description="last partition, YYYY-MM-DD (inclusive)")


class RefreshConfig(Config):
    """The steps of a refresh plan, in order (``nba_precompute.refresh.run_config``)."""

    steps: list[RefreshStep] = Field(description="the plan's steps, in the order they run")


def _step_days(step: RefreshStep) -> list[dt.date]:
    try:
        first, last = dt.date.fromisoformat(step.first_day), dt.date.fromisoformat(step.last_day)
    except ValueError as exc:
        raise ValueError(f"refresh step {step.first_day}..{step.last_day}: not ISO dates ({exc})") from None
    if last < first:
        raise ValueError(f"refresh step {first}..{last}: the last day is before the first")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _validated(config: RefreshConfig) -> list[tuple[list[str], list[dt.date]]]:
    """The steps as (tables in dependency order, days); refuses an unknown table before anything runs."""
    steps = []
    for step in config.steps:
        if not step.tables:
            raise ValueError(f"refresh step {step.first_day}..{step.last_day}: no tables")
        unknown = sorted(set(step.tables) - set(VERSIONED_TABLES))
        if unknown:
            raise ValueError(f"refresh step {step.first_day}..{step.last_day}: unknown table(s) {unknown}; "
                             f"known: {', '.join(VERSIONED_TABLES)}")
        steps.append((sorted(set(step.tables), key=VERSIONED_TABLES.index), _step_days(step)))
    return steps


@op(name=REFRESH_OP, pool=WAREHOUSE_POOL, out={},
    description="Rematerialise the stale partitions of a refresh plan, each table on its own days, and "
                "report each partition's materialisation and asset-check evaluations.")
def refresh_partitions(context: OpExecutionContext, config: RefreshConfig, warehouse: WarehouseResource,
                       raw_data: RawDataResource) -> Iterator:
    steps = _validated(config)
    if not steps:
        context.log.info("refresh: the run config has no steps; nothing to rewrite")
        return
    from nba_precompute.definitions import defs  # the code location's asset graph: each table's dependencies

    graph = defs().resolve_asset_graph()  # (a job executed in process has no repository on its context)
    total = sum(len(tables) * len(days) for tables, days in steps)
    done = 0
    for number, (tables, days) in enumerate(steps, 1):
        for name in tables:
            key = AssetKey(SPECS[name].asset_key_path)
            table_context = OpTableContext(context, key, days, raw_data)
            table_computation(name)(table_context, warehouse, raw_data)
            tags = step_data_version_tags(context.instance, sorted(graph.get(key).parent_keys), context.run_id)
            for partition in table_context.partition_keys:
                yield AssetMaterialization(asset_key=key, partition=partition, tags=tags,
                                           metadata=table_context.partition_metadata.get(partition, {}))
            if name in PHASE4_BY_TABLE:
                decl = PHASE4_BY_TABLE[name]
                keys = table_context.partition_keys
                evals = evaluate_range(decl, warehouse.get(), keys, context.instance, set(CHECK_NAMES))
                yield from evals
                summary, failure = check_outcome(decl, evals, len(keys))
                context.log.info(summary)
                if failure is not None:
                    raise failure
            done += len(days)
            context.log.info(f"refresh {done}/{total} partition(s): step {number}/{len(steps)} "
                             f"{name} {days[0]}..{days[-1]} rewritten")


@job(name=REFRESH_JOB, description="nba-precompute refresh: rematerialise exactly the partitions whose raw "
                                   "inputs changed (its run config: the plan's steps), as one run.")
def refresh_job() -> None:
    refresh_partitions()


@definitions
def refresh_definitions() -> Definitions:
    """The refresh job (its resources are the code location's, ``defs/resources.py``)."""
    return Definitions(jobs=[refresh_job])
