"""The project's event-log storage (``nba_precompute.dagster_storage``): the same event log as Dagster's
default SQLite storage, written in batches, and safe with several processes on the same files."""

import ast
import datetime
import logging
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetMaterialization,
    BackfillPolicy,
    DagsterEventType,
    DagsterInstance,
    DagsterInvariantViolationError,
    DailyPartitionsDefinition,
    Failure,
    MaterializeResult,
    Output,
    asset,
    materialize,
    multi_asset_check,
)
from dagster._core.definitions.asset_checks.asset_check_evaluation import AssetCheckEvaluationPlanned
from dagster._core.events import DagsterEvent, DagsterEventBatchMetadata, StepMaterializationData
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._serdes import deserialize_value

from nba_precompute.dagster_storage import (
    INDEX_SHARD_NAME,
    RUN_SHARD_ENGINES,
    TESTED_DAGSTER_VERSION,
    BatchingSqliteEventLogStorage,
    add_partition_metadata,
    latest_materialization_targets,
)
from nba_precompute.defs.phase4.checks import CHECK_NAMES
from nba_precompute.defs.phase4.tables import PHASE4_TABLES
from nba_precompute.partitions import daily_partitions
from nba_precompute.pipeline import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG, materialize_range
from nba_precompute_tests.conftest import PHASE4_SELECTION, REPO_ROOT
from nba_precompute_tests.dagster_helpers import copy_warehouse
from nba_precompute_tests.event_log_snapshot import (
    BATCH_SIZE_ENV,
    diff,
    make_instance,
    project_env_batch_size,
    snapshot,
)

# --------------------------------------------------------------------------------------------------
# a small daily-partitioned graph with per-partition checks (no warehouse: fast)

DAYS = DailyPartitionsDefinition(start_date="2023-01-01", end_date="2023-01-11")
UP, DOWN = AssetKey(["syn", "up"]), AssetKey(["syn", "down"])
FAIL_TAG = "test/failing_partition"
FAIL_UP_TAG = "test/fail_up"

CHECK_KEYS = [AssetCheckKey(AssetKey(t.spec.asset_key_path), n) for t in PHASE4_TABLES for n in CHECK_NAMES]


@asset(key=UP, partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def up(context: AssetExecutionContext) -> MaterializeResult:
    if context.run.tags.get(FAIL_UP_TAG):
        raise Failure("up failed")
    return MaterializeResult(metadata={"partitions": len(context.partition_keys)})


@asset(key=DOWN, deps=[UP], partitions_def=DAYS, backfill_policy=BackfillPolicy.single_run())
def down(context: AssetExecutionContext) -> MaterializeResult:
    return MaterializeResult(metadata={"partitions": len(context.partition_keys)})


@multi_asset_check(specs=[AssetCheckSpec("blocking", asset=UP, partitions_def=DAYS, blocking=True),
                          AssetCheckSpec("warning", asset=UP, partitions_def=DAYS, blocking=False)],
                   can_subset=True)
def up_checks(context):
    """Like the Phase 4 checks: one evaluation per check and partition of the run; the blocking one
    fails on the partition named by the run tag FAIL_TAG (then Dagster fails the step)."""
    keys = list(context.op_execution_context.partition_keys)
    bad = context.run.tags.get(FAIL_TAG)
    targets = latest_materialization_targets(context.instance, UP, keys)
    for k in keys:
        yield AssetCheckEvaluation(asset_key=UP, check_name="blocking", passed=k != bad, partition=k,
                                   severity=AssetCheckSeverity.ERROR, blocking=True,
                                   target_materialization_data=targets.get(k), metadata={"day": k})
        yield AssetCheckEvaluation(asset_key=UP, check_name="warning", passed=k != keys[0], partition=k,
                                   severity=AssetCheckSeverity.WARN, blocking=False,
                                   target_materialization_data=targets.get(k), metadata={"day": k})
    yield Output(None, output_name="syn__up_blocking")
    yield Output(None, output_name="syn__up_warning")


SYN_CHECKS = [AssetCheckKey(UP, "blocking"), AssetCheckKey(UP, "warning")]


def _run_synthetic(instance: DagsterInstance) -> list[bool]:
    """Four runs: the whole range; a sub-range whose blocking check fails on one day (the step fails,
    ``down`` is skipped); one partition; a sub-range where ``up`` itself fails (its checks never run:
    their rows stay planned)."""
    ok = []
    for start, end, fail in (("2023-01-01", "2023-01-10", None), ("2023-01-03", "2023-01-06", "2023-01-04"),
                             ("2023-01-08", "2023-01-08", None), ("2023-01-09", "2023-01-10", "up")):
        tags = {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}
        if fail == "up":
            tags[FAIL_UP_TAG] = "1"
        elif fail:
            tags[FAIL_TAG] = fail
        ok.append(materialize([up, down, up_checks], instance=instance, tags=tags, raise_on_error=False).success)
    return ok


@pytest.mark.parametrize(("subset_planned", "dagster_batching"), [("0", True), ("1", True), ("1", False)],
                         ids=["planned-event-per-partition", "planned-partition-subset", "without-dagster-batching"])
def test_same_event_log_as_dagsters_storage(tmp_path, monkeypatch, subset_planned, dagster_batching):
    """The same four runs (one failing a blocking check, one failing an asset) leave the same event log
    through the project's storage as through Dagster's default storage one event at a time: same events
    per run in the same order, same index shard, asset records, tags, partition status, per-partition
    check executions - with and without Dagster's one-planned-event-per-asset switch, and with and
    without Dagster's batching (DAGSTER_EVENT_BATCH_SIZE)."""
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", subset_planned)
    snaps = {}
    for kind in ("default", "project"):
        with make_instance(tmp_path / kind, kind, monkeypatch) as instance:
            if not dagster_batching:
                monkeypatch.setenv(BATCH_SIZE_ENV, "0")
            assert isinstance(instance.event_log_storage, BatchingSqliteEventLogStorage) == (kind == "project")
            assert _run_synthetic(instance) == [True, False, True, False]
            snaps[kind] = snapshot(instance, [UP, DOWN], SYN_CHECKS, DAYS)
    a, b = snaps["default"], snaps["project"]
    assert a == b, diff(a, b)
    # and the snapshot holds what the runs did (it is not comparing two empty logs)
    assert b["runs"] == ["SUCCESS", "FAILURE", "SUCCESS", "FAILURE"]
    assert b["materialized partitions syn/up"] == [f"2023-01-{d:02d}" for d in range(1, 11)]
    history = b[f"check history {SYN_CHECKS[0].to_user_string()}"]
    assert ("2023-01-04", "FAILED", 1, "ASSET_CHECK_EVALUATION", (False, ["day"])) in history
    assert len([h for h in history if h[1] == "SUCCEEDED"]) == 10 + 3 + 1
    # the checks of the run whose asset failed never ran: their rows stay as planned
    assert {(h[0], h[1], h[3]) for h in history if h[2] == 3} == {
        (d, "PLANNED", "ASSET_CHECK_EVALUATION_PLANNED") for d in ("2023-01-09", "2023-01-10")}
    assert b["partition status syn/up"]["materialized"] == b["materialized partitions syn/up"]
    types = {e[0] for e in b["index events"]}
    assert {"ASSET_MATERIALIZATION", "ASSET_MATERIALIZATION_PLANNED", "ASSET_CHECK_EVALUATION",
            "ASSET_CHECK_EVALUATION_PLANNED"} <= types
    # a planned check row holds its event without the partitions subset (the event_logs row keeps it)
    planned = {kind: _read(tmp_path / kind / "history" / "runs" / "index.db",
                           "SELECT evaluation_event FROM asset_check_executions WHERE execution_status = 'PLANNED'")
               for kind in snaps}
    assert len(planned["project"]) == len(planned["default"]) == 4
    subsets = {kind: {deserialize_value(ev, EventLogEntry).get_dagster_event().event_specific_data.partitions_subset
                      is None for (ev,) in rows} for kind, rows in planned.items()}
    assert subsets == {"default": {False}, "project": {True}}
    assert max(len(ev) for (ev,) in planned["project"]) < min(len(ev) for (ev,) in planned["default"])


@pytest.mark.real_data
def test_phase4_run_leaves_the_same_event_log(december_warehouse, raw_data_dir, tmp_path, monkeypatch):
    """The real Phase 4 assets and their 15 checks over three days, twice (a re-run of the range), through
    both storages: the same event log, 15 check records per day per run."""
    snaps = {}
    for kind in ("default", "project"):
        (tmp_path / kind).mkdir()
        db = copy_warehouse(december_warehouse.path, tmp_path / kind)
        with make_instance(tmp_path / kind / "home", kind, monkeypatch) as instance:
            for _ in range(2):
                run = materialize_range("2022-12-14", "2022-12-16", duckdb_path=db, raw_dir=str(raw_data_dir),
                                        selection=PHASE4_SELECTION, instance=instance)
                assert run.success
            keys = [AssetKey(t.spec.asset_key_path) for t in PHASE4_TABLES]
            snaps[kind] = snapshot(instance, keys, CHECK_KEYS, daily_partitions())
    a, b = snaps["default"], snaps["project"]
    assert a == b, diff(a, b)
    assert len(b["check partition info"]) == len(CHECK_KEYS) * 3
    for key in CHECK_KEYS:
        assert len(b[f"check history {key.to_user_string()}"]) == 3 * 2


def test_project_instance_uses_the_storage_and_keeps_the_instance_settings(tmp_path, monkeypatch):
    with make_instance(tmp_path / "home", "project", monkeypatch) as instance:
        storage = instance.event_log_storage
        assert type(storage) is BatchingSqliteEventLogStorage
        # Dagster's default location of the event log of a DAGSTER_HOME, so history carries over
        assert Path(storage._base_dir) == tmp_path / "home" / "history" / "runs"
        assert instance.run_coordinator.get_run_queue_config().max_concurrent_runs == 10
        assert int(project_env_batch_size()) > 0


def test_the_repository_env_file_is_what_dagster_commands_load():
    """``dagster asset materialize`` / ``dagster dev`` load ``.env`` from the working directory (the
    repository root): it must set the batch size the storage relies on."""
    from dagster._cli.utils import _inject_local_env_file

    cwd = os.getcwd()
    try:
        os.chdir(REPO_ROOT)
        with _inject_local_env_file(logging.getLogger("test")):
            assert int(os.environ[BATCH_SIZE_ENV]) >= 174  # a season of one asset in one batch
    finally:
        os.chdir(cwd)


def test_the_storage_is_tested_on_the_installed_dagster():
    """The storage reproduces private Dagster behaviour: a Dagster upgrade must re-verify this module
    (the equivalence tests here) and then move TESTED_DAGSTER_VERSION (and the README)."""
    import dagster

    assert dagster.__version__ == TESTED_DAGSTER_VERSION


def test_config_takes_exactly_one_directory(tmp_path):
    with pytest.raises(ValueError, match="exactly one"):
        BatchingSqliteEventLogStorage.from_config_value(None, {"pool_connections": True})
    with pytest.raises(ValueError, match="exactly one"):
        BatchingSqliteEventLogStorage.from_config_value(
            None, {"base_dir": str(tmp_path / "a"), "dagster_home": str(tmp_path)})
    storage = BatchingSqliteEventLogStorage.from_config_value(
        None, {"base_dir": str(tmp_path / "a"), "check_evaluation_batch_size": 0,
               "partition_subset_in_planned_events": True})
    assert storage.supports_partition_subset_in_asset_materialization_planned_events is True
    storage.dispose()


# --------------------------------------------------------------------------------------------------
# storage-level tests: several processes on the same files, deferral, failures

KEY, SHARED = AssetKey(["st", "own"]), AssetKey(["st", "shared"])
PARTS = [f"2023-01-{d:02d}" for d in range(1, 11)]


def _entry(run_id: str, kind: str, asset_key: AssetKey = KEY, partition: str | None = None,
           passed: bool = True) -> EventLogEntry:
    """An event as a step of ``run_id`` logs it: a materialisation, a check evaluation, the check's
    planned event over PARTS, or (``"message"``) a plain log line."""
    if kind == "message":
        event = None
    elif kind == "materialization":
        event = DagsterEvent(DagsterEventType.ASSET_MATERIALIZATION.value, job_name="j", step_key="s",
                             event_specific_data=StepMaterializationData(
                                 AssetMaterialization(asset_key=asset_key, partition=partition)))
    elif kind == "check":
        event = DagsterEvent(DagsterEventType.ASSET_CHECK_EVALUATION.value, job_name="j", step_key="c",
                             event_specific_data=AssetCheckEvaluation(
                                 asset_key=asset_key, check_name="c", passed=passed, partition=partition))
    elif kind == "check planned":
        event = DagsterEvent(DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED.value, job_name="j", step_key="c",
                             event_specific_data=AssetCheckEvaluationPlanned(
                                 asset_key=asset_key, check_name="c",
                                 partitions_subset=DAYS.subset_with_partition_keys(PARTS).to_serializable_subset()))
    else:
        raise ValueError(kind)
    return EventLogEntry(error_info=None, level=logging.DEBUG, user_message=kind, run_id=run_id,
                         timestamp=time.time(), step_key=event.step_key if event else None, job_name="j",
                         dagster_event=event)


def _writer(base_dir: str, run_id: str, rounds: int, start, errors) -> None:
    """One run worker's writes: the check's planned rows, then per round a batch of materialisations
    (own asset and one shared with the other writer), the check evaluations of each partition (deferred)
    and a log line (which flushes them)."""
    try:
        storage = BatchingSqliteEventLogStorage(base_dir)
        start.wait(30)
        storage.store_event_batch([_entry(run_id, "check planned")])
        for r in range(rounds):
            storage.store_event_batch([_entry(run_id, "materialization", k, p) for k in (KEY, SHARED)
                                       for p in PARTS])
            for p in PARTS:
                storage.store_event(_entry(run_id, "check", partition=p, passed=r % 2 == 0))
            storage.store_event(_entry(run_id, "message"))
        storage.dispose()
    except BaseException as exc:  # reported to the test
        errors.put(f"{run_id}: {exc!r}")
        raise


def _read(path: Path, sql: str) -> list:
    with sqlite3.connect(path, timeout=30) as con:
        return con.execute(sql).fetchall()


def test_two_processes_write_the_same_files_at_once(tmp_path):
    """Two run workers write the same index shard concurrently (pooled connections, batches, deferred
    check evaluations) while a third reader polls through Dagster's own storage: nothing fails, nothing
    is lost or doubled, the SQLite files are intact."""
    base = str(tmp_path / "runs")
    reader = SqliteEventLogStorage(base)
    ctx = multiprocessing.get_context("spawn")
    start, errors = ctx.Event(), ctx.Queue()
    rounds = 15
    procs = [ctx.Process(target=_writer, args=(base, run_id, rounds, start, errors)) for run_id in ("r1", "r2")]
    for p in procs:
        p.start()
    start.set()
    reads = 0
    while any(p.is_alive() for p in procs):
        reader.get_materialized_partitions(SHARED)
        reader.get_asset_check_execution_history(AssetCheckKey(KEY, "c"), limit=10)
        reads += 1
    for p in procs:
        p.join(60)
    assert errors.empty(), errors.get()
    assert [p.exitcode for p in procs] == [0, 0]
    assert reads > 0
    index = tmp_path / "runs" / "index.db"
    assert _read(index, "PRAGMA integrity_check") == [("ok",)]
    per_run = rounds * (2 * len(PARTS) + len(PARTS) + 1) + 1
    for run_id in ("r1", "r2"):
        shard = tmp_path / "runs" / f"{run_id}.db"
        assert _read(shard, "PRAGMA integrity_check") == [("ok",)]
        assert _read(shard, "SELECT count(*) FROM event_logs") == [(per_run,)]
        # every partition's check row of this run, completed by the last round's evaluation
        rows = _read(index, f"SELECT partition, execution_status FROM asset_check_executions WHERE run_id = '{run_id}'")
        assert sorted(rows) == [(p, "SUCCEEDED" if (rounds - 1) % 2 == 0 else "FAILED") for p in PARTS]
    counts = dict(_read(index, "SELECT dagster_event_type, count(*) FROM event_logs GROUP BY 1"))
    assert counts == {"ASSET_MATERIALIZATION": 2 * rounds * 2 * len(PARTS),
                      "ASSET_CHECK_EVALUATION": 2 * rounds * len(PARTS), "ASSET_CHECK_EVALUATION_PLANNED": 2}
    assert sorted(reader.get_materialized_partitions(SHARED)) == PARTS
    record = reader.get_asset_records([SHARED])[0].asset_entry.last_materialization_record
    assert record.event_log_entry.dagster_event.partition == PARTS[-1]
    reader.dispose()


def _hold_write_lock(index_path: str, seconds: float, locked) -> None:
    con = sqlite3.connect(index_path, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    con.execute("CREATE TABLE test_lock (value TEXT)")
    con.execute("INSERT INTO test_lock VALUES ('held')")
    locked.set()
    time.sleep(seconds)
    con.execute("COMMIT")
    con.close()


def test_waits_for_another_processs_write_lock(tmp_path):
    """While another process holds the index shard's write lock, a batch waits for it (Dagster's busy
    timeout, 30 s, on every pooled connection) instead of failing with 'database is locked'."""
    base = tmp_path / "runs"
    storage = BatchingSqliteEventLogStorage(str(base))
    with storage.index_connection() as conn:
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    ctx = multiprocessing.get_context("spawn")
    locked = ctx.Event()
    holder = ctx.Process(target=_hold_write_lock, args=(str(base / "index.db"), 1.5, locked))
    holder.start()
    assert locked.wait(30)
    storage.store_event_batch([_entry("r1", "materialization", partition=p) for p in PARTS])
    holder.join(30)
    assert holder.exitcode == 0
    # the batch committed after the other process's transaction
    assert _read(base / "index.db", "SELECT value FROM test_lock") == [("held",)]
    assert sorted(storage.get_materialized_partitions(KEY)) == PARTS
    storage.dispose()


def _materialize_one(base_dir: str, run_id: str, partition: str) -> None:
    storage = BatchingSqliteEventLogStorage(base_dir)
    storage.store_event(_entry(run_id, "materialization", partition=partition))
    storage.dispose()


def test_a_pooled_connection_sees_what_other_processes_commit(tmp_path):
    """A connection kept open between uses holds no snapshot: after another process's commit, the next
    read of this storage sees it."""
    base = str(tmp_path / "runs")
    storage = BatchingSqliteEventLogStorage(base)
    storage.store_event(_entry("r1", "materialization", partition=PARTS[0]))
    assert sorted(storage.get_materialized_partitions(KEY)) == PARTS[:1]
    ctx = multiprocessing.get_context("spawn")
    other = ctx.Process(target=_materialize_one, args=(base, "r2", PARTS[1]))
    other.start()
    other.join(60)
    assert other.exitcode == 0
    assert sorted(storage.get_materialized_partitions(KEY)) == PARTS[:2]
    assert storage.get_asset_records([KEY])[0].asset_entry.last_run_id == "r2"
    storage.dispose()


def _write_slowly(base_dir: str, run_id: str, n: int, received) -> None:
    storage = BatchingSqliteEventLogStorage(base_dir)
    for i in range(n):
        storage.store_event(_entry(run_id, "materialization", partition=PARTS[i]))
        time.sleep(0.05)
    received.wait(20)  # keep the pooled connection open until the watcher has seen every event
    storage.dispose()


def test_the_webservers_watch_of_a_running_run_sees_each_event(tmp_path):
    """The webserver follows a running run by watching ``<run_id>.db`` (SqliteEventLogStorageWatchdog):
    events a run worker stores through a connection it keeps open must still reach the watcher while
    the worker runs (the storage checkpoints the run shard after each write)."""
    base = str(tmp_path / "runs")
    webserver = BatchingSqliteEventLogStorage(base)
    ctx = multiprocessing.get_context("spawn")
    received = ctx.Event()
    seen: list[str] = []
    webserver.watch("r1", None, lambda entry, cursor: seen.append(entry.dagster_event.partition))
    worker = ctx.Process(target=_write_slowly, args=(base, "r1", 5, received))
    worker.start()
    deadline = time.monotonic() + 20
    while len(seen) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = list(seen)
    received.set()
    worker.join(30)
    webserver.dispose()
    assert got == PARTS[:5]
    assert worker.exitcode == 0


def test_a_deleted_run_shard_is_written_again_not_lost(tmp_path):
    """Another process deleting a run's shard file (``wipe``, run deletion) while this process keeps a
    connection to it: the next event goes to a new file that every reader sees, not to the deleted
    inode."""
    base = str(tmp_path / "runs")
    storage = BatchingSqliteEventLogStorage(base)
    storage.store_event(_entry("r1", "message"))
    SqliteEventLogStorage(base).wipe()  # another process's Dagster storage: deletes r1.db
    storage.store_event(_entry("r1", "materialization", partition=PARTS[0]))
    fresh = SqliteEventLogStorage(base)
    logs = fresh.get_logs_for_run("r1")
    assert [e.user_message for e in logs] == ["materialization"]
    storage.dispose()


def _store_in_forked_child(storage: BatchingSqliteEventLogStorage, parent_engine_id: int, results) -> None:
    storage.store_event(_entry("child", "materialization", partition=PARTS[1]))
    results.put(id(storage._engines[INDEX_SHARD_NAME].engine) != parent_engine_id)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_opens_its_own_connections(tmp_path):
    base = str(tmp_path / "runs")
    storage = BatchingSqliteEventLogStorage(base)
    storage.store_event(_entry("parent", "materialization", partition=PARTS[0]))
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    child = ctx.Process(target=_store_in_forked_child,
                        args=(storage, id(storage._engines[INDEX_SHARD_NAME].engine), results))
    child.start()
    child.join(60)
    assert child.exitcode == 0 and results.get(timeout=5) is True
    storage.store_event(_entry("parent", "materialization", partition=PARTS[2]))
    assert sorted(SqliteEventLogStorage(base).get_materialized_partitions(KEY)) == PARTS[:3]
    assert _read(tmp_path / "runs" / "index.db", "PRAGMA integrity_check") == [("ok",)]
    storage.dispose()


def test_deferred_check_evaluations_are_written_before_anything_else(tmp_path):
    """Check evaluations wait in memory only until this storage's next operation: a read from this
    process sees them, the next event is stored after them, ``dispose`` writes the rest."""
    base = str(tmp_path / "runs")
    storage = BatchingSqliteEventLogStorage(base)
    other = SqliteEventLogStorage(base)  # another process's view of the files
    storage.store_event(_entry("r1", "check planned"))
    storage.store_event(_entry("r1", "check", partition=PARTS[0]))
    storage.store_event(_entry("r1", "check", partition=PARTS[1], passed=False))
    assert other.get_logs_for_run("r1", of_type=DagsterEventType.ASSET_CHECK_EVALUATION) == []  # deferred
    history = storage.get_asset_check_execution_history(AssetCheckKey(KEY, "c"), limit=100)  # flushes first
    assert sorted((r.partition, r.status.value) for r in history if r.status.value != "PLANNED") == [
        (PARTS[0], "SUCCEEDED"), (PARTS[1], "FAILED")]
    storage.store_event(_entry("r1", "check", partition=PARTS[2]))
    storage.store_event(_entry("r1", "message"))
    assert [e.user_message for e in other.get_logs_for_run("r1")] == [
        "check planned", "check", "check", "check", "message"]
    storage.store_event(_entry("r1", "check", partition=PARTS[3]))
    storage.dispose()
    assert len(other.get_logs_for_run("r1", of_type=DagsterEventType.ASSET_CHECK_EVALUATION)) == 4
    unbuffered = BatchingSqliteEventLogStorage(base, check_evaluation_batch_size=0)
    unbuffered.store_event(_entry("r2", "check", partition=PARTS[0]))
    assert len(other.get_logs_for_run("r2")) == 1
    unbuffered.dispose()


def test_deferred_check_evaluations_are_written_at_exit(tmp_path):
    """A process that stores a check evaluation and exits without disposing of its storage."""
    base = str(tmp_path / "runs")
    code = ("import sys; from nba_precompute.dagster_storage import BatchingSqliteEventLogStorage as S; "
            "from nba_precompute_tests.test_dagster_storage import _entry, PARTS; "
            "S(sys.argv[1]).store_event(_entry('r1', 'check', partition=PARTS[0]))")
    subprocess.run([sys.executable, "-c", code, base], check=True, cwd=REPO_ROOT, timeout=120)
    assert [e.dagster_event_type for e in SqliteEventLogStorage(base).get_logs_for_run("r1")] == [
        DagsterEventType.ASSET_CHECK_EVALUATION]


def test_dagsters_fallback_after_a_failed_batch_stores_each_event_once(tmp_path, monkeypatch):
    """When the index half of a batch fails after its run-shard half committed, Dagster retries the batch
    one event at a time (DagsterInstance.handle_new_event): the run shard must not get the events twice."""
    with make_instance(tmp_path / "home", "project", monkeypatch) as instance:
        storage = instance.event_log_storage
        real = BatchingSqliteEventLogStorage._write_index
        calls = []

        def failing_once(self, events):
            calls.append(len(events))
            if len(calls) == 1:
                raise RuntimeError("index shard unavailable")
            return real(self, events)

        monkeypatch.setattr(BatchingSqliteEventLogStorage, "_write_index", failing_once)
        batch = [_entry("r1", "materialization", partition=p) for p in PARTS[:5]]
        for i, entry in enumerate(batch):
            instance.handle_new_event(entry, batch_metadata=DagsterEventBatchMetadata("b1", i == len(batch) - 1))
        assert calls == [5, 1, 1, 1, 1, 1]  # the batch, then Dagster's one-by-one retry
        assert [e.dagster_event.partition for e in storage.get_logs_for_run("r1")] == PARTS[:5]
        assert sorted(storage.get_materialized_partitions(KEY)) == PARTS[:5]
        with storage.index_connection() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM event_logs").scalar() == 5


def test_pooled_engines_are_bounded(tmp_path):
    storage = BatchingSqliteEventLogStorage(str(tmp_path / "runs"))
    for n in range(12):
        storage.store_event(_entry(f"r{n}", "message"))
    assert INDEX_SHARD_NAME in storage._engines and len(storage._engines) <= RUN_SHARD_ENGINES + 1
    assert len(storage.get_logs_for_run("r0")) == 1
    storage.dispose()
    assert storage._engines == {}


def test_private_dagster_apis_only_in_one_module():
    """Dagster's private modules (``dagster._*``) are imported by nba_precompute/dagster_storage.py only,
    and the project no longer writes Dagster's tables from asset code."""
    package = REPO_ROOT / "nba_precompute"
    assert not (package / "defs" / "check_events.py").exists()
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "dagster_storage.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([node.module or ""] if isinstance(node, ast.ImportFrom)
                     else [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(REPO_ROOT)}: {n}" for n in names
                          if n.startswith("dagster._")]
        text = path.read_text()
        offenders += [f"{path.relative_to(REPO_ROOT)}: {t}" for t in ("AssetCheckExecutionsTable", "SqlEventLogStorageTable")
                      if t in text]
    assert offenders == []


# --------------------------------------------------------------------------------------------------
# asset-check partition statuses (the UI's Checks tab): the same states as Dagster's own computation


def _dagsters_check_states(storage, keys):
    """Dagster 1.13.27's ``EventLogStorage.get_asset_check_state`` (what the project's storage overrides)."""
    from dagster._core.storage.event_log.base import EventLogStorage

    return EventLogStorage.get_asset_check_state(storage, keys)


def _statuses(state) -> dict[str, list[str]]:
    return {status.value: sorted(s.value.get_partition_keys()) for status, s in state.subsets.items()}


@pytest.mark.parametrize("definition", ["asset's", "narrower", "without end"])
def test_check_partition_statuses_equal_dagsters(tmp_path, monkeypatch, definition):
    """After runs that leave every kind of partition status (passed, failed, evaluated against an older
    materialisation, planned in a failed run), the storage's asset-check states equal Dagster's own
    record-by-record computation: with the asset's definition, a narrower one (records outside it are
    skipped) and one without an end date (end_offset, like the project's definition in production)."""
    from dagster._core.storage.asset_check_state import AssetCheckState

    from nba_precompute.dagster_storage import _state_with_partition_records

    partitions_def = {"asset's": DAYS,
                      "narrower": DailyPartitionsDefinition(start_date="2023-01-03", end_date="2023-01-09"),
                      "without end": DailyPartitionsDefinition(start_date="2022-12-30", end_offset=8)}[definition]
    with make_instance(tmp_path, "project", monkeypatch) as instance:
        storage = instance.event_log_storage
        keys = [(k, partitions_def) for k in SYN_CHECKS]
        assert _run_synthetic(instance) == [True, False, True, False]
        before = storage.get_asset_check_state(keys)
        assert before == _dagsters_check_states(storage, keys)
        # 2023-01-02 materialised again without its checks: their results are about an older materialisation
        assert materialize([up], instance=instance, partition_key="2023-01-02").success
        ours, dagsters = storage.get_asset_check_state(keys), _dagsters_check_states(storage, keys)
        assert ours == dagsters
        # the records are taken in at once (not Dagster's loop), and that alone gives Dagster's state,
        # from nothing and as an update of the earlier state (where 2023-01-02 leaves its status)
        infos = storage.get_asset_check_partition_info(SYN_CHECKS)
        later = storage.get_asset_check_partition_info(
            SYN_CHECKS, after_storage_id=min(s.latest_storage_id for s in before.values()))
        for key in SYN_CHECKS:
            for state, records in ((AssetCheckState.empty(), [i for i in infos if i.check_key == key]),
                                   (before[key], [i for i in later if i.check_key == key])):
                at_once = _state_with_partition_records(state, key, partitions_def, records)
                assert at_once is not None
                assert at_once == state.with_updates(key, partitions_def, records, {})
            assert "2023-01-02" in _statuses(before[key])["SUCCEEDED"] or definition == "narrower"
            assert "2023-01-02" not in str(_statuses(at_once))

    blocking, warning = (_statuses(ours[k]) for k in SYN_CHECKS)
    in_def = set(partitions_def.get_partition_keys())

    def days(*d: int) -> list[str]:
        return [k for k in (f"2023-01-{x:02d}" for x in d) if k in in_def]

    assert blocking == {"IN_PROGRESS": [], "SUCCEEDED": days(1, 3, 5, 6, 7, 8), "FAILED": days(4),
                        "EXECUTION_FAILED": days(9, 10), "SKIPPED": []}
    # "warning" fails on the first day of each run whose checks ran: 01, 03, 08; 02 is in no status
    # (its results are about the materialisation before the last one)
    assert warning["FAILED"] == days(1, 3, 8)
    assert warning["SUCCEEDED"] == days(4, 5, 6, 7)


def test_the_latest_check_rows_are_found_in_the_storages_index(tmp_path, monkeypatch):
    """Dagster's query for each partition's latest check row reads only the index the storage adds
    (a covering index, no table row), on a new instance and on one created without the index."""
    import dagster._core.storage.event_log.sql_event_log as sql_event_log

    from nba_precompute.dagster_storage import LATEST_CHECK_INDEX

    def indexes(path: Path) -> set[str]:
        return {n for (n,) in _read(path, "SELECT name FROM sqlite_master WHERE type = 'index'")}

    queries = []
    fetch = sql_event_log.db_fetch_mappings

    def spy(conn, query):
        queries.append(str(query.compile(compile_kwargs={"literal_binds": True})))
        return fetch(conn, query)

    monkeypatch.setattr(sql_event_log, "db_fetch_mappings", spy)
    with make_instance(tmp_path, "project", monkeypatch) as instance:
        assert _run_synthetic(instance) == [True, False, True, False]
        instance.event_log_storage.get_asset_check_partition_info([SYN_CHECKS[0]])
    index_db = tmp_path / "history" / "runs" / f"{INDEX_SHARD_NAME}.db"
    assert LATEST_CHECK_INDEX in indexes(index_db)
    latest_rows = [q for q in queries if "latest_check_ids_subquery" in q]
    assert len(latest_rows) == 1
    plan = " | ".join(str(r[-1]) for r in _read(index_db, "EXPLAIN QUERY PLAN " + latest_rows[0]))
    assert f"SEARCH asset_check_executions USING COVERING INDEX {LATEST_CHECK_INDEX}" in plan, plan

    # an existing instance without it gets it when the storage opens it
    with sqlite3.connect(index_db) as conn:
        conn.execute(f"DROP INDEX {LATEST_CHECK_INDEX}")
    assert LATEST_CHECK_INDEX not in indexes(index_db)
    plan = " | ".join(str(r[-1]) for r in _read(index_db, "EXPLAIN QUERY PLAN " + latest_rows[0]))
    assert "COVERING INDEX" not in plan.split("MATERIALIZE latest_event_ids")[0], plan  # it reads the table
    BatchingSqliteEventLogStorage(str(tmp_path / "history" / "runs")).dispose()
    assert LATEST_CHECK_INDEX in indexes(index_db)


def test_check_partition_statuses_fall_back_to_dagsters_loop(monkeypatch):
    """Where taking the records in at once could differ from Dagster's loop (a definition with
    exclusions, two records of one partition, a key the definition accepts but does not list),
    the storage leaves them to Dagster's loop."""
    from dagster._core.storage.asset_check_execution_record import (
        AssetCheckExecutionRecordStatus,
        AssetCheckPartitionInfo,
    )
    from dagster._core.storage.asset_check_state import AssetCheckState

    from nba_precompute.dagster_storage import _state_with_partition_records

    key = SYN_CHECKS[0]

    def info(partition: str, storage_id: int) -> AssetCheckPartitionInfo:
        return AssetCheckPartitionInfo(
            check_key=key, partition_key=partition, latest_execution_status=AssetCheckExecutionRecordStatus.SUCCEEDED,
            latest_planned_run_id="r", latest_check_event_storage_id=storage_id,
            latest_materialization_storage_id=storage_id - 1, latest_target_materialization_storage_id=storage_id - 1)

    empty = AssetCheckState.empty()
    ok = [info("2023-01-02", 10), info("2023-01-03", 11)]
    assert _state_with_partition_records(empty, key, DAYS, ok) is not None
    assert _state_with_partition_records(empty, key, WEEKDAYS, ok) is None
    assert _state_with_partition_records(empty, key, DAYS, [*ok, info("2023-01-02", 12)]) is None
    # a key that is no partition of the definition is skipped, as Dagster's loop skips it
    skipped = _state_with_partition_records(empty, key, DAYS, [*ok, info("2024-01-01", 13)])
    assert skipped == empty.with_updates(key, DAYS, [*ok, info("2024-01-01", 13)], {})
    assert _statuses(skipped)["SUCCEEDED"] == ["2023-01-02", "2023-01-03"]
    # unless the definition accepts a key it does not list (not seen with Dagster 1.13.27's daily or
    # weekly definitions; simulated here): then Dagster's loop decides
    monkeypatch.setattr(type(DAYS), "has_partition_key", lambda self, partition_key: True)
    assert _state_with_partition_records(empty, key, DAYS, [*ok, info("2023-1-4", 12)]) is None


# --------------------------------------------------------------------------------------------------
# per-partition metadata: the fast path records what Dagster's add_asset_metadata records

WEEKDAYS = DailyPartitionsDefinition(start_date="2023-01-02", end_date="2023-01-21",
                                     exclusions=[datetime.datetime(2023, 1, d) for d in (7, 8, 14, 15)])
META_KEY = AssetKey(["syn", "meta"])
META_TAG = "test/metadata_path"


def _day_metadata(key: str) -> dict:
    return {"dagster/row_count": int(key[-2:]), "day_label": f"day {key}", "rate": int(key[-2:]) / 100}


@asset(key=META_KEY, partitions_def=WEEKDAYS, backfill_policy=BackfillPolicy.single_run())
def meta_asset(context: AssetExecutionContext) -> MaterializeResult:
    if context.run.tags[META_TAG] == "public":
        for key in context.partition_keys:
            context.add_asset_metadata(_day_metadata(key), partition_key=key)
    else:
        add_partition_metadata(context, {key: _day_metadata(key) for key in context.partition_keys})
    return MaterializeResult()


def _metadata_by_partition(instance: DagsterInstance) -> dict:
    records = instance.fetch_materializations(META_KEY, limit=100).records
    return {r.partition_key: dict(r.asset_materialization.metadata) for r in records}


@pytest.mark.parametrize("version", [TESTED_DAGSTER_VERSION, "0.0.0"])
def test_partition_metadata_equals_dagsters_own_call(monkeypatch, version):
    """Over a range of a partitions definition with exclusions, every partition's materialisation gets
    exactly the metadata Dagster's add_asset_metadata(partition_key=...) gives it; on an untested Dagster
    version the public call itself is used."""
    monkeypatch.setattr("nba_precompute.dagster_storage.dagster_version", version)
    got = {}
    for path in ("public", "fast"):
        with DagsterInstance.ephemeral() as instance:
            result = materialize([meta_asset], instance=instance, tags={
                META_TAG: path, ASSET_PARTITION_RANGE_START_TAG: "2023-01-05", ASSET_PARTITION_RANGE_END_TAG: "2023-01-17"})
            assert result.success
            got[path] = _metadata_by_partition(instance)
    assert sorted(got["fast"]) == ["2023-01-05", "2023-01-06", "2023-01-09", "2023-01-10", "2023-01-11",
                                   "2023-01-12", "2023-01-13", "2023-01-16", "2023-01-17"]
    assert got["fast"] == got["public"]
    assert got["fast"]["2023-01-09"]["day_label"].value == "day 2023-01-09"


def test_partition_metadata_refuses_a_key_outside_the_run():
    @asset(key=META_KEY, partitions_def=WEEKDAYS, backfill_policy=BackfillPolicy.single_run())
    def outside(context: AssetExecutionContext) -> MaterializeResult:
        add_partition_metadata(context, {"2023-01-18": {"x": 1}, "2023-01-07": {"x": 2}})
        return MaterializeResult()

    with DagsterInstance.ephemeral() as instance:
        with pytest.raises(DagsterInvariantViolationError, match=r"\['2023-01-07', '2023-01-18'\] that are not"):
            materialize([outside], instance=instance, tags={
                ASSET_PARTITION_RANGE_START_TAG: "2023-01-05", ASSET_PARTITION_RANGE_END_TAG: "2023-01-06"})


@pytest.mark.real_data
def test_stock_dagster_storage_gives_the_same_tables(tmp_path, raw_data_dir):
    """The project's event-log storage is an optimisation, not a requirement: three weeks of 2025-26 launched
    with `nba-precompute launch` on Dagster's stock storage (a DAGSTER_HOME without dagster.yaml) and on the
    project's instance give identical tables (every column but the run bookkeeping)."""
    import shutil

    from nba_precompute_tests.table_fingerprints import fingerprints

    prints = {}
    for kind in ("stock", "project"):
        home = tmp_path / kind / "home"
        home.mkdir(parents=True)
        if kind == "project":
            shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
        db = tmp_path / kind / "w.duckdb"
        env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_RAW_DATA_DIR": str(raw_data_dir),
               "NBA_PRECOMPUTE_DUCKDB_PATH": str(db)}
        res = subprocess.run([sys.executable, "-m", "nba_precompute.cli", "launch", "2025-10-21", "2025-11-10"],
                             env=env, cwd=REPO_ROOT,
                             capture_output=True, text=True, timeout=600)
        assert res.returncode == 0, res.stderr[-3000:]
        assert (home / "dagster.yaml").exists() == (kind == "project")
        prints[kind] = fingerprints(str(db))
    assert prints["stock"] == prints["project"]
    assert prints["stock"]["nba_predictions.ml_feature_store_v2"][0] > 3000  # the range is not empty
