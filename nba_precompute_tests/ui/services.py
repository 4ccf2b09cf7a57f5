"""Run ``dagster-webserver`` and ``dagster-daemon`` for the repository's ``workspace.yaml`` as
subprocesses on a loopback port, against a given ``DAGSTER_HOME`` and DuckDB file, and talk to the
webserver's GraphQL API.

Used by the UI tests; also handy by hand::

    python -m nba_precompute_tests.ui.services /tmp/ui-home /tmp/ui.duckdb   # serves until Ctrl-C
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
PROJECT_INSTANCE_YAML = REPO_ROOT / ".dagster_home" / "dagster.yaml"
TERMINAL_RUN_STATUSES = {"SUCCESS", "FAILURE", "CANCELED"}
TERMINAL_BACKFILL_STATUSES = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


LAUNCH_BACKFILL = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on Error { message }
  }
}"""
BACKFILL = """
query Backfill($id: String!) {
  partitionBackfillOrError(backfillId: $id) {
    __typename
    ... on PartitionBackfill { id status numPartitions partitionNames isAssetBackfill }
    ... on Error { message }
  }
}"""
RUNS = """
query Runs($filter: RunsFilter!) {
  runsOrError(filter: $filter) {
    ... on Runs { results { runId status startTime endTime tags { key value } } }
  }
}"""


class ServiceError(RuntimeError):
    """The webserver or the daemon did not start, or a GraphQL call failed."""


LAUNCH_RUN = """
mutation LaunchRun($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId status } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""

RUN = """
query Run($id: ID!) {
  runOrError(runId: $id) { __typename ... on Run { runId status startTime endTime } }
}
"""


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    """The console script ``name`` of the running interpreter's environment."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


@dataclass
class DagsterServices:
    """``dagster-webserver`` + ``dagster-daemon`` on ``127.0.0.1:port``.

    ``dagster_home`` must contain a ``dagster.yaml`` (``prepare_home`` copies the project's);
    ``env`` is added to the subprocesses' environment (e.g. ``NBA_PRECOMPUTE_DUCKDB_PATH``).
    Logs go to ``log_dir``. ``stop()`` terminates both process groups (always call it).
    ``daemon=False`` starts the webserver alone (nothing is launched: reading the UI only);
    ``webserver=False`` the daemon alone (schedules, sensors and the run queue, no UI).
    """

    dagster_home: Path
    env: dict[str, str]
    log_dir: Path
    port: int = field(default_factory=free_port)
    daemon: bool = True
    webserver: bool = True
    processes: list[subprocess.Popen] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        """The environment of the services (and of a Dagster command run against the same instance)."""
        env = {**os.environ, **self.env, "DAGSTER_HOME": str(self.dagster_home)}
        env.pop("DAGSTER_IS_DEV_CLI", None)
        return env

    def _spawn(self, name: str, args: list[str]) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(args, cwd=REPO_ROOT, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        proc._log_file = log  # type: ignore[attr-defined]
        self.processes.append(proc)

    def start(self, timeout: float = 120.0) -> DagsterServices:
        """Start the processes and wait until the webserver answers and the code location is loaded (the
        daemon alone: return once it is started)."""
        workspace = str(REPO_ROOT / "workspace.yaml")
        if self.daemon:
            self._spawn("daemon", [_bin("dagster-daemon"), "run", "-w", workspace])
        if not self.webserver:
            return self
        self._spawn("webserver", [_bin("dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port),
                                  "-w", workspace])
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                with urllib.request.urlopen(f"{self.url}/server_info", timeout=5) as r:
                    if r.status == 200 and self.location_loaded():
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(1)
        raise ServiceError(f"dagster-webserver not ready on {self.url} after {timeout:.0f}s; see {self.log_dir}")

    def check_alive(self) -> None:
        """Raise :class:`ServiceError` when a process has exited."""
        self._check_alive()

    def _check_alive(self) -> None:
        for proc in self.processes:
            if proc.poll() is not None:
                raise ServiceError(f"{proc.args[0]} exited with code {proc.returncode}; see {self.log_dir}")

    def stop(self) -> None:
        """Terminate both process groups (SIGTERM, then SIGKILL after 15 s)."""
        for proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=10)
            proc._log_file.close()  # type: ignore[attr-defined]
        self.processes.clear()

    # -- GraphQL ---------------------------------------------------------------------------------

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60.0) -> dict:
        """POST a GraphQL document to ``/graphql``; returns ``data``, raises on transport or GraphQL errors."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        req = urllib.request.Request(f"{self.url}/graphql", data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            payload = json.loads(r.read())
        if payload.get("errors"):
            raise ServiceError(f"GraphQL errors: {payload['errors']}")
        return payload["data"]

    def launch_partition_backfill(self, asset_paths: list[list[str]], start: str, end: str,
                                  title: str | None = None) -> str:
        """``launchPartitionBackfill`` of the assets over the partitions [start, end]; returns the backfill id."""
        data = self.graphql(LAUNCH_BACKFILL, {"params": {
            "partitionsByAssets": [{"assetKey": {"path": p}, "partitions": {"range": {"start": start, "end": end}}}
                                   for p in asset_paths],
            "title": title,
        }})["launchPartitionBackfill"]
        if data["__typename"] != "LaunchBackfillSuccess":
            raise ServiceError(f"launchPartitionBackfill failed: {data}")
        return data["backfillId"]

    def launch_asset_run(self, asset_paths: list[list[str]], partition: str) -> str:
        """``launchRun`` of the assets' job for one partition (what a script or sensor submits); returns the
        run id. The run goes to the instance's run queue like any UI-launched run."""
        data = self.graphql(LAUNCH_RUN, {"params": {
            "selector": {"repositoryLocationName": "nba_precompute", "repositoryName": "__repository__",
                         "jobName": "__ASSET_JOB", "assetSelection": [{"path": p} for p in asset_paths]},
            "mode": "default",
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
        }})["launchRun"]
        if data["__typename"] != "LaunchRunSuccess":
            raise ServiceError(f"launchRun failed: {data}")
        return data["run"]["runId"]

    def run(self, run_id: str) -> dict:
        """``runId``, ``status``, ``startTime``/``endTime`` (epoch s) of one run."""
        return self.graphql(RUN, {"id": run_id})["runOrError"]

    def wait_for_runs(self, run_ids: list[str], timeout: float = 300.0, poll: float = 2.0) -> list[dict]:
        """Poll until every run has a terminal status (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            runs = [self.run(r) for r in run_ids]
            if all(r["status"] in TERMINAL_RUN_STATUSES for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise ServiceError(f"runs not finished after {timeout:.0f}s: {runs}")
            time.sleep(poll)

    def backfill(self, backfill_id: str) -> dict:
        """The backfill's ``id``, ``status``, ``numPartitions`` and ``partitionNames``."""
        data = self.graphql(BACKFILL, {"id": backfill_id})["partitionBackfillOrError"]
        if data["__typename"] != "PartitionBackfill":
            raise ServiceError(f"backfill {backfill_id}: {data}")
        return data

    def backfill_runs(self, backfill_id: str) -> list[dict]:
        """The runs the backfill launched: ``runId``, ``status``, ``startTime``/``endTime`` (epoch s), ``tags``."""
        data = self.graphql(RUNS, {"filter": {"tags": [{"key": "dagster/backfill", "value": backfill_id}]}})
        return data["runsOrError"]["results"]

    def wait_for_backfills(self, backfill_ids: list[str], timeout: float = 300.0, poll: float = 2.0) -> dict[str, dict]:
        """Poll until every backfill has a terminal status and all its runs have finished (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            self._check_alive()
            states = {b: self.backfill(b) for b in backfill_ids}
            runs = {b: self.backfill_runs(b) for b in backfill_ids}
            done = all(s["status"] in TERMINAL_BACKFILL_STATUSES for s in states.values()) and all(
                r["status"] in TERMINAL_RUN_STATUSES for rs in runs.values() for r in rs)
            if done:
                return states
            if time.monotonic() > deadline:
                raise ServiceError(f"backfills not finished after {timeout:.0f}s: "
                                   f"{ {b: s['status'] for b, s in states.items()} }, runs {runs}")
            time.sleep(poll)

    def location_loaded(self) -> bool:
        data = self.graphql("""{ workspaceOrError { __typename ... on Workspace {
            locationEntries { name locationOrLoadError { __typename } } } } }""")
        entries = data["workspaceOrError"].get("locationEntries", [])
        states = {e["name"]: e["locationOrLoadError"] and e["locationOrLoadError"]["__typename"] for e in entries}
        if any(s == "PythonError" for s in states.values()):
            raise ServiceError(f"code location failed to load: {states}")
        return bool(states) and all(s == "RepositoryLocation" for s in states.values())


def prepare_home(dagster_home: Path) -> Path:
    """Create ``dagster_home`` with a copy of the project's instance configuration."""
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text(PROJECT_INSTANCE_YAML.read_text())
    return dagster_home


if __name__ == "__main__":  # pragma: no cover - manual use
    home, db = Path(sys.argv[1]).resolve(), str(Path(sys.argv[2]).resolve())
    services = DagsterServices(prepare_home(home), {"NBA_PRECOMPUTE_DUCKDB_PATH": db}, home.parent / f"{home.name}-logs")
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # SIGTERM stops the services too
    services.start()
    print(f"serving {services.url} (DAGSTER_HOME={home}); Ctrl-C to stop", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        services.stop()
