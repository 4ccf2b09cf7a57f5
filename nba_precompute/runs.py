"""Dagster's ``dg`` commands as the project runs them: the ``dg launch`` runs of a request, their
command lines, their environment, and ``dg dev`` in a process session of its own.

Used by the ``nba-precompute`` commands ``launch``, ``refresh`` and ``ui``, and by the refresh plan
(:mod:`nba_precompute.refresh`). Nothing here imports Dagster (``dg`` loads it
in its own process), so a command that only plans runs starts in a fraction of a second.

* :func:`plan_runs`: one run per contiguous range of partitions (a season missing from the raw data
  splits a range); tonight's slate as a run of its own without the box-score tables, which wait for
  its box scores;
* :func:`around_blocked`: those runs without the partitions that read a quarantined raw row (issue 18:
  a bad row blocks only what reads it), split where the set of blocked tables changes;
* :func:`dg_command`: ``dg launch --assets SEL --partition D`` or ``--partition-range A...B`` (one
  single-run backfill of every selected asset over the range; Dagster does the work);
* :func:`project_env`: ``DAGSTER_HOME`` defaults to the project's instance ``./.dagster_home`` (when it
  is there), so the runs show in the UI afterwards; Dagster's beta warning of the asset-selection
  parser (:data:`DAGSTER_WARNING_FILTERS`) is kept out of the child's output;
* :func:`run_in_own_session`: ``dg dev`` and every process it starts stop together.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nba_precompute.partitions import BOX_SCORE_TABLES, GameCalendar, contiguous_spans

if TYPE_CHECKING:
    import polars as pl

    from nba_precompute.raw.quarantine import Quarantine

PROJECT_HOME = Path(".dagster_home")

# PYTHONWARNINGS filters (``action:message``, the message matched at its start) for Dagster's warnings
# that say nothing about the run: ``dg launch`` parses every ``--assets`` selection with a parameter in
# beta and warns on each run, ahead of the run's own lines; loading the definitions warns that the
# sensor's ``owners`` parameter is in beta (Dagster passes an empty list itself when it binds the
# resources of a sensor's jobs, ``SensorDefinition.with_updated_jobs``; the project sets no owners).
# Only these messages are ignored.
DAGSTER_WARNING_FILTERS = (
    "ignore:Parameter `include_sources` of function `AssetSelection.all` is currently in beta",
    "ignore:Parameter `owners` of initializer `SensorDefinition.__init__` is currently in beta",
)


def venv_executable(name: str) -> str | None:
    """The command ``name`` of this interpreter's environment (the venv's ``bin``), else the first on
    ``PATH``; ``None`` when there is none."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def dg_executable() -> str:
    """``dg`` as :func:`venv_executable` finds it (plain ``dg`` when it finds none)."""
    return venv_executable("dg") or "dg"


def dg_command(assets: str, days: Sequence[dt.date]) -> list[str]:
    """The ``dg launch`` command for ``assets`` over ``days`` (one partition or a partition range)."""
    span = (["--partition", days[0].isoformat()] if len(days) == 1
            else ["--partition-range", f"{days[0]}...{days[-1]}"])
    return [dg_executable(), "launch", "--assets", assets, *span]


def box_score_free(assets: str) -> str:
    """``assets`` without the box-score tables (the selection of tonight's pre-game run)."""
    keys = " or ".join(f'key:"{k}"' for k in BOX_SCORE_TABLES)
    return f"({assets}) and not ({keys})"


def plan_runs(calendar: GameCalendar, days: Sequence[dt.date], assets: str,
              box_scores_only: bool = False) -> list[tuple[str, list[dt.date]]]:
    """The ``dg launch`` runs of a request, in order: one run per contiguous range of ``days`` (a
    season missing from the raw data splits a range), and tonight's slate as a run of its own whose
    selection leaves out the box-score tables (tonight's box scores are not in yet).

    ``box_scores_only``: ``assets`` selects box-score tables only (the caller resolved it), so tonight's
    selection would select nothing and ``dg launch`` would refuse it: tonight gets no run. The result
    is empty when ``days`` is tonight alone.
    """
    runs: list[tuple[str, list[dt.date]]] = []
    for span in contiguous_spans(days):
        before = [d for d in span if d != calendar.tonight]  # tonight is the horizon: a span's last day
        if before:
            runs.append((assets, before))
        if calendar.tonight in span and not box_scores_only:
            runs.append((box_score_free(assets), [calendar.tonight]))
    return runs


def without(assets: str, keys: Sequence[str]) -> str:
    """``assets`` without the asset keys ``keys`` (``"schema/table"``); ``assets`` itself when ``keys`` is empty."""
    if not keys:
        return assets
    names = " or ".join(f'key:"{k}"' for k in keys)
    return f"({assets}) and not ({names})"


def same_day_upstream() -> dict[str, list[str]]:
    """Per table (qualified name), the tables whose partition of the same day D its partition D reads
    from the warehouse: a blocked partition of one of those blocks it too. The Phase 4 tables: their
    declared upstreams with a ``same_day`` or ``through`` window (``defs/phase4/tables.py``); the two
    upcoming contexts: the schedule through D (``defs/phase3.py``). The box-score tables read the raw
    files only. (``nba_precompute_tests/test_runs.py`` checks this against the asset graph's partition
    mappings.)"""
    from nba_precompute.defs.phase4.tables import PHASE4_TABLES, SAME_DAY, THROUGH
    from nba_precompute.schemas import NBA_SCHEDULE, UPCOMING_PLAYER_GAME_CONTEXT, UPCOMING_TEAM_GAME_CONTEXT

    upcoming = {t.qualified_name: [NBA_SCHEDULE.qualified_name]
                for t in (UPCOMING_TEAM_GAME_CONTEXT, UPCOMING_PLAYER_GAME_CONTEXT)}
    return {**upcoming, **{t.spec.qualified_name: [u.table.qualified_name for u in t.upstream
                                                   if u.window in (SAME_DAY, THROUGH)] for t in PHASE4_TABLES}}


def around_blocked(planned: Sequence[tuple[str, Sequence[dt.date]]], tables: Collection[str],
                   tonight: dt.date | None, quarantine: Quarantine) -> tuple[list[tuple[str, list[dt.date]]], pl.DataFrame]:
    """The runs of ``planned`` (:func:`plan_runs`) without the partitions a quarantined raw row blocks.

    ``tables``: the table asset keys (``"schema/table"``) the selection of ``planned`` selects (tonight's
    run, ``[tonight]`` alone, selects them without the box-score tables). Each run is split into ranges
    of consecutive days with the same blocked tables (``raw.quarantine.plan_around``; a partition reading
    a blocked partition of its own day is blocked too: :func:`same_day_upstream`); a range's run
    leaves its blocked tables out of the selection (``(SEL) and not (key:"..." ...)``), and a range on
    which every table of the run is blocked has no run.

    Returns the runs, in order, and the blocked partitions of the request (rows of
    ``Quarantine.blocked``; empty when nothing requested is blocked, and then the runs are ``planned``).
    """
    import polars as pl

    from nba_precompute.raw.quarantine import BLOCKED_SCHEMA, plan_around

    if quarantine.blocked.is_empty():
        return [(assets, list(span)) for assets, span in planned], pl.DataFrame(schema=BLOCKED_SCHEMA)
    out: list[tuple[str, list[dt.date]]] = []
    hits, upstream = [], same_day_upstream()
    for assets, span in planned:  # a few runs
        keys = sorted(t for t in tables if not (list(span) == [tonight] and t in BOX_SCORE_TABLES))
        plan = plan_around(quarantine, [k.replace("/", ".") for k in keys], span, upstream)
        hits.append(plan.blocked)
        for keep, days in plan.runs:
            kept = {t.replace(".", "/") for t in keep}
            out.append((without(assets, [k for k in keys if k not in kept]), days))
    return out, pl.concat(hits).unique().sort("row", "partition_date", "table_name")


def run_commands(runs: Sequence[tuple[str, Sequence[dt.date]]], env: dict[str, str]) -> int:
    """Run ``dg launch`` for each ``(assets, days)`` in order, stopping at the first failure; returns
    the exit status of the last command run (0 when every run succeeded)."""
    code = 0
    for assets, span in runs:
        code = subprocess.call(dg_command(assets, span), env=env)
        if code != 0:
            break
    return code


def project_env() -> tuple[dict[str, str], str]:
    """The environment for Dagster's commands: ``DAGSTER_HOME`` defaults to the project's instance
    ``./.dagster_home`` (when it is there), so runs and the UI share one instance. Returns the
    environment and the default it applied (empty when ``DAGSTER_HOME`` was set or no instance is here).

    ``PYTHONWARNINGS`` gets :data:`DAGSTER_WARNING_FILTERS` after any filters already set there.
    """
    env = dict(os.environ)
    env["PYTHONWARNINGS"] = ",".join(f for f in (env.get("PYTHONWARNINGS", ""), *DAGSTER_WARNING_FILTERS) if f)
    if not env.get("DAGSTER_HOME") and (PROJECT_HOME / "dagster.yaml").exists():
        env["DAGSTER_HOME"] = str(PROJECT_HOME.resolve())
        return env, env["DAGSTER_HOME"]
    return env, ""



STOP_GRACE_SECONDS = 20.0  # after a stop signal, how long dg dev and its processes get to exit before SIGKILL
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def session_processes(sid: int) -> list[int]:
    """The processes of session ``sid`` still alive (zombies excluded), from ``/proc`` (Linux); where there
    is no ``/proc``, ``[sid]`` while the process group ``sid`` exists."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(sid, 0)
        except (ProcessLookupError, PermissionError):
            return []
        return [sid]
    found = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid pgrp session ...
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def _signal_session(sid: int, signum: int) -> None:
    """Send ``signum`` to the process group ``sid`` and to every other process left in session ``sid``."""
    for target in (sid, *session_processes(sid)):
        try:
            (os.killpg if target == sid else os.kill)(target, signum)
        except (ProcessLookupError, PermissionError):
            pass


def run_in_own_session(cmd: Sequence[str], env: dict[str, str], grace: float = STOP_GRACE_SECONDS) -> int:
    """Run ``cmd`` (``dg dev``: it starts the webserver, the daemon and the code server) in a session and
    process group of its own, and stop all of them with it.

    SIGTERM, SIGINT and SIGHUP received here are forwarded to the whole group (a terminal's Ctrl-C no
    longer reaches it directly: it is in another session). After a stop signal, or when ``cmd`` exits,
    what is left of the session gets ``grace`` seconds to exit and is then killed (SIGKILL). Returns the
    exit status of ``cmd`` (128 + signal number when a forwarded signal stopped it, as a shell says).
    """
    proc = subprocess.Popen(list(cmd), env=env, start_new_session=True)
    stopped: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        stopped.append(signum)
        _signal_session(proc.pid, signum)

    previous = {s: signal.signal(s, forward) for s in FORWARDED_SIGNALS}
    try:
        kill_at = None
        while True:
            try:
                code = proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if stopped and kill_at is None:
                    kill_at = time.monotonic() + grace
                if kill_at is not None and time.monotonic() > kill_at:
                    _signal_session(proc.pid, signal.SIGKILL)
        deadline = kill_at if kill_at is not None else time.monotonic() + grace
        while session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if session_processes(proc.pid):
            _signal_session(proc.pid, signal.SIGKILL)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 + stopped[0] if stopped and code < 0 else code

