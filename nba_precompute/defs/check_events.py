"""Record one asset-check evaluation per daily partition, in batches.

Why this module exists (Dagster 1.13.27): a check step of a single-run backfill covers a whole date
range, but SPEC §6 wants one check result per daily partition. With ``partitions_def`` on the
``AssetCheckSpec`` (preview), Dagster writes one PLANNED row per partition of the run into the
instance's ``asset_check_executions`` index (one batched insert); an ``AssetCheckEvaluation`` with
``partition=k`` and this run's id then completes the row of partition ``k``. A re-run of the same range
has a new run id, so it gets new rows - nothing collides (unlike runless reports, which all share
run id '').

Dagster stores each evaluation the step yields on its own: on the default SQLite storage that is three
connections and three commits per event (the run shard, its mirror in the index shard, the
``asset_check_executions`` update), 15-60 ms each, i.e. minutes for a season of 164 days x 5 assets x
3 checks. :func:`record_evaluations` writes the same events - same ``EventLogEntry``, same run id and
step key, same index rows - with one transaction per shard for the whole batch, for the file-backed
SQLite storages (per-run shards or consolidated). On any other storage (the in-memory storage of an
ephemeral instance, Postgres, Dagster+) it writes nothing and tells the caller to yield the
evaluations, so Dagster's own path stores them one by one.

``NBA_PRECOMPUTE_CHECK_EVENTS=stream`` forces the one-event-at-a-time path everywhere.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Sequence

from dagster import AssetCheckEvaluation, AssetCheckExecutionContext
from dagster._core.events import DagsterEvent, DagsterEventType
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionRecordStatus,
)
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable
from dagster._core.storage.event_log.sqlite.consolidated_sqlite_event_log import (
    ConsolidatedSqliteEventLogStorage,
)
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SqliteEventLogStorage,
)
from dagster._serdes import serialize_value

MODE_ENV = "NBA_PRECOMPUTE_CHECK_EVENTS"
# The file-backed storages of ``dagster dev`` / a DAGSTER_HOME. The in-memory storage of an ephemeral
# instance is fast per event already (and keeps in-process watch cursors), so it takes Dagster's path.
_SINGLE_DB = (ConsolidatedSqliteEventLogStorage,)


def batch_writes_supported(context: AssetCheckExecutionContext) -> bool:
    """True when :func:`record_evaluations` can write to this instance's event log in batches."""
    if os.environ.get(MODE_ENV, "batch").lower() == "stream":
        return False
    return isinstance(context.instance.event_log_storage, (SqliteEventLogStorage, *_SINGLE_DB))


def _entries(context: AssetCheckExecutionContext,
             evaluations: Sequence[AssetCheckEvaluation]) -> list[EventLogEntry]:
    """The event-log entries Dagster itself would create for ``evaluations`` in this step."""
    step = context.get_step_execution_context()
    out = []
    for ev in evaluations:
        message = (f"Asset check '{ev.check_name}' on '{ev.asset_key.to_user_string()}' "
                   f"[{ev.partition}] " + ("passed." if ev.passed else "did not pass.")
                   + (f" Description: '{ev.description}'" if ev.description else ""))
        event = DagsterEvent(
            event_type_value=DagsterEventType.ASSET_CHECK_EVALUATION.value,
            job_name=step.job_name,
            step_handle=step.step.handle,
            node_handle=step.step.node_handle,
            step_kind_value=step.step.kind.value,
            logging_tags=step.event_tags,
            event_specific_data=ev,
            message=message,
            pid=os.getpid(),
        )
        out.append(EventLogEntry(error_info=None, level=logging.DEBUG, user_message=message,
                                 run_id=step.run_id, timestamp=time.time(), step_key=step.step.key,
                                 job_name=step.job_name, dagster_event=event))
    return out


def _check_row_values(entry: EventLogEntry, event_id: int) -> dict:
    ev: AssetCheckEvaluation = entry.get_dagster_event().event_specific_data  # type: ignore[assignment]
    status = (AssetCheckExecutionRecordStatus.SUCCEEDED if ev.passed
              else AssetCheckExecutionRecordStatus.FAILED)
    return {
        "execution_status": status.value,
        "evaluation_event": serialize_value(entry),
        "evaluation_event_timestamp": dt.datetime.fromtimestamp(entry.timestamp, dt.timezone.utc).replace(tzinfo=None),
        "evaluation_event_storage_id": event_id,
        "materialization_event_storage_id": (ev.target_materialization_data.storage_id
                                             if ev.target_materialization_data else None),
        "partition": ev.partition,
    }


def _index_rows(conn, storage, entries: Sequence[EventLogEntry]) -> None:
    """Insert each event into ``conn``'s event table and complete its asset_check_executions row
    (the row PLANNED for this run and partition; inserted when there is none), in the caller's
    transaction."""
    for entry in entries:
        event_id = conn.execute(storage.prepare_insert_event(entry)).inserted_primary_key[0]
        ev: AssetCheckEvaluation = entry.get_dagster_event().event_specific_data  # type: ignore[assignment]
        values = _check_row_values(entry, event_id)
        t = AssetCheckExecutionsTable
        where = ((t.c.asset_key == ev.asset_key.to_string()) & (t.c.check_name == ev.check_name)
                 & (t.c.run_id == entry.run_id)
                 & (t.c.partition == ev.partition if ev.partition is not None else t.c.partition.is_(None)))
        updated = conn.execute(t.update().where(where).values(**values)).rowcount
        if updated == 0:
            conn.execute(t.insert().values(asset_key=ev.asset_key.to_string(), check_name=ev.check_name,
                                           run_id=entry.run_id, **values))
        elif updated > 1:
            raise RuntimeError(f"{updated} asset_check_executions rows for {ev.asset_check_key} "
                               f"partition {ev.partition} in run {entry.run_id}: duplicate PLANNED events")


def record_evaluations(context: AssetCheckExecutionContext,
                       evaluations: Sequence[AssetCheckEvaluation]) -> bool:
    """Store ``evaluations`` (each with its ``partition``) as this step's ASSET_CHECK_EVALUATION events.

    Returns True when they were written here, in one transaction per storage shard; False when the
    instance's storage is not SQLite-backed (or ``NBA_PRECOMPUTE_CHECK_EVENTS=stream``): then nothing
    was written and the caller must yield the evaluations for Dagster to store one by one.
    """
    if not evaluations:
        return True
    if not batch_writes_supported(context):
        return False
    storage = context.instance.event_log_storage
    entries = _entries(context, evaluations)
    run_id = entries[0].run_id
    if isinstance(storage, _SINGLE_DB):
        with storage.index_transaction() as conn:
            _index_rows(conn, storage, entries)
    else:  # SqliteEventLogStorage: the run's own shard, mirrored into the index shard
        with storage.run_connection(run_id) as conn:
            conn.execute(storage.prepare_insert_event_batch(entries))
        with storage.index_transaction() as conn:
            _index_rows(conn, storage, entries)
    return True
