"""Same input, same tables to the last bit, whatever the thread count, the load, the input's row order
and chunking: the Phase 3 and Phase 4 transforms (TDZA, PSZA, PCF, PDC, MLFS) of two real weeks are
computed in fresh processes under POLARS_MAX_THREADS 1, 2, 4 and 8, several at a time (the load), with
the Phase 4 inputs as built and shuffled into random chunks (``determinism_worker``), and every output
frame's hash must be the same in every run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
THREADS = (1, 2, 4, 8)
SEEDS = (None, 11, 12)  # None: the frames as built
PARALLEL = 4  # runs at a time (the machine has fewer cores: the runs compete for them)


def test_tables_are_identical_across_thread_counts_load_and_input_order(raw_data_dir):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    jobs = [(t, seed) for seed in SEEDS for t in THREADS]
    results: dict[tuple, dict] = {}
    started = time.monotonic()
    running: list[tuple[tuple, subprocess.Popen]] = []
    while jobs or running:
        while jobs and len(running) < PARALLEL:
            t, seed = job = jobs.pop(0)
            cmd = [sys.executable, "-m", "nba_precompute_tests.end_to_end.determinism_worker", str(raw_data_dir),
                   *([str(seed)] if seed is not None else [])]
            running.append((job, subprocess.Popen(cmd, env={**env, "POLARS_MAX_THREADS": str(t)}, cwd=REPO_ROOT,
                                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
        job, proc = running.pop(0)
        out, err = proc.communicate(timeout=max(1.0, 90 - (time.monotonic() - started)))
        assert proc.returncode == 0, err[-2000:]
        results[job] = json.loads(out)
    assert time.monotonic() - started < 90
    assert {r["threads"] for r in results.values()} == set(THREADS)
    reference = results[(1, None)]
    assert reference["rows"]["mlfs"] > 1000 and reference["rows"]["pdc"] > 1000 and reference["rows"]["tdza"] > 100
    for job, r in results.items():
        differ = sorted(k for k, h in r["hashes"].items() if h != reference["hashes"][k])
        assert not differ, f"POLARS_MAX_THREADS={job[0]}, shuffle seed {job[1]}: {differ} differ from 1 thread"
