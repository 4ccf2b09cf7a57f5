"""``nba-precompute ui`` stopped with SIGTERM takes ``dg dev``, the webserver, the daemon and the code
server with it (they run in a session of their own, to which the signal is forwarded)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil

from nba_precompute_tests.ui.services import free_port

REPO_ROOT = Path(__file__).resolve().parents[2]


def _alive(pids: set[int]) -> set[int]:
    out = set()
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.add(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def _in_sessions(sessions: set[int]) -> set[int]:
    """The live processes (zombies excluded) whose session is one of ``sessions``."""
    out = set()
    for p in psutil.process_iter():
        try:
            if os.getsid(p.pid) in sessions and p.status() != psutil.STATUS_ZOMBIE:
                out.add(p.pid)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            pass
    return out


def test_sigterm_stops_every_process_of_the_ui(tmp_path, raw_data_dir):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO_ROOT / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_RAW_DATA_DIR": str(raw_data_dir),
           "NBA_PRECOMPUTE_DUCKDB_PATH": str(tmp_path / "ui.duckdb"),
           "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    code = "import sys; from nba_precompute.cli import main; sys.exit(main())"
    log = (tmp_path / "ui.log").open("wb")
    ui = subprocess.Popen([sys.executable, "-c", code, "ui", "--port", str(port)], cwd=REPO_ROOT, env=env,
                          stdout=log, stderr=subprocess.STDOUT)
    seen: set[int] = set()
    sessions: set[int] = set()
    try:
        deadline = time.monotonic() + 150
        answered = False
        while time.monotonic() < deadline and ui.poll() is None:
            for child in psutil.Process(ui.pid).children(recursive=True):
                seen.add(child.pid)
                try:
                    sessions.add(os.getsid(child.pid))
                except ProcessLookupError:
                    pass
            if not answered:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2) as r:
                        answered = r.status == 200
                except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                    pass
            # the webserver answers; wait for its code server too (dg, dagster dev, webserver, daemon,
            # code server: 5 processes), at most 30 s more
            if answered and (len(_alive(seen)) >= 5 or time.monotonic() > deadline - 120 + 30):
                break
            time.sleep(0.5)
        assert answered, f"the webserver never answered on port {port}: {(tmp_path / 'ui.log').read_text()[-2000:]}"
        assert ui.poll() is None
        assert sessions and ui.pid not in sessions  # dg dev runs in a session of its own
        running = _alive(seen)
        assert len(running) >= 3, running  # dg dev and at least the webserver and the daemon

        ui.send_signal(signal.SIGTERM)
        ui.wait(timeout=60)  # bounded: 20 s grace, then SIGKILL
        deadline = time.monotonic() + 10
        while (_alive(seen) or _in_sessions(sessions)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not _alive(seen), [psutil.Process(p).cmdline() for p in _alive(seen)]
        assert not _in_sessions(sessions)
    finally:
        for pid in _alive(seen | {ui.pid}) | _in_sessions(sessions - {os.getsid(0)}):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        log.close()
