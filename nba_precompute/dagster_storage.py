"""The project's Dagster event-log storage: Dagster's SQLite event log, written in batches.

This is the ONLY module of the project that imports private Dagster APIs for storage. It is tested on
**Dagster 1.13.27** (the pinned version, ``pyproject.toml``); a Dagster upgrade must re-run
``nba_precompute_tests/test_dagster_storage.py``, which compares it with Dagster's own storage.

Why
---
On Dagster's default instance storage (``SqliteEventLogStorage``) every event is its own write: a new
SQLAlchemy engine (``NullPool``) and SQLite connection per call, statements compiled anew, the run's
shard and the cross-run index shard committed separately, and each connection close checkpointing the
WAL. That is 5-10 ms of mostly CPU per asset event; a season of this project's daily partitions has
~1,900 materialisations and ~2,600 per-partition check evaluations, i.e. most of the run's time.

What :class:`BatchingSqliteEventLogStorage` stores
--------------------------------------------------
Exactly what ``SqliteEventLogStorage`` stores, in the same files (``<base_dir>/<run_id>.db`` and
``<base_dir>/index.db``), mostly through Dagster's own row builders (``_event_to_row``,
``_store_asset_event``, ``_store_asset_event_tags``, ``_store_runless_asset_check_evaluation``):

* every event in the run's shard (``event_logs``);
* asset events (materialisations, observations, planned, failed-to-materialise), asset-check events
  and run-status events mirrored into the index shard, with the index row id as the storage id;
* the ``asset_keys`` row of each asset event, the indexed tags of materialisations
  (``asset_event_tags``), and the ``asset_check_executions`` rows (planned rows, then completed by the
  evaluation of the same run and partition).

How it is cheaper
-----------------
1. ``store_event_batch`` (called by ``DagsterInstance.handle_new_event`` when the environment sets
   ``DAGSTER_EVENT_BATCH_SIZE`` > 0, for the events Dagster batches: the materialisations of one
   partitioned step output and the planned events of a new run) writes the whole batch in ONE
   transaction on the run shard and ONE on the index shard, instead of two to three per event.
2. Per-partition asset-check evaluations (Dagster has no batching for ASSET_CHECK_EVALUATION) are
   *deferred* in this process: ``store_event`` keeps them in memory and they are written as one batch
   just before the next storage operation of this object of any kind (the step's next event, such as
   its STEP_OUTPUT/STEP_FAILURE, any read, ``dispose()``), or when ``check_evaluation_batch_size`` are
   waiting. Reads from this process therefore always see them; other processes see them a few
   milliseconds later, when the step's next event is stored. Runless evaluations (run id ``""``) are
   never deferred. ``check_evaluation_batch_size: 0`` turns deferral off.
3. Connections are reused (``pool_connections``): one engine per shard, kept for the life of the
   storage (run shards: the few most recently used), so statements are compiled once. This is safe
   with the webserver, daemon and run worker using the same files because:

   * each use is still one short transaction (``BEGIN`` ... ``COMMIT``; a pooled connection holds no
     transaction or lock between uses), the shards stay in WAL mode (readers never block the writer),
     and every connection waits up to Dagster's busy timeout (30 s) for the write lock;
   * a run shard written through a pooled connection is checkpointed after the write
     (``PRAGMA wal_checkpoint(PASSIVE)``): Dagster's webserver follows a running run by watching the
     ``<run_id>.db`` file for modifications (``SqliteEventLogStorageWatchdog``), and with Dagster's
     default storage that modification comes from the checkpoint done when the last connection
     closes;
   * a pooled connection is dropped when the shard file was deleted or replaced (``wipe``, run
     deletion, another process re-creating it: the file's inode is checked on every use) and in a
     forked child process (never share a SQLite connection across ``fork``).

4. Within a batch, the ``asset_keys`` row of an asset is written once per event type (the last event
   of that type; every earlier one's values would be overwritten), and the ``asset_check_executions``
   rows are written with statements prepared once and each event serialised once
   (:meth:`BatchingSqliteEventLogStorage._store_check_executions` reproduces the statements of
   Dagster 1.13.27's ``_store_asset_check_evaluation_planned`` / ``_update_asset_check_evaluation``,
   which serialise the event again per row and build each statement anew: ~70 % of the cost of an
   evaluation).
5. The PLANNED ``asset_check_executions`` row of each partition holds the planned event without its
   partitions subset (:func:`_planned_event_of_one_row`): Dagster stores the whole event, whose subset
   serialises the partitions definition with its 1,140 excluded days (~114 KB), in every row, 300 MB
   of ``index.db`` per season run and 1.3 GB per all-seasons run. Nothing reads the subset from these
   rows; the event's own ``event_logs`` row keeps it. This is the one place where the rows differ
   from Dagster's (``test_dagster_storage`` asserts both the difference and everything else equal).

If the index half of a batch fails after its run-shard half was committed, the events are remembered
so that Dagster's fallback (``handle_new_event`` retries a failed batch one event at a time) does not
write them to the run shard twice.

``nba_precompute_tests/test_dagster_storage.py`` runs the same runs (successful, failing a blocking
check, failing an asset; the real Phase 4 assets) through this storage and Dagster's default one and
compares everything the event log holds.

Configuration (``.dagster_home/dagster.yaml``)::

    event_log_storage:
      module: nba_precompute.dagster_storage
      class: BatchingSqliteEventLogStorage
      config:
        dagster_home: {env: DAGSTER_HOME}   # or base_dir: <directory of the shards>

``dagster_home`` stores in ``<dagster_home>/history/runs``, the directory Dagster's default storage
uses, so an existing instance keeps its history and can switch back and forth.

Private Dagster APIs used here (all of them): ``SqliteEventLogStorage`` and its ``_connect``,
``_initdb``, ``_initialized_dbs``, ``_db_lock``, ``path_for_shard``, ``conn_string_for_shard``,
``INDEX_SHARD_NAME``; ``SqlEventLogStorage._event_to_row``, ``_event_insert_timestamp``,
``_store_asset_event``, ``_store_asset_event_tags``, ``_has_asset_key_index_cols_on_connection``,
``_store_runless_asset_check_evaluation``, ``supports_asset_checks``; the tables
``SqlEventLogStorageTable`` and ``AssetCheckExecutionsTable`` and ``AssetCheckExecutionRecordStatus``;
``dagster._core.storage.sql.create_engine``, ``dagster._core.storage.sqlite.SQLITE_BUSY_TIMEOUT_SECONDS``;
``dagster._serdes.serialize_value`` and ``dagster_shared.record.replace`` (the planned check rows, 5.);
the event-type sets ``ASSET_EVENTS``, ``ASSET_CHECK_EVENTS``, ``EVENT_TYPE_TO_PIPELINE_RUN_STATUS``;
``dagster._config`` field types and ``ConfigurableClassData`` (the ConfigurableClass mechanism);
``AssetCheckEvaluationTargetMaterializationData`` (for :func:`latest_materialization_targets`);
``AssetExecutionContext._step_execution_context`` and its ``_metadata_accumulator`` (for
:func:`add_partition_metadata`); the data-version tag names ``DATA_VERSION_TAG`` and
``DATA_VERSION_IS_USER_PROVIDED_TAG``, ``EventLogStorage.get_latest_tags_by_partition``, and
``AssetObservationData``, ``DagsterEvent``, ``RUNLESS_JOB_NAME``, ``RUNLESS_RUN_ID`` (for
:func:`data_version_tags`, :func:`latest_observed_data_versions` and :func:`store_runless_observations`:
runless observations with a data version, ``nba_precompute.defs.data_versions``); for the asset-check statuses ``EventLogStorage.get_asset_check_state``
(overridden), ``AssetCheckState`` and its ``with_updates``, ``AssetCheckPartitionInfo``,
``AssetCheckExecutionResolvedStatus``, ``SerializableEntitySubset``, ``partition_loading_context``,
``TimeWindowPartitionsDefinition``, ``RunsFilter``/``FINISHED_STATUSES``.

Asset-check partition statuses
------------------------------
The UI's Checks tab and every asset page (``AssetChecksQuery``, ``AssetGraphLiveQuery``) ask for the
``partitionStatuses`` of each check, which Dagster computes on every request from the latest
``asset_check_executions`` row of each partition (``get_asset_check_state``; nothing is cached between
requests without Dagster+). Dagster 1.13.27 then validates each row's partition key and merges it into
the statuses one row at a time, and with a time-window partitions definition each row recomputes the
definition's first and last windows from the clock: 0.7 s of Python per request for an asset's four
checks over 1,358 daily partitions (the SQL is ~0.1 s), paid twice by the Checks tab, whose two queries
then share the webserver's one interpreter. :meth:`BatchingSqliteEventLogStorage.get_asset_check_state`
computes the same states (equal objects, tested against Dagster's own computation) with one "now" for
the request, the definition's keys listed once and one subset per outcome
(:func:`_state_with_partition_records`); it falls back to Dagster's loop where that could differ.
What is left is SQL: per check, the latest ``asset_check_executions`` row of each partition. Dagster's
indexes of that table do not hold ``evaluation_event_storage_id``, which the query filters on, so
SQLite reads every row the check ever had, each ~2.5 KB of serialised evaluation (about a page): ten
all-seasons runs make that 13,580 rows per check and request. The storage adds one index that covers
that subquery (:data:`LATEST_CHECK_INDEX`, created when the storage opens an instance without it), so
it reads index entries only, and only the latest row of each partition from the table.
Upstream, the fix belongs in ``dagster._core.storage.asset_check_state._process_partition_records``
(README, "UI at full scale").

Per-partition metadata
----------------------
:func:`add_partition_metadata` gives each partition of a single-run backfill its own materialisation
metadata, as ``context.add_asset_metadata(metadata, partition_key=key)`` does for one key. Dagster's
call checks the key against the run's range by recomputing the range's partition keys, and with a
partitions definition that has ``exclusions`` each recomputation hashes the definition through its
``repr`` (every excluded day): 2-4 ms per call, i.e. 4 s of a season run and ~30 s of an all-seasons
run (11 assets x 736 partitions). The helper checks every key once against ``context.partition_keys``
and then adds the metadata to the step's accumulator as Dagster's call does. On another Dagster version
it falls back to the public call per key.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

import dagster._check as check
import sqlalchemy as db
from dagster import AssetKey, AssetRecordsFilter, DagsterEventType, DagsterInstance, TimeWindow
from dagster import __version__ as dagster_version
from dagster._config import Field, IntSource, Noneable, StringSource
from dagster._core.asset_graph_view.serializable_entity_subset import SerializableEntitySubset
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from dagster._core.definitions.asset_key import AssetCheckKey
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.definitions.partitions.definition import PartitionsDefinition, TimeWindowPartitionsDefinition
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.events import (
    ASSET_CHECK_EVENTS,
    ASSET_EVENTS,
    EVENT_TYPE_TO_PIPELINE_RUN_STATUS,
)
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
    AssetCheckExecutionResolvedStatus,
    AssetCheckPartitionInfo,
)
from dagster._core.storage.asset_check_state import AssetCheckState
from dagster._core.storage.dagster_run import FINISHED_STATUSES, DagsterRunStatus, RunsFilter
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster_shared.record import replace
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool, QueuePool

TESTED_DAGSTER_VERSION = "1.13.27"
DEFAULT_CHECK_EVALUATION_BATCH_SIZE = 1000
# Pooled engines kept for run shards (the index shard's is always kept): the run being written and a
# few the webserver is reading.
RUN_SHARD_ENGINES = 4

_log = logging.getLogger(__name__)

# An index of the index shard's asset_check_executions that Dagster does not create (see "Asset-check
# partition statuses" in the module docstring): it holds every column of the subquery that finds each
# partition's latest row of a check, so that query reads no table row.
LATEST_CHECK_INDEX = "nba_idx_asset_check_executions_latest"
_CREATE_LATEST_CHECK_INDEX = (f"CREATE INDEX IF NOT EXISTS {LATEST_CHECK_INDEX} ON asset_check_executions "
                              "(asset_key, check_name, partition, evaluation_event_storage_id)")


def event_log_directory(dagster_home: str) -> str:
    """Where Dagster's default instance storage keeps the event-log shards of ``dagster_home``."""
    return os.path.join(dagster_home, "history", "runs")


class _ShardEngine(NamedTuple):
    engine: Engine
    file_id: tuple[int, int]  # (st_dev, st_ino) of the shard file the engine's connections opened


def _file_id(path: str) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino)


def _mirrored_in_index(event: EventLogEntry) -> bool:
    """Whether SqliteEventLogStorage copies this event into the index shard."""
    if not event.is_dagster_event:
        return False
    kind = event.dagster_event_type
    return kind in ASSET_EVENTS or kind in ASSET_CHECK_EVENTS or kind in EVENT_TYPE_TO_PIPELINE_RUN_STATUS


_INSERT_EVENT = SqlEventLogStorageTable.insert()
_CHECKS = AssetCheckExecutionsTable
_CHECK_VALUES = {c: db.bindparam(f"v_{c}") for c in (
    "execution_status", "evaluation_event", "evaluation_event_timestamp", "evaluation_event_storage_id",
    "materialization_event_storage_id", "partition")}
_CHECK_ROW_OF_RUN = (_CHECKS.c.asset_key == db.bindparam("w_asset_key"),
                     _CHECKS.c.check_name == db.bindparam("w_check_name"),
                     _CHECKS.c.run_id == db.bindparam("w_run_id"))
# the row an evaluation completes: (asset_key, check_name, run_id, partition), as in Dagster's
# SqlEventLogStorage._update_asset_check_evaluation
_COMPLETE_CHECK = _CHECKS.update().where(
    db.and_(*_CHECK_ROW_OF_RUN, _CHECKS.c.partition == db.bindparam("w_partition"))).values(**_CHECK_VALUES)
_COMPLETE_UNPARTITIONED_CHECK = _CHECKS.update().where(
    db.and_(*_CHECK_ROW_OF_RUN, _CHECKS.c.partition.is_(None))).values(**_CHECK_VALUES)


class BatchingSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log, written one transaction per shard per batch of events.

    Same files, tables and rows as ``dagster._core.storage.event_log.SqliteEventLogStorage`` (which it
    extends); see the module docstring for what is batched, deferred and pooled, and why that is safe.

    Args:
        base_dir: directory of the shards (exactly as for ``SqliteEventLogStorage``).
        pool_connections: reuse one engine/connection per shard (default True); False opens a new one
            for every use, as Dagster does.
        check_evaluation_batch_size: at most this many run-scoped ASSET_CHECK_EVALUATION events are
            deferred and then written together (default 1000); 0 writes each one when it is stored.
        partition_subset_in_planned_events: when set, overrides the environment variable
            ``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS`` (Dagster's switch for writing one
            planned event per asset instead of one per partition in a single-run backfill); None
            (default) leaves the decision to the environment, as Dagster's storage does.
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None, *,
                 pool_connections: bool = True,
                 check_evaluation_batch_size: int = DEFAULT_CHECK_EVALUATION_BATCH_SIZE,
                 partition_subset_in_planned_events: bool | None = None):
        if check_evaluation_batch_size < 0:
            raise ValueError("check_evaluation_batch_size must be >= 0")
        # set before SqliteEventLogStorage.__init__, which already connects (index shard migrations)
        self._pool_connections = pool_connections
        self._check_batch_size = check_evaluation_batch_size
        self._partition_subset_planned = partition_subset_in_planned_events
        self._engines: OrderedDict[str, _ShardEngine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._thread = threading.local()  # .held: shard -> Connection in use by this thread; .flushing
        self._pending: list[EventLogEntry] = []
        self._pending_lock = threading.Lock()
        # What a failed write had already committed: id(event) -> (event, "run" | "all"), see _write.
        self._committed: dict[int, tuple[EventLogEntry, str]] = {}
        self._known_tables: set[str] = set()
        self._has_asset_index_cols = False
        if dagster_version != TESTED_DAGSTER_VERSION:
            _log.warning("%s is tested on Dagster %s, not %s: run nba_precompute_tests/test_dagster_storage.py",
                         type(self).__name__, TESTED_DAGSTER_VERSION, dagster_version)
        super().__init__(base_dir, inst_data=inst_data)
        # Re-entrant: a batch holds the index transaction while Dagster's own helpers (called with
        # it) open "another" index connection, which is then the same one (see _connect).
        self._db_lock = threading.RLock()
        self._ensure_latest_check_index()

    # ---------------------------------------------------------------------------------------------
    # ConfigurableClass

    @classmethod
    def config_type(cls) -> Mapping[str, Field]:
        return {
            "base_dir": Field(StringSource, is_required=False,
                              description="Directory of the SQLite shards (index.db, <run_id>.db)."),
            "dagster_home": Field(StringSource, is_required=False,
                                  description="Instance directory: shards in <dagster_home>/history/runs, "
                                              "where Dagster's default storage keeps them."),
            "pool_connections": Field(bool, is_required=False, default_value=True),
            "check_evaluation_batch_size": Field(IntSource, is_required=False,
                                                 default_value=DEFAULT_CHECK_EVALUATION_BATCH_SIZE),
            "partition_subset_in_planned_events": Field(Noneable(bool), is_required=False,
                                                        default_value=None),
        }

    @classmethod
    def from_config_value(  # ty: ignore[invalid-method-override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchingSqliteEventLogStorage:
        config = dict(config_value)
        base_dir, home = config.pop("base_dir", None), config.pop("dagster_home", None)
        if (base_dir is None) == (home is None):
            raise ValueError(f"{cls.__name__}: configure exactly one of base_dir and dagster_home")
        return cls(base_dir if base_dir is not None else event_log_directory(home), inst_data=inst_data,
                   **config)

    # ---------------------------------------------------------------------------------------------
    # connections

    @property
    def _held(self) -> dict[str, Connection]:
        held = getattr(self._thread, "held", None)
        if held is None:
            held = self._thread.held = {}
        return held

    def _engine(self, shard: str) -> Engine:
        """The pooled engine of ``shard`` (caller holds ``_db_lock``), re-created after a fork and when
        the shard file was deleted or replaced since its connections opened it."""
        if os.getpid() != self._engines_pid:  # forked child: never touch the parent's connections
            for entry in self._engines.values():
                entry.engine.dispose(close=False)
            self._engines.clear()
            self._engines_pid = os.getpid()
        path = self.path_for_shard(shard)
        entry = self._engines.get(shard)
        if entry is not None and _file_id(path) != entry.file_id:
            self._engines.pop(shard).engine.dispose()
            self._initialized_dbs.discard(shard)  # the file is new (or gone): create its tables again
            entry = None
        if entry is None:
            engine = create_engine(self.conn_string_for_shard(shard), poolclass=QueuePool, pool_size=1,
                                   max_overflow=4, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
            try:
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
                with engine.connect():  # make sure the file exists before recording which file it is
                    pass
            except BaseException:
                engine.dispose()
                raise
            entry = _ShardEngine(engine, _file_id(path) or (-1, -1))
            self._engines[shard] = entry
            runs = [s for s in self._engines if s != INDEX_SHARD_NAME]
            for old in runs[:-RUN_SHARD_ENGINES]:
                self._engines.pop(old).engine.dispose()
        else:
            self._engines.move_to_end(shard)
        return entry.engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        """A connection to ``shard`` inside a transaction, committed when the block ends (rolled back
        on an exception), like ``SqliteEventLogStorage._connect``. Nested use by the same thread
        returns the connection already in use, inside its transaction."""
        if self._pending and not getattr(self._thread, "flushing", False):
            self.flush_deferred_events()
        held = self._held.get(shard)
        if held is not None:
            yield held
            return
        with self._db_lock:
            if self._pool_connections:
                engine = self._engine(shard)
            else:  # Dagster's way: a new engine and connection for every use
                engine = create_engine(self.conn_string_for_shard(shard), poolclass=NullPool,
                                       connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})
                if shard not in self._initialized_dbs:
                    self._initdb(engine)
                    self._initialized_dbs.add(shard)
            try:
                with engine.connect() as conn:
                    raw = conn.connection.dbapi_connection
                    changes = raw.total_changes  # type: ignore[union-attr]
                    with conn.begin():
                        self._held[shard] = conn
                        try:
                            yield conn
                        finally:
                            del self._held[shard]
                    if (self._pool_connections and shard != INDEX_SHARD_NAME
                            and raw.total_changes != changes):  # type: ignore[union-attr]
                        # modify <run_id>.db itself, as closing the last connection does with Dagster's
                        # storage: the webserver's watchdog follows a running run by this file's changes
                        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                        conn.commit()
            finally:
                if not self._pool_connections:
                    engine.dispose()

    def _ensure_latest_check_index(self) -> None:
        """Create :data:`LATEST_CHECK_INDEX` when it is missing (a new instance; on an existing one, once,
        in a few seconds). It only speeds up reads: when it cannot be created (an instance whose
        asset-check table needs ``dagster instance migrate``, a lock held for longer than the busy
        timeout), this is logged and the storage works without it."""
        try:
            if not self.has_table(AssetCheckExecutionsTable.name):
                return
            with self.index_connection() as conn:
                conn.exec_driver_sql(_CREATE_LATEST_CHECK_INDEX)
        except db.exc.OperationalError:
            _log.warning("could not create the index %s on %s", LATEST_CHECK_INDEX,
                         self.path_for_shard(INDEX_SHARD_NAME), exc_info=True)

    def has_table(self, table_name: str) -> bool:
        # Dagster's version opens a new engine each call (once per materialisation with indexed tags).
        if table_name in self._known_tables:
            return True
        with self.index_connection() as conn:
            found = bool(db.inspect(conn).has_table(table_name))
        if found:
            self._known_tables.add(table_name)
        return found

    def _has_asset_key_index_cols_on_connection(self, conn: Connection) -> bool:
        # A schema inspection per asset event in Dagster's version; columns are only ever added.
        if not self._has_asset_index_cols:
            self._has_asset_index_cols = super()._has_asset_key_index_cols_on_connection(conn)
        return self._has_asset_index_cols

    def wipe(self) -> None:
        self.flush_deferred_events()
        with self._db_lock:
            super().wipe()  # deletes the run shard files: drop their pooled connections
            for shard in [s for s in self._engines if s != INDEX_SHARD_NAME]:
                self._engines.pop(shard).engine.dispose()

    def dispose(self) -> None:
        try:
            self.flush_deferred_events()
        finally:
            with self._db_lock:
                for entry in self._engines.values():
                    entry.engine.dispose()
                self._engines.clear()
            super().dispose()

    # ---------------------------------------------------------------------------------------------
    # writes

    def store_event(self, event: EventLogEntry) -> None:
        if self._defer(event):
            return
        self.flush_deferred_events()
        self._write([event])

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        self._committed.clear()  # only Dagster's immediate one-by-one retry of a failed batch uses it
        self.flush_deferred_events()
        self._write(list(events))

    def _defer(self, event: EventLogEntry) -> bool:
        if (self._check_batch_size == 0 or not event.run_id or not event.is_dagster_event
                or event.dagster_event_type != DagsterEventType.ASSET_CHECK_EVALUATION):
            return False
        with self._pending_lock:
            self._pending.append(event)
            full = len(self._pending) >= self._check_batch_size
            _flush_at_exit.add(self)
        if full:
            self.flush_deferred_events()
        return True

    def flush_deferred_events(self) -> None:
        """Write the deferred check evaluations now (one batch). Called before every other storage
        operation of this object, by ``dispose()`` and at interpreter exit."""
        if getattr(self._thread, "flushing", False):
            return
        with self._pending_lock:
            events, self._pending = self._pending, []
            _flush_at_exit.discard(self)
        if not events:
            return
        self._thread.flushing = True
        try:
            try:
                self._write(events)
            except Exception:
                _log.exception("storing %d deferred check evaluations as one batch failed; storing them "
                               "one by one", len(events))
                for event in events:
                    self._write([event])
        finally:
            self._thread.flushing = False

    def _write(self, events: list[EventLogEntry]) -> None:
        """Store ``events`` as ``SqliteEventLogStorage.store_event`` does one by one, with one
        transaction per run shard and one per run on the index shard.

        When a part fails, what was already committed is remembered (``_committed``) and the error
        raised: ``DagsterInstance.handle_new_event`` then retries the batch one ``store_event`` at a
        time, and those calls skip what is already stored instead of writing it twice."""
        by_run: dict[str, list[EventLogEntry]] = {}
        for event in events:
            by_run.setdefault(event.run_id, []).append(event)
        done: dict[int, tuple[EventLogEntry, str]] = {}
        try:
            for run_id, run_events in by_run.items():
                todo = []  # (event, its event_logs row, already in the run shard)
                for event in run_events:
                    prior = self._committed.pop(id(event), None)
                    stage = prior[1] if prior is not None and prior[0] is event else None
                    if stage != "all":
                        todo.append((event, self._event_to_row(event), stage == "run"))
                new = [(e, row) for e, row, in_run_shard in todo if not in_run_shard]
                if new:
                    with self.run_connection(run_id) as conn:
                        conn.execute(SqlEventLogStorageTable.insert(), [row for _, row in new])
                    done.update({id(e): (e, "run") for e, _ in new})
                mirrored = [(e, row) for e, row, _ in todo if _mirrored_in_index(e)]
                if mirrored:
                    self._write_index(mirrored)
                done.update({id(e): (e, "all") for e, _, _ in todo})
        except Exception:
            self._committed.update(done)
            raise

    def _write_index(self, events: list[tuple[EventLogEntry, dict[str, Any]]]) -> None:
        """The index-shard half of :meth:`_write`, in one transaction: each event's mirror row, then
        the asset-key, tag and asset-check-execution rows for it."""
        with self.index_transaction() as conn:
            ids = [conn.execute(_INSERT_EVENT, row).inserted_primary_key[0] for _, row in events]
            assets = [(e, i) for (e, _), i in zip(events, ids) if e.dagster_event_type in ASSET_EVENTS]
            if assets:
                self._store_asset_event_tags(conn, [e for e, _ in assets], [i for _, i in assets])
                # The asset_keys row of an asset: each event overwrites the columns its event type sets
                # (_get_asset_entry_values), so an event followed in the batch by another event of the
                # same type and asset leaves no trace of its own. Writing only the last event of each
                # (asset, type), in order, leaves the row exactly as writing all of them does.
                last = {(e.get_dagster_event().asset_key, e.dagster_event_type): n for n, (e, _) in enumerate(assets)}
                for n in sorted(last.values()):
                    self._store_asset_event(conn, *assets[n])
            checks = [(e, row["event"], i) for (e, row), i in zip(events, ids)
                      if e.dagster_event_type in ASSET_CHECK_EVENTS]
            if checks:
                self._store_check_executions(conn, checks)

    def _store_check_executions(self, conn: Connection, events: list[tuple[EventLogEntry, str, int]]) -> None:
        """The ``asset_check_executions`` rows of check events (``event``, its serialised form, its
        index storage id), as ``SqlEventLogStorage.store_asset_check_event`` writes them one by one in
        Dagster 1.13.27: a planned event inserts one PLANNED row per partition of its subset; an
        evaluation completes the row of its run and partition (inserting one when there is none).

        Dagster serialises the event again for every row (once per partition for a planned event) and
        builds each statement anew; here each event is serialised once and the statements are
        prepared once, which is most of the cost of ~15 evaluations per day. Runless evaluations (run
        id "") take Dagster's own method. ``test_dagster_storage`` compares the rows with Dagster's."""
        check.invariant(self.supports_asset_checks,
                        "Asset checks require a database schema migration. Run `dagster instance migrate`.")
        for event, serialized, event_id in events:
            kind = event.dagster_event_type
            data = event.get_dagster_event().event_specific_data
            timestamp = self._event_insert_timestamp(event)
            if kind == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
                if data.partitions_subset is not None:
                    keys = data.partitions_subset.get_partition_keys()
                    serialized = serialize_value(_planned_event_of_one_row(event))
                else:
                    keys = [None]
                conn.execute(_CHECKS.insert(), [
                    {"asset_key": data.asset_key.to_string(), "check_name": data.check_name, "partition": key,
                     "run_id": event.run_id, "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
                     "evaluation_event": serialized, "evaluation_event_timestamp": timestamp,
                     "evaluation_event_storage_id": event_id} for key in keys])
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION and not event.run_id:
                self._store_runless_asset_check_evaluation(event, event_id)
            elif kind == DagsterEventType.ASSET_CHECK_EVALUATION:
                values = {
                    "execution_status": (AssetCheckExecutionRecordStatus.SUCCEEDED if data.passed
                                         else AssetCheckExecutionRecordStatus.FAILED).value,
                    "evaluation_event": serialized, "evaluation_event_timestamp": timestamp,
                    "evaluation_event_storage_id": event_id,
                    "materialization_event_storage_id": (data.target_materialization_data.storage_id
                                                         if data.target_materialization_data else None),
                    "partition": data.partition,
                }
                where = {"w_asset_key": data.asset_key.to_string(), "w_check_name": data.check_name,
                         "w_run_id": event.run_id}
                if data.partition is None:
                    statement = _COMPLETE_UNPARTITIONED_CHECK
                else:
                    statement, where["w_partition"] = _COMPLETE_CHECK, data.partition
                updated = conn.execute(statement, {**where, **{f"v_{k}": v for k, v in values.items()}}).rowcount
                if updated == 0:  # no planned row (e.g. a step launched outside this run's plan)
                    conn.execute(_CHECKS.insert(), {"asset_key": data.asset_key.to_string(),
                                                    "check_name": data.check_name, "run_id": event.run_id,
                                                    **values})
                elif updated > 1:
                    raise DagsterInvariantViolationError(
                        f"Updated {updated} rows for asset check evaluation {data.asset_check_key} "
                        "as a result of duplicate AssetCheckPlanned events.")

    # ---------------------------------------------------------------------------------------------
    # reads: the partition statuses of asset checks (the UI's Checks tab)

    def get_asset_check_state(
        self, keys: Sequence[tuple[AssetCheckKey, PartitionsDefinition | None]]
    ) -> Mapping[AssetCheckKey, AssetCheckState]:
        """The per-partition status of each asset check (succeeded, failed, in progress, ...), as
        ``EventLogStorage.get_asset_check_state`` computes it in Dagster 1.13.27 and equal to it (tested),
        with each check's partition records taken in at once (see "Asset-check partition statuses" in
        the module docstring)."""
        with partition_loading_context():  # one "now" for every partition window computed below
            initial = self.get_checkpointed_asset_check_state([key for key, _ in keys])
            return _updated_check_states(self, keys, initial)

    # ---------------------------------------------------------------------------------------------

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        if self._partition_subset_planned is None:
            return super().supports_partition_subset_in_asset_materialization_planned_events
        return self._partition_subset_planned


def _planned_event_of_one_row(event: EventLogEntry) -> EventLogEntry:
    """The planned check event as stored in each of its per-partition ``asset_check_executions`` rows:
    the same event without its partitions subset (the row's ``partition`` column says which partition).

    Dagster 1.13.27 stores the whole event in every row, and a partitions subset serialises its
    partitions definition: with this project's 1,140 excluded days that is ~114 KB per row, 15 checks x
    736 partitions = 1.3 GB written into ``index.db`` by an all-seasons run (and left there as free
    pages once the evaluations replace the rows' events). What reads these rows uses the event's type,
    step key, run id and timestamp (``AssetCheckExecutionRecord``, the UI's check history); the subset
    stays in the event's own ``event_logs`` row, stored once."""
    dagster_event = event.get_dagster_event()
    return event._replace(dagster_event=dagster_event._replace(
        event_specific_data=replace(dagster_event.event_specific_data, partitions_subset=None)))


def _updated_check_states(
    storage: BatchingSqliteEventLogStorage,
    keys: Sequence[tuple[AssetCheckKey, PartitionsDefinition | None]],
    initial_states: Mapping[AssetCheckKey, AssetCheckState],
) -> dict[AssetCheckKey, AssetCheckState]:
    """Dagster 1.13.27's ``bulk_update_asset_check_state`` (``dagster._core.storage.asset_check_state``):
    one query for the partition records of every key after the oldest initial state, one for the
    finished runs of planned records, then each key's state updated, by
    :func:`_state_with_partition_records` where it applies and by Dagster's ``with_updates`` otherwise."""
    check_keys = [key for key, _ in keys]
    partitions_defs = dict(keys)
    after = min((state.latest_storage_id for state in initial_states.values()), default=0)
    infos = storage.get_asset_check_partition_info(check_keys, after_storage_id=after)
    run_ids: set[str] = set().union(*(state.in_progress_runs.keys() for state in initial_states.values()))
    infos_by_key: dict[AssetCheckKey, list[AssetCheckPartitionInfo]] = defaultdict(list)
    for info in infos:
        infos_by_key[info.check_key].append(info)
        if info.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED:
            run_ids.add(info.latest_planned_run_id)
    finished = (storage._instance.get_runs(filters=RunsFilter(run_ids=list(run_ids), statuses=FINISHED_STATUSES))
                if run_ids else [])
    run_statuses: dict[str, DagsterRunStatus] = {run.run_id: run.status for run in finished}
    out = {}
    known: dict[PartitionsDefinition, dict[str, int]] = {}  # a definition's keys and positions, listed once per call
    for key in check_keys:
        state, partitions_def, records = initial_states[key], partitions_defs[key], infos_by_key[key]
        at_once = _state_with_partition_records(state, key, partitions_def, records, known)
        if at_once is None:  # Dagster's own record-by-record update
            out[key] = state.with_updates(key, partitions_def, records, run_statuses)
        else:  # no records left to apply: only the finished runs of in-progress partitions
            out[key] = at_once.with_updates(key, partitions_def, [], run_statuses)
    return out


_RESOLVED = {AssetCheckExecutionRecordStatus.SUCCEEDED: AssetCheckExecutionResolvedStatus.SUCCEEDED,
             AssetCheckExecutionRecordStatus.FAILED: AssetCheckExecutionResolvedStatus.FAILED}


def _state_with_partition_records(
    state: AssetCheckState, key: AssetCheckKey, partitions_def: PartitionsDefinition | None,
    records: Sequence[AssetCheckPartitionInfo],
    known_keys: dict[PartitionsDefinition, dict[str, int]] | None = None,
) -> AssetCheckState | None:
    """``state`` updated with ``records`` (at most one per partition), as Dagster 1.13.27's
    ``_process_partition_records`` does record by record, but one subset per outcome: the partitions
    whose latest execution is planned (in progress, also per planned run), succeeded or failed against
    the latest materialisation, or evaluated against an older one (removed from every status).

    Dagster validates each record's key (``has_partition_key``) and builds a one-partition subset per
    record, and with a time-window definition each of those recomputes the definition's first and last
    windows from the clock: ~0.2 ms per record, 0.7 s per request for an asset's four checks over 1,358
    daily partitions, on every Checks-tab and asset-page load. Here the keys are checked against the
    definition's key list once (``known_keys``: a definition's keys and their positions, shared by the
    checks of one call) and each outcome's subset is built once, from its runs of consecutive
    partitions. Since every record is a different partition, applying them together gives the same
    partitions per status as one by one; the subsets are combined with the same union and difference, so
    the result is equal (``test_dagster_storage`` compares the two).

    Returns None (use Dagster's loop) for anything but a time-window definition without exclusions
    (unions there may merge windows differently), for two records of one partition, and for a key the
    definition accepts (``has_partition_key``) but does not list.
    """
    if not isinstance(partitions_def, TimeWindowPartitionsDefinition) or partitions_def.exclusions:
        return None
    if len({r.partition_key for r in records}) != len(records):
        return None
    known_keys = {} if known_keys is None else known_keys
    known = known_keys.get(partitions_def)
    if known is None:  # the checks of an asset share one definition (equal, if not the same object)
        known = known_keys[partitions_def] = {k: i for i, k in enumerate(partitions_def.get_partition_keys())}
    planned: dict[str, list[str]] = defaultdict(list)
    done: dict[AssetCheckExecutionResolvedStatus, list[str]] = defaultdict(list)
    stale: list[str] = []
    for r in records:
        pk = r.partition_key
        if pk not in known:
            if pk is not None and partitions_def.has_partition_key(pk):
                return None
            continue  # not a partition of the definition: Dagster skips it too
        if r.latest_execution_status == AssetCheckExecutionRecordStatus.PLANNED:
            planned[r.latest_planned_run_id].append(pk)
        elif r.latest_execution_status in _RESOLVED:
            if r.is_current:
                done[_RESOLVED[r.latest_execution_status]].append(pk)
            else:
                stale.append(pk)

    def subset(partition_keys: list[str]) -> SerializableEntitySubset[AssetCheckKey]:
        return SerializableEntitySubset(key=key, value=_time_window_subset(partitions_def, known, partition_keys))

    empty = SerializableEntitySubset.empty(key, partitions_def)
    subsets = {status: state.subsets.get(status, empty) for status in AssetCheckExecutionResolvedStatus}
    in_progress_runs = dict(state.in_progress_runs)
    if planned:
        in_progress = AssetCheckExecutionResolvedStatus.IN_PROGRESS
        subsets[in_progress] = subsets[in_progress].compute_union(subset([k for ks in planned.values() for k in ks]))
        for run_id, partition_keys in planned.items():
            in_progress_runs[run_id] = in_progress_runs.get(run_id, empty).compute_union(subset(partition_keys))
    for status, partition_keys in done.items():
        subsets[status] = subsets[status].compute_union(subset(partition_keys))
    if stale:
        evaluated_before = subset(stale)
        subsets = {status: s.compute_difference(evaluated_before) for status, s in subsets.items()}
    latest_storage_id = max((max(r.latest_check_event_storage_id, r.latest_materialization_storage_id or 0)
                             for r in records), default=state.latest_storage_id)
    return AssetCheckState(latest_storage_id=latest_storage_id, subsets=subsets, in_progress_runs=in_progress_runs)


def _time_window_subset(partitions_def: TimeWindowPartitionsDefinition, positions: Mapping[str, int],
                        partition_keys: Sequence[str]):
    """The subset of ``partitions_def`` holding ``partition_keys`` (keys of ``positions``: each partition
    key of the definition -> its position), one time window per run of consecutive partitions: what
    ``subset_with_partition_keys`` gives (equal subsets), without its per-key window arithmetic."""
    ordered = sorted(partition_keys, key=positions.__getitem__)
    windows, first = [], 0
    for i in range(1, len(ordered) + 1):
        if i == len(ordered) or positions[ordered[i]] != positions[ordered[i - 1]] + 1:
            windows.append(TimeWindow(partitions_def.time_window_for_partition_key(ordered[first]).start,
                                      partitions_def.time_window_for_partition_key(ordered[i - 1]).end))
            first = i
    return partitions_def.partitions_subset_class(partitions_def=partitions_def, num_partitions=len(ordered),
                                                  included_time_windows=windows)


class _FlushAtExit:
    """Deferred events of a storage that is never disposed of are written when the interpreter exits.
    A storage is referenced here only while it holds deferred events (so it cannot be garbage
    collected with them)."""

    def __init__(self) -> None:
        self._storages: dict[int, BatchingSqliteEventLogStorage] = {}
        self._lock = threading.Lock()
        self._registered = False

    def add(self, storage: BatchingSqliteEventLogStorage) -> None:
        with self._lock:
            if not self._registered:
                import atexit

                atexit.register(self.flush)
                self._registered = True
            self._storages[id(storage)] = storage

    def discard(self, storage: BatchingSqliteEventLogStorage) -> None:
        with self._lock:
            self._storages.pop(id(storage), None)

    def flush(self) -> None:
        with self._lock:
            storages = list(self._storages.values())
        for storage in storages:
            try:
                storage.flush_deferred_events()
            except Exception:  # at exit there is nobody left to raise to
                _log.exception("writing deferred Dagster events at exit failed")


_flush_at_exit = _FlushAtExit()


def latest_materialization_targets(
    instance: DagsterInstance, asset_key: AssetKey, partition_keys: Sequence[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialisation of each partition in ``partition_keys``, as the target data an
    ``AssetCheckEvaluation`` points at (what ``AssetCheckResult`` looks up for a single partition),
    in two queries for the whole range."""
    latest = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset_key, DagsterEventType.ASSET_MATERIALIZATION, set(partition_keys))
    if not latest:
        return {}
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=asset_key, storage_ids=list(latest.values())), limit=len(latest)).records
    by_id = {r.storage_id: r for r in records}
    return {
        k: AssetCheckEvaluationTargetMaterializationData(
            storage_id=sid, run_id=by_id[sid].run_id, timestamp=by_id[sid].timestamp)
        for k, sid in latest.items() if sid in by_id
    }


def add_partition_metadata(context: Any, metadata_by_partition: Mapping[str, Mapping[str, Any]]) -> None:
    """Attach ``metadata_by_partition[key]`` to the materialisation of partition ``key`` of the asset
    being materialised, for every key (see "Per-partition metadata" above).

    ``context``: the asset's ``AssetExecutionContext``. The result is exactly that of
    ``context.add_asset_metadata(metadata, partition_key=key)`` per key (tested).

    Raises:
        DagsterInvariantViolationError: a key is not a partition of the run (as Dagster's call does).
    """
    targeted = set(context.partition_keys)
    unknown = sorted(k for k in metadata_by_partition if k not in targeted)
    if unknown:
        raise DagsterInvariantViolationError(
            f"Attempted to add metadata for partition key(s) {unknown[:3]} that are not being targeted.")
    step = getattr(context, "_step_execution_context", None)
    if dagster_version != TESTED_DAGSTER_VERSION or step is None or not hasattr(step, "_metadata_accumulator"):
        for key, metadata in metadata_by_partition.items():  # the public path, one key at a time
            context.add_asset_metadata(metadata, partition_key=key)
        return
    asset_key = context.asset_key
    accumulator = step._metadata_accumulator
    for key, metadata in metadata_by_partition.items():
        accumulator = accumulator.with_additional_asset_metadata(
            asset_key=asset_key, metadata=metadata, partition_key=key)
    step._metadata_accumulator = accumulator


def data_version_tags(version: str) -> dict[str, str]:
    """The tags of an ``AssetObservation`` carrying a user-provided data version (what an observable
    source asset's ``DataVersion`` becomes in the event log), for a runless observation."""
    from dagster._core.definitions.data_version import DATA_VERSION_IS_USER_PROVIDED_TAG, DATA_VERSION_TAG

    return {DATA_VERSION_TAG: version, DATA_VERSION_IS_USER_PROVIDED_TAG: "true"}


def latest_observed_data_versions(instance: Any, asset_key: Any) -> dict[str, str]:
    """The data version of the latest observation of every observed partition of ``asset_key``
    (partition key -> version), in one query of the event log's tag index."""
    from dagster import DagsterEventType
    from dagster._core.definitions.data_version import DATA_VERSION_TAG

    latest = instance.event_log_storage.get_latest_tags_by_partition(
        asset_key, DagsterEventType.ASSET_OBSERVATION, [DATA_VERSION_TAG])
    return {partition: tags[DATA_VERSION_TAG] for partition, tags in latest.items() if DATA_VERSION_TAG in tags}


def store_runless_observations(instance: Any, observations: Sequence[Any]) -> None:
    """Store runless ``AssetObservation`` events as ``DagsterInstance.report_runless_asset_event`` does
    one by one (the same ``EventLogEntry``: Dagster's runless run id and job name), in one
    ``store_event_batch`` call: with this module's storage one transaction per shard (4,074 observations
    one by one took ~100 s at load ~10)."""
    from dagster._core.events import AssetObservationData, DagsterEvent
    from dagster._core.instance.utils import RUNLESS_JOB_NAME, RUNLESS_RUN_ID
    from dagster._time import get_current_timestamp

    entries = [EventLogEntry(
        user_message="", level=logging.INFO, job_name=RUNLESS_JOB_NAME, run_id=RUNLESS_RUN_ID, error_info=None,
        timestamp=get_current_timestamp(), step_key=None,
        dagster_event=DagsterEvent(event_type_value=DagsterEventType.ASSET_OBSERVATION.value,
                                   event_specific_data=AssetObservationData(observation), job_name=RUNLESS_JOB_NAME))
        for observation in observations]
    if entries:
        instance.event_log_storage.store_event_batch(entries)


def step_data_version_tags(instance: Any, parent_keys: Sequence[Any], code_version: str) -> dict[str, str]:
    """The data-version tags Dagster puts on the materialisation an asset's own step records
    (``dagster/_core/execution/plan/execute_step.py``: ``_get_input_provenance_data``,
    ``_build_data_version_tags``), for an ``AssetMaterialization`` an op reports instead (the refresh job,
    ``defs/refresh_job.py``).

    ``parent_keys``: the asset's dependencies; for each, as Dagster's step picks it
    (``DataVersionCache._get_input_asset_event``), the latest materialisation of it, else its latest
    observation: its storage id becomes the input's event pointer, and its data version the input's
    data version (``INITIAL`` when it has none; Dagster itself does this for a dependency mapping to 100
    or more partitions, and hashes the mapped partitions' versions for a smaller window).
    ``code_version``: the asset's code version, the run id when it has none (as in a step). The output's
    data version is Dagster's ``compute_logical_data_version`` of the two.

    Dagster's stale-status resolver reads, for a partitioned dependency (every dependency of the
    project's tables), the code version and the event pointer (``_is_dep_updated``): with these tags a
    partition the op reported is Unsynced again after a later observation of its version asset's
    partition, exactly as one a step materialised (``defs/test_refresh_job.py`` compares the tags with
    a step's, ``defs/test_data_versions.py`` the resolver's verdicts).
    """
    from dagster._core.definitions.data_version import (
        CODE_VERSION_TAG,
        DATA_VERSION_TAG,
        DEFAULT_DATA_VERSION,
        NULL_EVENT_POINTER,
        compute_logical_data_version,
        extract_data_version_from_entry,
        get_input_data_version_tag,
        get_input_event_pointer_tag,
    )

    records = {r.asset_entry.asset_key: r.asset_entry for r in instance.get_asset_records(list(parent_keys))}
    observed_in_records = instance.event_log_storage.asset_records_have_last_observation
    tags, versions = {CODE_VERSION_TAG: code_version}, {}
    for key in parent_keys:  # as DataVersionCache._get_input_asset_event picks a dependency's event
        entry = records.get(key)
        event = entry.last_materialization_record if entry else None
        if event is None and observed_in_records:
            event = entry.last_observation_record if entry else None
        elif event is None:
            event = next(iter(instance.fetch_observations(key, limit=1).records), None)
        version = (event and extract_data_version_from_entry(event.event_log_entry)) or DEFAULT_DATA_VERSION
        versions[key] = version
        tags[get_input_data_version_tag(key)] = version.value
        tags[get_input_event_pointer_tag(key)] = str(event.storage_id) if event else NULL_EVENT_POINTER
    tags[DATA_VERSION_TAG] = compute_logical_data_version(code_version, versions).value
    return tags
