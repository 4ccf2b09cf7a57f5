"""The BigQuery service-account key is a secret: configured with Dagster's ``EnvVar``, it appears in no
definition snapshot (what the UI's resource page shows), no stored run config and no event-log line."""

import base64
import json

from dagster import DagsterInstance, EnvVar, materialize
from dagster._core.remote_representation.external_data import RepositorySnap
from dagster._serdes import serialize_value

from nba_precompute.config import CREDENTIALS_VAR, bigquery_settings
from nba_precompute.definitions import defs

SECRET = base64.b64encode(json.dumps({"type": "service_account", "private_key": "TOP-SECRET-7f3a"}).encode()).decode()


def _bigquery_env(monkeypatch):
    monkeypatch.setenv("NBA_PRECOMPUTE_WAREHOUSE", "bigquery")
    monkeypatch.setenv("NBA_PRECOMPUTE_BQ_PROJECT", "secret-test-project")
    monkeypatch.setenv(CREDENTIALS_VAR, SECRET)


def test_the_key_is_configured_as_an_env_var_not_a_value(monkeypatch):
    _bigquery_env(monkeypatch)
    assert bigquery_settings()["bq_gcp_credentials"] == EnvVar(CREDENTIALS_VAR)
    monkeypatch.delenv(CREDENTIALS_VAR)
    assert bigquery_settings()["bq_gcp_credentials"] is None  # Application Default Credentials


def test_the_key_is_in_no_snapshot_run_config_or_log(monkeypatch, tmp_path):
    _bigquery_env(monkeypatch)
    loaded = defs()
    repo = loaded.get_repository_def()
    snapshot = serialize_value(RepositorySnap.from_def(repo))
    assert CREDENTIALS_VAR in snapshot  # the UI shows where the key comes from ...
    assert SECRET not in snapshot and "TOP-SECRET" not in snapshot  # ... never the key

    # a run that uses the resource (it fails: the key is not a real one); everything it stored is searched
    instance = DagsterInstance.local_temp(str(tmp_path))
    schedule = next(a for a in loaded.assets if getattr(a, "key", None) and a.key.path[-1] == "upcoming_team_game_context")
    result = materialize([schedule], instance=instance, resources={"warehouse": loaded.resources["warehouse"], "raw_data": loaded.resources["raw_data"]},
                         partition_key="2023-02-01", raise_on_error=False)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    stored = serialize_value(run) + serialize_value(instance.all_logs(result.run_id))
    stored += serialize_value(instance.get_job_snapshot(run.job_snapshot_id))
    assert "TOP-SECRET" not in stored and SECRET not in stored
