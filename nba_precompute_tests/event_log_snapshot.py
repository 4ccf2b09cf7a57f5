"""Instances with Dagster's default event-log storage or the project's, and a comparable snapshot of
everything an instance's event log holds (for the equivalence tests of ``test_dagster_storage``)."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

import pytest
import sqlalchemy as db
from dagster import AssetCheckKey, AssetKey, DagsterEventType, DagsterInstance, PartitionsDefinition
from dagster._core.instance.ref import InstanceRef
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value
from dagster._serdes import deserialize_value

from nba_precompute_tests.conftest import REPO_ROOT

PROJECT_YAML = REPO_ROOT / ".dagster_home" / "dagster.yaml"
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"


def project_env_batch_size() -> str:
    """DAGSTER_EVENT_BATCH_SIZE as the repository's ``.env`` sets it for Dagster's commands."""
    from dagster._core.secrets.env_file import get_env_var_dict

    return get_env_var_dict(str(REPO_ROOT))[BATCH_SIZE_ENV]


def make_instance(home: Path, kind: str, monkeypatch: pytest.MonkeyPatch) -> DagsterInstance:
    """A persistent instance in ``home``: ``kind`` "project" uses the repository's
    ``.dagster_home/dagster.yaml`` and its ``.env`` batch size, as ``dagster asset materialize`` does
    from the repository root; "default" is Dagster's default SQLite storage, one event at a time."""
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    if kind == "project":
        shutil.copy(PROJECT_YAML, home / "dagster.yaml")
        monkeypatch.setenv(BATCH_SIZE_ENV, project_env_batch_size())
    else:
        assert kind == "default", kind
        (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
        monkeypatch.setenv(BATCH_SIZE_ENV, "0")
    return DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))


def _tables(conn) -> set[str]:
    return set(db.inspect(conn).get_table_names())


def snapshot(instance: DagsterInstance, asset_keys: Iterable[AssetKey], check_keys: Iterable[AssetCheckKey],
             partitions_def: PartitionsDefinition) -> dict:
    """Everything the event log holds, with what differs by construction between two instances that
    ran the same runs (run ids, storage ids, timestamps, pids, durations) replaced by positions:
    runs by creation order, index events by their position in the index shard."""
    storage = instance.event_log_storage
    runs = sorted(instance.get_run_records(), key=lambda r: r.create_timestamp)
    run_no = {r.dagster_run.run_id: n for n, r in enumerate(runs)}
    out: dict = {"runs": [r.dagster_run.status.value for r in runs]}

    def entry_key(entry) -> tuple:
        de = entry.dagster_event
        if de is None:
            return ("log message",)
        return (de.event_type_value, de.step_key, de.asset_key.to_user_string() if de.asset_key else None,
                de.partition)

    out["run shards"] = [[entry_key(e) for e in instance.all_logs(r.dagster_run.run_id)] for r in runs]

    with storage.index_connection() as conn:
        tables = _tables(conn)
        rows = conn.execute(db.text(
            "SELECT id, dagster_event_type, asset_key, partition, step_key, run_id FROM event_logs ORDER BY id")).all()
        pos = {r[0]: n for n, r in enumerate(rows)}
        out["index events"] = [(t, a, p, s, run_no.get(run)) for _, t, a, p, s, run in rows]

        keys = []
        for row in conn.execute(db.text("SELECT * FROM asset_keys ORDER BY asset_key")).mappings():
            rec = deserialize_value(row["last_materialization"]) if row["last_materialization"] else None
            keys.append({
                "asset_key": row["asset_key"],
                "last_run": run_no.get(row["last_run_id"]),
                "last_materialization": (pos[rec.storage_id], rec.event_log_entry.dagster_event.partition)
                if rec else None,
                # every other column: set or not (timestamps, details, cached status)
                **{c: row[c] is not None for c in row.keys()
                   if c not in ("id", "asset_key", "last_run_id", "last_materialization", "cached_status_data")},
            })
        out["asset_keys"] = keys
        if "asset_event_tags" in tables:
            # data versions derive from the code version, by default the run id: keep which events
            # share a value (numbered by first appearance), not the value
            tags = sorted((pos[i], a, k, v) for i, a, k, v in conn.execute(db.text(
                "SELECT event_id, asset_key, key, value FROM asset_event_tags")).all())
            numbered: dict[str, int] = {}
            out["asset_event_tags"] = [
                (p, a, k, numbered.setdefault(v, len(numbered)) if k == "dagster/data_version" else v)
                for p, a, k, v in tags]
        checks = []
        for a, c, p, run, status, ev_id, mat_id, ev, ts in conn.execute(db.text(
                "SELECT asset_key, check_name, partition, run_id, execution_status, evaluation_event_storage_id, "
                "materialization_event_storage_id, evaluation_event, evaluation_event_timestamp "
                "FROM asset_check_executions")).all():
            entry = deserialize_value(ev) if ev else None
            checks.append((a, c, p, run_no.get(run), status, pos.get(ev_id), pos.get(mat_id),
                           entry.dagster_event.event_type_value if entry else None,
                           entry.dagster_event.step_key if entry else None,
                           entry.dagster_event.event_specific_data.check_name if entry else None,
                           # the row's timestamp is its event's (UTC, naive, as Dagster stores it)
                           entry is not None and str(ts) == str(datetime.fromtimestamp(
                               entry.timestamp, timezone.utc).replace(tzinfo=None))))
        out["asset_check_executions"] = sorted(checks)

    for key in asset_keys:
        name = key.to_user_string()
        out[f"materialized partitions {name}"] = sorted(instance.get_materialized_partitions(key))
        latest = storage.get_latest_storage_id_by_partition(key, DagsterEventType.ASSET_MATERIALIZATION)
        out[f"latest materialization by partition {name}"] = {p: pos[i] for p, i in latest.items()}
        (record,) = instance.get_asset_records([key]) or (None,)
        entry = record.asset_entry if record else None
        out[f"asset record {name}"] = None if entry is None else {
            "last_materialization": (pos[entry.last_materialization_record.storage_id]
                                     if entry.last_materialization_record else None),
            "last_run": run_no.get(entry.last_run_id),
            "last_planned_run": run_no.get(entry.last_planned_materialization_run_id),
            "last_failed": (pos[entry.last_failed_to_materialize_record.storage_id]
                            if entry.last_failed_to_materialize_record else None),
        }
        # what the UI's partition bar shows: materialised / failed / in-progress subsets
        status = get_and_update_asset_status_cache_value(instance, key, partitions_def)
        out[f"partition status {name}"] = None if status is None else {
            kind: sorted(subset.get_partition_keys()) for kind, subset in (
                ("materialized", status.deserialize_materialized_partition_subsets(partitions_def)),
                ("failed", status.deserialize_failed_partition_subsets(partitions_def)),
                ("in progress", status.deserialize_in_progress_partition_subsets(partitions_def)),
            )}

    check_keys = list(check_keys)
    for key in check_keys:
        history = storage.get_asset_check_execution_history(key, limit=100_000)
        out[f"check history {key.to_user_string()}"] = sorted(
            (r.partition, r.status.value, run_no[r.run_id],
             None if r.event is None else r.event.dagster_event.event_type_value,
             None if r.event is None or r.event.dagster_event.event_type_value != "ASSET_CHECK_EVALUATION"
             else (r.event.dagster_event.event_specific_data.passed,
                   sorted(r.event.dagster_event.event_specific_data.metadata)))
            for r in history)
    out["check partition info"] = sorted(
        (i.check_key.to_user_string(), i.partition_key, i.latest_execution_status.value,
         run_no[i.latest_planned_run_id], pos.get(i.latest_check_event_storage_id),
         pos.get(i.latest_materialization_storage_id), pos.get(i.latest_target_materialization_storage_id),
         i.is_current)
        for i in storage.get_asset_check_partition_info(check_keys))
    return out


def diff(a: dict, b: dict) -> list[str]:
    """The keys on which two snapshots differ (for a readable assertion message)."""
    return [k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
