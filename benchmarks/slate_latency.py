"""Latency of the morning automation: from a night's box scores landing in the raw directory to the next
slate's MLFS rows written, with the real Dagster daemon running the morning sensor.

    python benchmarks/slate_latency.py            # one measurement (~2-3 minutes in all)
    python benchmarks/slate_latency.py --runs 3

Each run: a fresh temporary raw directory holding 2025-26 with the box scores of 2026-02-09 onward held
back (``nba_precompute_tests/raw_copies.py``), a fresh ``DAGSTER_HOME`` (a copy of
``.dagster_home/dagster.yaml``) and DuckDB file, ``NBA_PRECOMPUTE_TODAY=2026-02-10`` (a replay), the
sensor started and the daemon launched (``nba_precompute_tests/ui/services.py``, the UI tests' harness). Once the daemon has caught the season up (the slate
of 2026-02-09 is in MLFS), the night of 2026-02-09 lands (the files are replaced whole) and the clock
starts; it stops when 2026-02-10 is a materialised MLFS partition. The figure includes the sensor's
tick interval (15 s). Prints every run with the load average; not a test (the end-to-end test is
``nba_precompute_tests/defs/test_automation.py``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from dagster import AssetKey, DagsterInstance  # noqa: E402

from nba_precompute.defs.automation import SENSOR_NAME  # noqa: E402
from nba_precompute_tests.raw_copies import season_copy  # noqa: E402
from nba_precompute_tests.ui.services import DagsterServices, prepare_home  # noqa: E402

MLFS = AssetKey(["nba_predictions", "ml_feature_store_v2"])
NIGHT, NEXT_SLATE = dt.date(2026, 2, 9), dt.date(2026, 2, 10)


def load() -> str:
    return " / ".join(Path("/proc/loadavg").read_text().split()[:3])


def _wait(instance: DagsterInstance, day: dt.date, timeout: float, daemon: DagsterServices) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        daemon.check_alive()  # ServiceError when the daemon exited
        if day.isoformat() in instance.get_materialized_partitions(MLFS):
            return time.monotonic() - started
        time.sleep(0.5)
    raise RuntimeError(f"MLFS {day} not materialised within {timeout:.0f} s")


def measure(raw_data: Path, workdir: Path) -> dict:
    raw = workdir / "raw"
    season_copy(raw_data, raw, 2025, NIGHT)
    home = prepare_home(workdir / "home")
    daemon = DagsterServices(home, {"NBA_RAW_DATA_DIR": str(raw), "NBA_PRECOMPUTE_TODAY": "2026-02-10",
                                    "NBA_PRECOMPUTE_DUCKDB_PATH": str(workdir / "warehouse.duckdb")},
                             workdir / "logs", webserver=False)
    os.environ["DAGSTER_HOME"] = str(home)  # the project's storage locates its files through it
    subprocess.run([str(Path(sys.executable).parent / "dagster"), "sensor", "start", SENSOR_NAME, "-w",
                    "workspace.yaml"], cwd=REPO_ROOT, env=daemon.environment(), check=True, capture_output=True)
    daemon.start()
    try:
        instance = DagsterInstance.from_config(str(home))
        catch_up = _wait(instance, NIGHT, 600, daemon)
        before = load()
        season_copy(raw_data, raw, 2025, NEXT_SLATE)  # the night of 2026-02-09 lands
        latency = _wait(instance, NEXT_SLATE, 600, daemon)
        return {"catch_up_s": catch_up, "latency_s": latency, "load_before": before, "load_after": load()}
    finally:
        daemon.stop()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=1)
    args = p.parse_args()
    raw_data = Path(os.environ.get("NBA_RAW_DATA_DIR", REPO_ROOT.parent / "shared" / "data" / "nba")).resolve()
    print(f"slate latency: load average at the start {load()}", flush=True)
    results = []
    for i in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="slate-latency-") as tmp:
            r = measure(raw_data, Path(tmp))
        results.append(r)
        print(f"run {i + 1}: night landed -> next slate's MLFS rows {r['latency_s']:.1f} s (load {r['load_before']} "
              f"-> {r['load_after']}); the daemon's first catch-up of the season took {r['catch_up_s']:.0f} s",
              flush=True)
    print(f"median {statistics.median(r['latency_s'] for r in results):.1f} s over {len(results)} run(s); "
          f"load average at the end {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
