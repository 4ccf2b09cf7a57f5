"""Start and stop the local BigQuery emulator (``bqemulator`` from PyPI) for the contract tests.

The emulator lives in its own virtual environment (it pins ``duckdb==1.5.5``), installed by
``.ci/setup-bqemulator [VENV]``. It is found through ``NBA_PRECOMPUTE_BQEMULATOR_VENV`` or, by default,
``.bqemu-venv`` / ``.ci-bqemu-venv`` in the repository root, and runs as a separate process on
127.0.0.1 (a free port), ephemeral (in memory), torn down after the session.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 90.0


def emulator_venv() -> Path | None:
    """The emulator's virtual environment, or None when it is not installed."""
    candidates = [os.environ.get("NBA_PRECOMPUTE_BQEMULATOR_VENV"), REPO_ROOT / ".bqemu-venv",
                  REPO_ROOT / ".ci-bqemu-venv"]
    for c in candidates:
        if c and (Path(c) / "bin" / "bqemulator").exists():
            return Path(c).resolve()
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_emulator(venv: Path, log_path: Path, project: str = "nba-contract"):
    """Run ``bqemulator start`` on 127.0.0.1 and yield its REST endpoint URL.

    Raises:
        RuntimeError: the emulator exited or did not answer ``/healthz`` within START_TIMEOUT_S
            (the message includes the end of its log).
    """
    port = _free_port()
    env = {**os.environ, "HOME": str(venv / "home")}
    env.pop("BIGQUERY_EMULATOR_HOST", None)
    cmd = [str(venv / "bin" / "bqemulator"), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port),
           "--grpc-host", "127.0.0.1", "--grpc-port", "0", "--ephemeral", "--project", project,
           "--log-level", "warning"]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"bqemulator exited with {proc.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"bqemulator did not start within {START_TIMEOUT_S:.0f}s: "
                                   f"{log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
