"""The benchmark's plain Python driver: the code location's asset and check bodies over a partition
range, in topological order, without Dagster's run machinery (no stored run, no plan, no event log).

What it does is what one Dagster run of every asset does, minus Dagster's bookkeeping: load the
definitions (``nba_precompute.definitions.defs()``: the same factories, the same partitions read from
the raw calendar), initialise the two resources once (``dagster.build_resources``: the warehouse opens
its one DuckDB session, as in a run), then call each executable asset's compute function and, after
it, the compute function of the checks on that asset, with the run's partition keys. The writes go to
the DuckDB file given; the checks read back what was written and compute every evaluation.

Why the compute functions and not ``asset(build_asset_context(...))``: Dagster 1.13's direct
invocation cannot run these bodies. ``DirectAssetExecutionContext.add_asset_metadata`` fails
(``AttributeError: ... no attribute '_step_execution_context'``; the bodies attach each partition's own
metadata with it), and ``build_asset_check_context`` takes no partition key range (the check bodies
read ``context.op_execution_context.partition_keys``). So :class:`PlainContext` offers exactly what the
bodies use of a context - ``partition_keys``, ``asset_key``, ``run`` (a :class:`dagster.DagsterRun`
built here and stored nowhere, as a ``dg launch --assets '*'`` run would be: its ``run_id`` goes to the
partition log, its ``asset_selection`` is every executable asset), ``add_asset_metadata`` (kept in
memory), ``log``, and for the checks
``op_execution_context``, ``selected_asset_check_keys`` and ``instance`` (an ephemeral instance: the
checks find no materialisation to point their evaluations at) - and the driver calls
``assets_def.op.compute_fn.decorated_fn``, the function Dagster calls inside a step.

A blocking check that fails raises (its ``dagster.Failure``), and the driver stops there, as a Dagster
run skips the assets downstream of it.
"""

from __future__ import annotations

import graphlib
import inspect
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dagster import (
    AssetCheckEvaluation,
    AssetChecksDefinition,
    AssetKey,
    AssetsDefinition,
    DagsterInstance,
    DagsterRun,
    Definitions,
    PartitionKeyRange,
    build_resources,
)

LOGGER_NAME = "nba_precompute.plain_driver"


class PlainContext:
    """What the asset and check bodies of this project use of Dagster's execution context, for a call
    outside any run (see the module docstring). ``run``: the :class:`dagster.DagsterRun` the bodies see
    (one per plain run, stored in no instance)."""

    def __init__(self, partition_keys: Sequence[str], asset_key: AssetKey, log: logging.Logger,
                 instance: DagsterInstance | None = None, check_keys: Iterable = (), run: DagsterRun | None = None,
                 resources: object = None):
        self.run = run
        self.resources = resources  # the run's resources (write_range takes raw_data from them)
        self.partition_keys = list(partition_keys)
        self.asset_key = asset_key
        self.log = log
        self.instance = instance
        self.selected_asset_check_keys = set(check_keys)
        self.metadata: dict[str | None, dict[str, object]] = {}

    @property
    def op_execution_context(self) -> PlainContext:
        return self

    def add_asset_metadata(self, metadata: Mapping[str, object], asset_key: object = None,
                           partition_key: str | None = None) -> None:
        self.metadata.setdefault(partition_key, {}).update(metadata)


@dataclass
class StepTiming:
    name: str
    kind: str  # "asset" or "checks"
    seconds: float
    evaluations: int = 0
    metadata_partitions: int = 0


@dataclass
class PlainRunResult:
    partitions: int
    definitions_s: float  # loading the definitions (factories, partitions from the raw calendar)
    bodies_s: float  # resources initialised + every compute function, in order
    steps: list[StepTiming] = field(default_factory=list)
    schema_setups: int = 0  # DuckDBWarehouse._ensure calls (DDL + column verification of one table)
    schema_setup_s: float = 0.0

    def to_json(self) -> dict[str, object]:
        return {"partitions": self.partitions, "definitions_s": self.definitions_s, "bodies_s": self.bodies_s,
                "schema_setups": self.schema_setups, "schema_setup_s": self.schema_setup_s,
                "evaluations": sum(s.evaluations for s in self.steps),
                "steps": [vars(s) for s in self.steps]}


def execution_order(defs: Definitions) -> list[AssetsDefinition | AssetChecksDefinition]:
    """Every executable asset of ``defs`` in topological order (ties by key), each followed by the
    asset-check definitions targeting it (as in a Dagster run, a check runs after its asset and before
    the assets downstream of it)."""
    assets = {a.key: a for a in defs.assets or () if isinstance(a, AssetsDefinition) and a.is_executable}
    sorter: graphlib.TopologicalSorter = graphlib.TopologicalSorter()
    for key in sorted(assets, key=lambda k: k.to_user_string()):
        deps = [d.asset_key for spec in assets[key].specs for d in spec.deps if d.asset_key in assets]
        sorter.add(key, *deps)
    checks: dict[AssetKey, list[AssetChecksDefinition]] = {}
    for c in defs.asset_checks or ():
        targets = {k.asset_key for k in c.check_keys}
        if len(targets) != 1:
            raise ValueError(f"{c.node_def.name}: checks on several assets are not supported by the plain driver")
        checks.setdefault(targets.pop(), []).append(c)
    order: list[AssetsDefinition | AssetChecksDefinition] = []
    sorter.prepare()
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=lambda k: k.to_user_string())
        for key in ready:
            order.append(assets[key])
            order.extend(checks.get(key, []))
        sorter.done(*ready)
    return order


def _call(definition: AssetsDefinition | AssetChecksDefinition, context: PlainContext,
          resources: object) -> tuple[object, int]:
    """Call the compute function with the context and the resources it names; drain a generator (a
    check step). Returns (result, number of AssetCheckEvaluation yielded)."""
    fn = definition.op.compute_fn.decorated_fn
    params = list(inspect.signature(fn).parameters)
    kwargs = {name: getattr(resources, name) for name in params[1:]}
    out = fn(context, **kwargs)
    if inspect.isgenerator(out):
        events = list(out)
        return events, sum(isinstance(e, AssetCheckEvaluation) for e in events)
    return out, 0


class _SchemaSetupCounter:
    """Counts and times ``DuckDBWarehouse._ensure`` (the per-table schema set-up: CREATE SCHEMA / TABLE
    IF NOT EXISTS and the column check) while active."""

    def __init__(self) -> None:
        self.calls = 0
        self.seconds = 0.0

    def __enter__(self) -> _SchemaSetupCounter:
        from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse

        self._cls = DuckDBWarehouse
        self._orig = DuckDBWarehouse._ensure
        counter = self

        def ensure(wh, con, table):
            t0 = time.perf_counter()
            try:
                return counter._orig(wh, con, table)
            finally:
                counter.calls += 1
                counter.seconds += time.perf_counter() - t0

        DuckDBWarehouse._ensure = ensure
        return self

    def __exit__(self, *exc: object) -> None:
        self._cls._ensure = self._orig


def run_plain(start: str, end: str, duckdb_path: str | Path, raw_dir: str | Path,
              log: logging.Logger | None = None) -> PlainRunResult:
    """Run every asset and check body of the code location over the partitions [start, end] (ISO
    dates; both partitions) into the DuckDB file ``duckdb_path``, raw files from ``raw_dir`` (which
    must also be ``NBA_RAW_DATA_DIR`` when the definitions are loaded here for the first time).

    Raises whatever a body raises (``dagster.Failure`` when a blocking check fails).
    """
    from nba_precompute.defs.resources import RawDataResource, WarehouseResource

    log = log or logging.getLogger(LOGGER_NAME)
    t0 = time.perf_counter()
    from nba_precompute.definitions import defs

    loaded = defs()
    order = execution_order(loaded)
    first = next(d for d in order if isinstance(d, AssetsDefinition))
    keys = list(first.partitions_def.get_partition_keys_in_range(PartitionKeyRange(start, end)))
    # what the bodies read of their run: its id (the partition log's run_id) and the selection (every
    # executable asset, as ``dg launch --assets '*'``)
    run = DagsterRun(job_name=LOGGER_NAME.replace(".", "_"),
                     asset_selection=frozenset(d.key for d in order if not isinstance(d, AssetChecksDefinition)))
    t1 = time.perf_counter()
    steps: list[StepTiming] = []
    instance = DagsterInstance.ephemeral()
    with _SchemaSetupCounter() as ddl, build_resources({
        "warehouse": WarehouseResource(kind="duckdb", duckdb_path=str(duckdb_path)),
        "raw_data": RawDataResource(directory=str(raw_dir)),
    }) as resources:
        for d in order:
            s0 = time.perf_counter()
            if isinstance(d, AssetChecksDefinition):
                target = next(iter(d.check_keys)).asset_key
                ctx = PlainContext(keys, target, log, instance, d.check_keys, run=run)
                _, n = _call(d, ctx, resources)
                steps.append(StepTiming(d.node_def.name, "checks", time.perf_counter() - s0, evaluations=n))
            else:
                ctx = PlainContext(keys, d.key, log, instance, run=run, resources=resources)
                _call(d, ctx, resources)
                steps.append(StepTiming(d.key.to_user_string(), "asset", time.perf_counter() - s0,
                                        metadata_partitions=len([k for k in ctx.metadata if k is not None])))
    t2 = time.perf_counter()
    return PlainRunResult(len(keys), t1 - t0, t2 - t1, steps, ddl.calls, ddl.seconds)
