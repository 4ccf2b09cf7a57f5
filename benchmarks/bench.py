"""Benchmark: the main command side by side with what it is made of, and PSZA three ways.

Run from the repository root with the ``dev`` extra installed (``NBA_RAW_DATA_DIR`` set, or the raw
data at ``../shared/data/nba``); ``python -m benchmarks.bench`` is the same command::

    python benchmarks/bench.py                     # 3 runs of everything, Markdown table on stdout
    python benchmarks/bench.py --runs 5 --json bench.json
    python benchmarks/bench.py --quick             # 1 run, 4 legacy dates, transforms on one season only
    python benchmarks/bench.py --skip-all-seasons  # everything but the all-seasons runs (1,358 partitions)
    python benchmarks/bench.py --from-json bench.json   # the report of saved results, nothing measured

Slow parts can be skipped one by one: ``--skip-season``, ``--skip-all-seasons``, ``--skip-one-date``,
``--skip-plain``, ``--skip-floor``, ``--skip-transforms``, ``--skip-legacy``, ``--skip-duckdb``
(``--skip-dagster``: every item run through Dagster); ``--keep DIR`` keeps the logs, instances and
warehouses of the runs.

One invocation measures, ``--runs`` times each (the median is reported, with every run), the runs of
the different items interleaved (run 1 of every item, then run 2, ...) so that a change of the
machine's load hits them alike:

1. **Main command, 2022-23 season**: ``nba-precompute launch --season 2022-23`` (``dg launch --assets
   '*'`` over the season's 371 partitions, every calendar day from opening night to the day before the
   next season's: every asset and check, one run), in a subprocess started in
   the repository root (so that ``.env`` applies, as for a user) with a fresh ``DAGSTER_HOME`` holding a
   copy of ``.dagster_home/dagster.yaml`` and a fresh DuckDB file. Figures: wall time, the time until
   Dagster's first ``RUN_START`` event and the runs' own durations (``RUN_START`` to ``RUN_SUCCESS``, read
   from the instance's event log afterwards), the events the runs stored, and the peak RSS of the process
   tree (psutil, every 50 ms). A command may make several ``dg launch`` runs (:func:`instance_run_summary`:
   every run the command added to the instance counts; events and durations are summed over them, and
   each run's own figures are kept under ``per_run``).
2. **Main command, all seasons**: ``nba-precompute launch --all-seasons``, same figures: 1,358 partitions
   in 3 runs (the raw data lacks 2021-22, which splits the range, and tonight's slate is a run of its
   own without the box-score tables).
3. **One date** (the nightly case), ``nba-precompute launch <date>``: 2023-02-01 on the warehouse and
   instance left by run 1, and the newest partition (tonight's slate when the raw data has one: its
   pre-game tables only) on those left by run 2.
4. **Plain Python driver** (:mod:`benchmarks.bench_plain`): the same asset and check bodies over the
   2022-23 season in topological order without Dagster's run machinery, into a fresh DuckDB file, in a
   fresh process (``benchmarks/bench.py --plain-worker``): wall time of the process, peak RSS,
   and inside it the time to load the definitions and the time of the bodies. Then one date (2023-02-01)
   on the warehouse it wrote, which also counts the DuckDB schema set-ups a run makes on an existing
   warehouse (``DuckDBWarehouse._ensure`` calls). The ratio main command / plain driver is what Dagster's
   bookkeeping costs.
5. **Framework floor** (:mod:`benchmarks.bench_floor`): the same graph with no-op bodies, generated
   as a module in a temp directory and launched with ``dg launch --assets '*' --partition-range ... -f
   <module>`` over the 2022-23 season, like item 1 (fresh ``DAGSTER_HOME``, repository root): what
   Dagster costs with zero work.
6. **Phase 4 transforms alone**: each of the five Polars transforms (``PHASE4_TABLES``, in declaration
   order, each fed the rows of the ones before) on in-memory Phase 3 frames built outside the timing with
   the assets' own calls (``RawDataResource.phase3_inputs`` and the Phase 3 builders), over the 2022-23
   season and over every season of the data, each in a fresh process: time, RSS growth during the call,
   the process's peak RSS. The all-seasons frames replace the former synthetic scaling (one season
   stacked 2x / 4x with shifted dates): they are what the all-seasons command really feeds the transforms
   (2020-21 from its trimmed source, seasons without a shot chart, seasons of different lengths), and
   one season vs ~4.5 seasons of rows shows the scaling as well.
7. **Legacy PSZA**: per date, a rank-<=20 extract of the player's played games, then a Python loop over
   the players computing the zone metrics with pandas (:func:`legacy_psza_for_date`), on sampled dates;
   the mean per date times the game dates of the season (164, not its 371 partitions) is the season
   estimate (the legacy backfill ran one date per game date). One process.
8. **DuckDB SQL PSZA** (:data:`DUCKDB_PSZA_SQL`), the season's partitions.

Items 6, 7 and 8 must agree on PSZA (same keys and INCOMPLETE_DATA players, numbers within 1e-9, labels
exactly). The report gives the machine, the library versions and the load average at the start and
at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import logging
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:  # run as a script: the repository's packages, and benchmarks/
    sys.path.insert(0, str(REPO_ROOT))

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import polars as pl  # noqa: E402
import psutil  # noqa: E402

from nba_precompute import config  # noqa: E402
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, Phase4Table  # noqa: E402
from nba_precompute.partitions import game_calendar  # noqa: E402
from nba_precompute.runs import dg_executable, venv_executable  # noqa: E402
from nba_precompute.schemas import (  # noqa: E402
    NBA_SCHEDULE,
    PLAYER_GAME_SUMMARY,
    TEAM_DEFENSE_GAME_SUMMARY,
    TEAM_OFFENSE_GAME_SUMMARY,
    UPCOMING_PLAYER_GAME_CONTEXT,
    UPCOMING_TEAM_GAME_CONTEXT,
    is_regular_season,
)
from nba_precompute.transforms import phase3  # noqa: E402
from nba_precompute.transforms.common import season_calendar  # noqa: E402
from nba_precompute.transforms.psza import (  # noqa: E402
    MIN_GAMES,
    MIN_GAMES_20,
    PRIMARY_MID,
    PRIMARY_PAINT,
    PRIMARY_THREE,
    WINDOW,
    WINDOW_20,
)

BENCH_SCRIPT = Path(__file__).resolve()  # this file: the workers of items 4 and 6 run it in a fresh process
BENCH_SEASON = "2022-23"  # the season of items 1, 4, 5, 6, 7, 8 (box scores and shot chart)
NIGHTLY_DATE = "2023-02-01"  # the one-date run on the season's warehouse (item 3)
TOLERANCE = 1e-9
RSS_INTERVAL_S = 0.05

TARGETS = {
    "season_wall_s": 15.0,              # item 1, median
    "season_vs_plain": 2.0,             # item 1 / item 4 (process wall times, medians)
    "all_seasons_wall_s": 60.0,         # item 2
    "all_seasons_peak_rss_gb": 2.0,     # item 2, max over runs
    "one_date_wall_s": 5.0,             # item 3
    "schema_setups_existing": 0,        # item 4, one date on an existing warehouse
    "psza_transform_s": 1.0,            # item 6, season
    "all_transforms_s": 5.0,            # item 6, season, sum of medians
    "legacy_speedup": 100.0,            # item 7 season estimate / item 6 PSZA
    "duckdb_ratio": 1.0,                # item 6 PSZA / item 8
}


# --------------------------------------------------------------------------------------------------
# measuring


class PeakRSS:
    """Context manager sampling the RSS of a process and its children every ``interval`` seconds.

    ``peak`` is the largest sum over the tree seen (bytes), ``peak_single`` the largest RSS of one
    process; ``baseline`` the sum on entry, so ``peak - baseline`` is the growth during the block.
    """

    def __init__(self, pid: int | None = None, interval: float = RSS_INTERVAL_S):
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak = 0
        self.peak_single = 0
        self.baseline = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def sample(self) -> int:
        try:
            proc = psutil.Process(self.pid)
            procs = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            return 0
        total = 0
        for p in procs:
            try:
                rss = p.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            self.peak_single = max(self.peak_single, rss)
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.sample())
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:  # noqa: PYI034 (a plain class, not meant for subclassing)
        self.baseline = self.sample()
        self.peak = self.baseline
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak = max(self.peak, self.sample())


def timed(fn: Callable[[], object]) -> tuple[float, int, object]:
    """(wall seconds, peak RSS growth in bytes, result) of one call."""
    with PeakRSS(interval=0.02) as mem:
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
    return wall, mem.peak - mem.baseline, result


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_info() -> dict[str, object]:
    """Cores, memory, CPU model, OS and library versions of this machine."""
    import dagster

    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return {
        "logical_cores": os.cpu_count(),
        "physical_cores": psutil.cpu_count(logical=False),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "cpu": model,
        "os": platform.platform(),
        "python": platform.python_version(),
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
        "pandas": pd.__version__,
        "dagster": dagster.__version__,
    }


def run_measured(cmd: Sequence[str], env: dict[str, str], log_path: Path, cwd: Path = REPO_ROOT,
                 home: Path | None = None) -> dict[str, object]:
    """Run ``cmd`` in ``cwd`` (default: the repository root), output to ``log_path``, sampling the RSS
    of its process tree.

    Returns ``wall_s``, ``peak_rss_bytes`` (sum over the tree), ``peak_rss_single_bytes``,
    ``load_average`` (when it started) and, when ``home`` is the run's ``DAGSTER_HOME``, the figures of
    :func:`run_summary` over every run the command added to that instance (``run_start_s`` measured
    from the launch). Raises RuntimeError when the command fails.
    """
    known = run_ids(home) if home is not None else set()
    load = load_average()
    launched_at = time.time()
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT)
        with PeakRSS(proc.pid) as mem:
            rc = proc.wait()
        wall = time.perf_counter() - t0
        ended_at = time.time()
    if rc != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-20:])
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited with {rc}; log {log_path}:\n{tail}")
    out: dict[str, object] = {"wall_s": wall, "peak_rss_bytes": mem.peak, "peak_rss_single_bytes": mem.peak_single,
                              "load_average": load}
    if home is not None:
        out.update(run_summary(home, launched_at, ended_at, known=known))
    return out


@contextlib.contextmanager
def _dagster_home(home: Path) -> Iterator[None]:
    """``DAGSTER_HOME=home`` in this process's environment for the block (the project's instance
    configuration reads it)."""
    before = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = before


@contextlib.contextmanager
def _instance(home: Path) -> Iterator[object]:
    """The :class:`dagster.DagsterInstance` of ``home`` for the block (disposed after it)."""
    from dagster import DagsterInstance

    with _dagster_home(home):
        instance = DagsterInstance.from_config(str(home))
        try:
            yield instance
        finally:
            instance.dispose()


def run_ids(home: Path) -> set[str]:
    """The ids of every run in the instance of ``home``; none, without opening it, when it holds no run
    storage yet (a fresh home: opening it would create the storage outside the measured command)."""
    if not (home / "history").exists():
        return set()
    with _instance(home) as instance:
        return {r.run_id for r in instance.get_runs()}


def run_summary(home: Path, launched_at: float | None = None, ended_at: float | None = None,
                known: set[str] | frozenset[str] = frozenset()) -> dict[str, object]:
    """:func:`instance_run_summary` of the instance in ``home``: the figures of its runs not in ``known``
    (the runs one command made, given the ids that were there before it)."""
    with _instance(home) as instance:
        return instance_run_summary(instance, launched_at, ended_at=ended_at, known=known)


def _one_run(instance, run) -> dict[str, object]:
    """Figures of one run from its event log (see :func:`instance_run_summary`)."""
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    step_start: dict[str, float] = {}
    steps_s = 0.0
    events = 0
    for entry in instance.all_logs(run.run_id):
        if entry.dagster_event is None:
            continue
        events += 1
        kind = entry.dagster_event.event_type.name  # RUN_START (stored as PIPELINE_START), STEP_START...
        counts[kind] = counts.get(kind, 0) + 1
        first.setdefault(kind, entry.timestamp)
        if kind == "STEP_START":
            step_start[entry.step_key] = entry.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in step_start:
            steps_s += entry.timestamp - step_start.pop(entry.step_key)
    end = first.get("RUN_SUCCESS", first.get("RUN_FAILURE"))
    start = first.get("RUN_START")
    return {
        "run_id": run.run_id,
        "run_status": run.status.value,
        # a range run (``--partition-range``) has the range tags, a one-partition run (``--partition``) the other
        "partition_range": [run.tags.get("dagster/asset_partition_range_start", run.tags.get("dagster/partition")),
                            run.tags.get("dagster/asset_partition_range_end", run.tags.get("dagster/partition"))],
        "events": events,
        "materializations": counts.get("ASSET_MATERIALIZATION", 0),
        "check_evaluations": counts.get("ASSET_CHECK_EVALUATION", 0),
        "run_s": (end - start) if end is not None and start is not None else None,
        "steps_s": steps_s,
        "started_at": start,
        "ended_at": end,
    }


def instance_run_summary(instance, launched_at: float | None = None, ended_at: float | None = None,
                         known: set[str] | frozenset[str] = frozenset()) -> dict[str, object]:
    """Figures of the runs of a :class:`dagster.DagsterInstance` whose ids are not in ``known`` (every run
    of the instance when ``known`` is empty): what one command made, which may be several ``dg launch``
    runs (``nba-precompute launch --all-seasons``: 3).

    Totals over those runs: ``runs`` (how many), ``run_status`` (``SUCCESS`` when every run succeeded,
    else the first other status), ``events`` (every event the runs stored), ``materializations``,
    ``check_evaluations``, ``run_s`` (sum over the runs of ``RUN_START`` to ``RUN_SUCCESS`` /
    ``RUN_FAILURE``; ``None`` when a run has no such pair), ``steps_s`` (sum over every step of
    ``STEP_START`` to ``STEP_SUCCESS`` / ``STEP_FAILURE``), ``runs_span_s`` (first ``RUN_START`` to the
    last run's end: the runs' durations plus the time between them, from one run's end to the next
    ``dg launch``'s ``RUN_START``) and, given the command's start and end (epoch seconds),
    ``run_start_s`` (seconds from the launch to the first ``RUN_START``) and ``after_run_s`` (from the
    last run's end to the command's exit). ``per_run``: the same figures of each run, oldest first
    (``run_id``, ``partition_range``, ``run_status``, ``events``, ``run_s``...).
    """
    runs = [r for r in reversed(instance.get_runs()) if r.run_id not in known]  # oldest first
    if not runs:
        raise RuntimeError("no new run in the instance")
    per_run = [_one_run(instance, run) for run in runs]
    starts = [x["started_at"] for x in per_run if x["started_at"] is not None]
    ends = [x["ended_at"] for x in per_run if x["ended_at"] is not None]
    durations = [x["run_s"] for x in per_run]
    not_ok = [x["run_status"] for x in per_run if x["run_status"] != "SUCCESS"]
    out: dict[str, object] = {
        "runs": len(per_run),
        "run_status": not_ok[0] if not_ok else "SUCCESS",
        "events": sum(x["events"] for x in per_run),
        "materializations": sum(x["materializations"] for x in per_run),
        "check_evaluations": sum(x["check_evaluations"] for x in per_run),
        "run_s": sum(durations) if None not in durations else None,
        "steps_s": sum(x["steps_s"] for x in per_run),
        "runs_span_s": (max(ends) - min(starts)) if starts and ends else None,
        "per_run": per_run,
    }
    if launched_at is not None:
        out["run_start_s"] = min(starts) - launched_at if starts else None
        out["after_run_s"] = ((ended_at if ended_at is not None else time.time()) - max(ends)) if ends else None
    return out


# --------------------------------------------------------------------------------------------------
# items 1, 2, 3, 5: through Dagster


def fresh_home(directory: Path) -> Path:
    """A new ``DAGSTER_HOME`` under ``directory`` holding a copy of the project's
    ``.dagster_home/dagster.yaml`` (an empty directory, Dagster's defaults, when there is none)."""
    home = directory / "dagster_home"
    home.mkdir(parents=True)
    repo_yaml = REPO_ROOT / ".dagster_home" / "dagster.yaml"
    if repo_yaml.exists():
        shutil.copy(repo_yaml, home / "dagster.yaml")
    return home


def bench_env(home: Path, raw_dir: Path, duckdb_path: Path | None = None) -> dict[str, str]:
    """The environment of a measured command: the user's, with this run's instance, raw data and
    DuckDB file (the embedded warehouse, whatever ``NBA_PRECOMPUTE_WAREHOUSE`` says)."""
    env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_RAW_DATA_DIR": str(raw_dir.resolve()),
           "NBA_PRECOMPUTE_WAREHOUSE": "duckdb"}
    if duckdb_path is not None:
        env["NBA_PRECOMPUTE_DUCKDB_PATH"] = str(duckdb_path)
    return env


def main_command(*args: str) -> list[str]:
    """``nba-precompute launch ARGS`` (the console script next to this interpreter)."""
    exe = venv_executable("nba-precompute")
    return [exe, "launch", *args] if exe else [sys.executable, "-m", "nba_precompute.cli", "launch", *args]


def floor_command(module: Path, first: str, last: str) -> list[str]:
    """``dg launch --assets '*' --partition-range FIRST...LAST -f MODULE`` (the floor of item 5)."""
    return [dg_executable(), "launch", "--assets", "*", "--partition-range", f"{first}...{last}",
            "-f", str(module)]


def _dagster_runs_note(r: dict) -> str:
    """The Dagster figures of one measured command: one run, or several (durations summed, each listed)."""
    start = _fmt_s(r.get("run_start_s"))
    if r.get("runs", 1) == 1:
        return f"RUN_START after {start}, run {_fmt_s(r.get('run_s'))}, {r['events']} events"
    each = " + ".join(_fmt_s(x["run_s"]).removesuffix(" s") for x in r.get("per_run", []))
    return (f"{r['runs']} Dagster runs: first RUN_START after {start}, runs {_fmt_s(r.get('run_s'))} summed "
            f"({each} s), {r['events']} events in all")


def _note(item: str, i: int, runs: int, r: dict) -> None:
    parts = [f"{r['wall_s']:.1f} s"]
    if r.get("run_start_s") is not None:
        parts.append(_dagster_runs_note(r))
    if "bodies_s" in r:
        parts.append(f"definitions {r['definitions_s']:.1f} s, bodies {r['bodies_s']:.1f} s")
    parts.append(f"peak RSS {r['peak_rss_bytes'] / 1e9:.2f} GB, load {r['load_average'][0]}")
    print(f"  [{item}] run {i + 1}/{runs}: " + ", ".join(parts), file=sys.stderr)


def plain_worker_command(first: str, last: str, duckdb_path: Path, report: Path) -> list[str]:
    """``python benchmarks/bench.py --plain-worker FIRST LAST DUCKDB REPORT`` (item 4)."""
    return [sys.executable, str(BENCH_SCRIPT), "--plain-worker", first, last, str(duckdb_path), str(report)]


def run_plain_measured(first: str, last: str, duckdb_path: Path, raw_dir: Path, log_path: Path) -> dict[str, object]:
    """Item 4 in a fresh process: :func:`run_measured` of the plain worker plus what it reports
    (``definitions_s``, ``bodies_s``, ``schema_setups``, ``steps``...)."""
    env = {**os.environ, "NBA_RAW_DATA_DIR": str(raw_dir.resolve()), "NBA_PRECOMPUTE_WAREHOUSE": "duckdb"}
    report = log_path.with_suffix(".json")
    out = run_measured(plain_worker_command(first, last, duckdb_path, report), env, log_path)
    out.update(json.loads(report.read_text()))
    return out


@dataclass
class Plan:
    """What one benchmark invocation measures."""

    runs: int = 3
    season: bool = True
    all_seasons: bool = True
    one_date: bool = True
    plain: bool = True
    floor: bool = True
    transforms: bool = True
    transforms_all_seasons: bool = True
    legacy: bool = True
    duckdb: bool = True
    legacy_dates: int = 10
    nightly_date: str = NIGHTLY_DATE
    keep: Path | None = None  # keep every run directory (logs, instances, warehouses) under this path


@dataclass
class Scope:
    """The partitions of the benchmark: the season's and all of them (every calendar day a partition;
    ``*_game_dates``: how many of them have a regular-season game; ``tonight``: tonight's slate, the
    newest partition, when the raw data has one)."""

    season: tuple[str, str]
    season_partitions: int
    all_first: str
    all_last: str
    all_partitions: int
    season_game_dates: int | None = None
    all_game_dates: int | None = None
    tonight: str | None = None

    @classmethod
    def of(cls, raw_dir: Path) -> Scope:
        cal = game_calendar(raw_dir)
        days, _ = cal.select(season=BENCH_SEASON)
        games = set(cal.game_dates)
        return cls((days[0].isoformat(), days[-1].isoformat()), len(days), cal.first.isoformat(),
                   cal.last.isoformat(), len(cal.partition_days), sum(d in games for d in days), len(games),
                   cal.tonight.isoformat() if cal.tonight else None)


def bench_launched(plan: Plan, scope: Scope, raw_dir: Path, workdir: Path) -> dict[str, list[dict]]:
    """Items 1-5, ``plan.runs`` times, interleaved; every Dagster run with a fresh ``DAGSTER_HOME``
    (items 3 reuse the instance and warehouse of items 1 and 2), every plain run in a fresh process."""
    from benchmarks.bench_floor import write_floor_module

    out: dict[str, list[dict]] = {k: [] for k in ("season", "one_date_season", "all_seasons", "one_date_newest",
                                                  "plain", "plain_one_date", "floor")}
    floor_module = write_floor_module(workdir / "floor") if plan.floor else None
    first, last = scope.season
    # items 1 and 2 (the main command over a season / every season), each followed by its item 3:
    # (run directory and result key, label, arguments, item 3's date, item 3's result key)
    launched = [spec for on, spec in (
        (plan.season, ("season", "1 season", ("--season", BENCH_SEASON), plan.nightly_date, "one_date_season")),
        (plan.all_seasons, ("all_seasons", "2 all seasons", ("--all-seasons",), scope.all_last, "one_date_newest")),
    ) if on]
    for i in range(plan.runs):
        run_dir = workdir / f"run_{i + 1}"
        for name, item, args, one_date, one_date_key in launched:
            d = run_dir / name
            home = fresh_home(d)
            env = bench_env(home, raw_dir, d / "warehouse.duckdb")
            r = run_measured(main_command(*args), env, d / f"{name}.log", home=home)
            out[name].append(r)
            _note(item, i, plan.runs, r)
            if plan.one_date:  # item 3 on the instance and warehouse just written
                r = run_measured(main_command(one_date), env, d / "one_date.log", home=home)
                out[one_date_key].append(r)
                _note(f"3 {one_date}", i, plan.runs, r)
        if plan.plain:
            d = run_dir / "plain"
            d.mkdir(parents=True)
            r = run_plain_measured(first, last, d / "warehouse.duckdb", raw_dir, d / "season.log")
            out["plain"].append(r)
            _note("4 plain season", i, plan.runs, r)
            if plan.one_date:
                r = run_plain_measured(plan.nightly_date, plan.nightly_date, d / "warehouse.duckdb", raw_dir,
                                       d / "one_date.log")
                out["plain_one_date"].append(r)
                _note(f"4 plain {plan.nightly_date}", i, plan.runs, r)
        if floor_module is not None:
            d = run_dir / "floor"
            home = fresh_home(d)
            r = run_measured(floor_command(floor_module, first, last), bench_env(home, raw_dir), d / "floor.log",
                             home=home)
            out["floor"].append(r)
            _note("5 floor", i, plan.runs, r)
        if plan.keep is None:
            shutil.rmtree(run_dir, ignore_errors=True)
    return {k: v for k, v in out.items() if v}


# --------------------------------------------------------------------------------------------------
# item 6: the Phase 4 transforms alone

def build_phase3_frames(raw_dir: Path, start: dt.date, end: dt.date) -> dict[str, pl.DataFrame]:
    """The Phase 3 tables over [start, end], keyed by qualified table name, computed the way the
    assets compute them: the raw inputs from ``RawDataResource.phase3_inputs`` (every season's source,
    checked against the domain rules) and the same builder calls as the Phase 3 asset bodies (the
    upcoming contexts from the built schedule, as the assets read it back from the warehouse).

    Raises ``RawDataError`` when a raw file is unusable.
    """
    from nba_precompute.defs.resources import RawDataResource

    raw = RawDataResource(directory=str(raw_dir)).phase3_inputs(start, end)
    schedule = phase3.build_schedule(raw.schedule, start, end)
    player_games = phase3.build_player_game_summary(raw.player_boxscores, raw.team_game_logs, raw.schedule,
                                                    raw.shots, start, end, shot_seasons=raw.shot_seasons)
    team_offense = phase3.build_team_offense_game_summary(raw.team_game_logs, raw.schedule, start, end)
    team_defense = phase3.build_team_defense_game_summary(raw.team_game_logs, raw.schedule, raw.shots, start, end,
                                                          shot_seasons=raw.shot_seasons)
    return {
        NBA_SCHEDULE.qualified_name: schedule,
        PLAYER_GAME_SUMMARY.qualified_name: player_games,
        TEAM_OFFENSE_GAME_SUMMARY.qualified_name: team_offense,
        TEAM_DEFENSE_GAME_SUMMARY.qualified_name: team_defense,
        UPCOMING_TEAM_GAME_CONTEXT.qualified_name: phase3.build_upcoming_team_game_context(schedule, start, end),
        UPCOMING_PLAYER_GAME_CONTEXT.qualified_name: phase3.build_upcoming_player_game_context(
            player_games, team_offense, schedule, start, end),
    }


def transform_inputs(table: Phase4Table, tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    """The upstream keyword arguments of ``table``'s transform, as its asset reads them
    (``factory.read_inputs``): each declared upstream with a parameter, from ``tables`` (keyed by
    qualified table name: the Phase 3 frames and the rows of the transforms before it), projected on
    the declared columns. The frames span the whole computation (from the first season's opening
    night), so every window is the frame itself.

    Raises:
        KeyError: an upstream table is not in ``tables`` (the message names it).
    """
    out: dict[str, pl.DataFrame] = {}
    for u in table.upstream:
        if u.param is None:
            continue
        name = u.table.qualified_name
        if name not in tables:
            raise KeyError(f"{table.abbreviation}: no input for {name} (parameter {u.param})")
        frame = tables[name]
        out[u.param] = frame.select(list(u.columns)) if u.columns else frame
    return out


def run_transforms(tables: dict[str, pl.DataFrame], start: dt.date, end: dt.date, runs: int,
                   dates: Sequence[dt.date] | None = None,
                   declared: Sequence[Phase4Table] = PHASE4_TABLES) -> dict[str, dict]:
    """Time each Phase 4 transform ``runs`` times over [start, end] (the partitions ``dates``, as the
    assets pass them; default every day), in declaration order, later ones fed the rows of earlier ones.

    Returns per abbreviation (TDZA, ...): ``times_s``, ``peak_rss_delta_bytes`` (max over runs),
    ``rows``, ``failures``, ``result`` (the last ``(rows, failures)``).
    """
    available = dict(tables)
    results: dict[str, dict] = {}
    for t in declared:
        kwargs = {**transform_inputs(t, available), "start": start, "end": end, "dates": dates}
        times, mems, out = [], [], None
        for _ in range(runs):
            wall, mem, out = timed(lambda t=t, kwargs=kwargs: t.transform(**kwargs))
            times.append(wall)
            mems.append(mem)
        rows, failures = out  # type: ignore[misc]
        available[t.spec.qualified_name] = rows
        results[t.abbreviation] = {"times_s": times, "peak_rss_delta_bytes": max(mems), "rows": rows.height,
                                   "failures": failures.height, "result": (rows, failures)}
    return results


def scope_range(raw_dir: Path, scope: str) -> tuple[dt.date, dt.date, list[dt.date]]:
    """(first, last, game dates) of ``scope``: ``season`` (:data:`BENCH_SEASON`) or ``all``. The dates are
    the game dates among the scope's partitions: what the assets hand the transforms (a day without games
    is written empty, not computed)."""
    cal = game_calendar(raw_dir)
    days, _ = cal.select(season=None if scope == "all" else BENCH_SEASON)
    games = set(cal.game_dates)
    return days[0], days[-1], [d for d in days if d in games]


def transforms_worker(raw_dir: Path, scope: str, runs: int) -> dict[str, object]:
    """Item 6 for one scope in this (fresh) process: build the Phase 3 frames (not timed), time every
    transform ``runs`` times. Returns the per-transform figures (without frames), the input rows, the
    process's RSS before the transforms and its peak (``ru_maxrss``)."""
    import resource

    first, last, days = scope_range(raw_dir, scope)
    t0 = time.perf_counter()
    tables = build_phase3_frames(raw_dir, first, last)
    build_s = time.perf_counter() - t0
    baseline = psutil.Process().memory_info().rss
    res = run_transforms(tables, first, last, runs, dates=days)
    return {
        "scope": scope, "first": first.isoformat(), "last": last.isoformat(), "partitions": len(days),
        "player_game_rows": tables[PLAYER_GAME_SUMMARY.qualified_name].height,
        "phase3_build_s": build_s,
        "rss_before_bytes": baseline,
        "process_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "transforms": {n: {k: v for k, v in r.items() if k != "result"} for n, r in res.items()},
    }


def run_transforms_measured(raw_dir: Path, scope: str, runs: int) -> dict[str, object]:
    """:func:`transforms_worker` in its own ``python benchmarks/bench.py --transforms-worker`` process
    (memory measured at one scope is not memory the allocator kept from another)."""
    env = {**os.environ, "NBA_RAW_DATA_DIR": str(raw_dir.resolve())}
    proc = subprocess.run([sys.executable, str(BENCH_SCRIPT), "--transforms-worker", scope, str(runs)],
                          cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"transforms worker ({scope}) failed:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"  [6 {scope}] " + ", ".join(f"{n} {_median(t['times_s']):.2f} s" for n, t in out["transforms"].items())
          + f"; process peak RSS {out['process_peak_rss_bytes'] / 1e9:.2f} GB", file=sys.stderr)
    return out


# --------------------------------------------------------------------------------------------------
# item 7: the legacy approach (per date, per player, pandas)

_ZONES = ("paint", "mid_range", "three_pt")
_LEGACY_COLUMNS = ["player_id", "player_lookup", "team_abbr", "season_year", "game_date", "minutes_played",
                   "has_complete_shot_zones",
                   *[f"{z}_{k}" for z in _ZONES for k in ("attempts", "makes")]]


def _sample_quality(games: int, window: int) -> str:
    if games >= window:
        return "excellent"
    if games >= int(0.7 * window):
        return "good"
    if games >= int(0.5 * window):
        return "limited"
    return "insufficient"


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def legacy_psza_for_date(history: pd.DataFrame, season_start: dt.date, analysis_date: dt.date) -> tuple[list[dict], list[int]]:
    """PSZA for one date D the legacy way (reference §1.2 step 8, §5), on our 0-1 definitions.

    ``history``: ``player_game_summary`` as pandas (:func:`legacy_history`: columns ``_LEGACY_COLUMNS``,
    ``game_date`` as datetime64). Step 1, the legacy extract: played games (``minutes_played > 0``) of this season
    before D, ranked per player by date descending, ranks <= 20. Step 2, a Python loop over the players:
    take the player's rows, the first 10 (and 20), and compute §5.2 on them - rates over the zone-attempt
    sum, FG% = makes / attempts, attempts per game, the 20-game paint rate and FG% when >= 15 games,
    sample quality, tier and primary zone (SPEC §5 thresholds on 0-1). Players with fewer than 10
    games are returned as INCOMPLETE_DATA ids instead of rows.
    """
    d, first = pd.Timestamp(analysis_date), pd.Timestamp(season_start)
    extract = history[(history["game_date"] < d) & (history["game_date"] >= first)
                      & (history["minutes_played"].fillna(0) > 0)].copy()
    extract["rank"] = extract.groupby("player_id")["game_date"].rank(method="first", ascending=False)
    extract = extract[extract["rank"] <= WINDOW_20]
    rows: list[dict] = []
    incomplete: list[int] = []
    for player_id in extract["player_id"].unique():
        games = extract[extract["player_id"] == player_id].sort_values("game_date", ascending=False)
        g10 = games.head(WINDOW)
        g20 = games.head(WINDOW_20)
        n10, n20 = len(g10), len(g20)
        if n10 < MIN_GAMES:
            incomplete.append(int(player_id))
            continue
        s10 = {c: float(g10[c].fillna(0).sum()) for c in _LEGACY_COLUMNS if c.endswith(("_attempts", "_makes"))}
        s20 = {c: float(g20[c].fillna(0).sum()) for c in ("paint_attempts", "paint_makes",
                                                          "mid_range_attempts", "three_pt_attempts")}
        total = s10["paint_attempts"] + s10["mid_range_attempts"] + s10["three_pt_attempts"]
        total20 = s20["paint_attempts"] + s20["mid_range_attempts"] + s20["three_pt_attempts"]
        last = games.iloc[0]
        row = {
            "player_id": int(player_id), "analysis_date": analysis_date,
            "player_lookup": last["player_lookup"], "team_abbr": last["team_abbr"],
            "total_shots_last_10": int(total), "games_in_sample_10": n10, "games_in_sample_20": n20,
            "sample_quality_10": _sample_quality(n10, WINDOW),
            "sample_quality_20": _sample_quality(n20, WINDOW_20),
            "has_complete_shot_zones": bool(g10["has_complete_shot_zones"].all()),
            "data_quality_tier": "high" if n10 >= MIN_GAMES else ("medium" if n10 >= 7 else "low"),
            "paint_rate_last_20": _ratio(s20["paint_attempts"], total20) if n20 >= MIN_GAMES_20 else None,
            "paint_pct_last_20": (_ratio(s20["paint_makes"], s20["paint_attempts"])
                                  if n20 >= MIN_GAMES_20 else None),
        }
        for z in _ZONES:
            row[f"{z}_rate_last_10"] = _ratio(s10[f"{z}_attempts"], total)
            row[f"{z}_pct_last_10"] = _ratio(s10[f"{z}_makes"], s10[f"{z}_attempts"])
            row[f"{z}_attempts_per_game"] = s10[f"{z}_attempts"] / n10
        p, m, t = (row[f"{z}_rate_last_10"] or 0.0 for z in _ZONES)
        if p == 0 and m == 0 and t == 0:
            zone = None
        elif p >= PRIMARY_PAINT:
            zone = "paint"
        elif t >= PRIMARY_THREE:
            zone = "perimeter"
        elif m >= PRIMARY_MID:
            zone = "mid_range"
        else:
            zone = "balanced"
        row["primary_scoring_zone"] = zone
        rows.append(row)
    return rows, incomplete


def legacy_history(player_games: pl.DataFrame) -> pd.DataFrame:
    """``player_game_summary`` as the pandas frame :func:`legacy_psza_for_date` reads."""
    return player_games.select(_LEGACY_COLUMNS).to_pandas()


def run_legacy(player_games: pl.DataFrame, schedule: pl.DataFrame, dates: Sequence[dt.date]) -> dict[str, object]:
    """Item 7 on ``dates``: seconds per date, and the rows / INCOMPLETE_DATA ids of every date."""
    history = legacy_history(player_games)
    cal = season_calendar(schedule)
    times, rows, incomplete = [], [], []
    for d in dates:
        season_start = cal.filter(pl.col("season_start_date") <= d).get_column("season_start_date").max()
        t0 = time.perf_counter()
        r, inc = legacy_psza_for_date(history, season_start, d)
        times.append(time.perf_counter() - t0)
        rows.extend(r)
        incomplete.extend((d, p) for p in inc)
    frame = pl.DataFrame(rows, schema_overrides={"analysis_date": pl.Date}, infer_schema_length=None) \
        if rows else pl.DataFrame()
    return {"times_s": times, "rows": frame,
            "incomplete": pl.DataFrame(incomplete, schema={"analysis_date": pl.Date, "player_id": pl.Int64},
                                       orient="row")}


# --------------------------------------------------------------------------------------------------
# item 8: DuckDB SQL window functions

#: PSZA the way a SQL-first user writes it: number the played games, 10/20-game frame sums with
#: ROWS BETWEEN windows, the next game date with LEAD, then a range join picks for every date D the
#: player's last game before D (game_date < D <= next game date).
DUCKDB_PSZA_SQL = """
WITH cal AS (
    SELECT season_year, MIN(game_date) AS season_start
    FROM schedule WHERE game_id LIKE '002%' GROUP BY season_year
),
days AS (
    SELECT analysis_date FROM analysis_days
),
dates AS (
    SELECT days.analysis_date, cal.season_year
    FROM days ASOF JOIN cal ON days.analysis_date >= cal.season_start
),
played AS (
    SELECT player_id, season_year, game_date, player_lookup, team_abbr,
           COALESCE(paint_attempts, 0) AS pa, COALESCE(paint_makes, 0) AS pm,
           COALESCE(mid_range_attempts, 0) AS ma, COALESCE(mid_range_makes, 0) AS mm,
           COALESCE(three_pt_attempts, 0) AS ta, COALESCE(three_pt_makes, 0) AS tm,
           CASE WHEN has_complete_shot_zones THEN 0 ELSE 1 END AS bad
    FROM pgs
    WHERE COALESCE(minutes_played, 0) > 0 AND game_date < $end
),
win AS (
    SELECT player_id, season_year, game_date, player_lookup, team_abbr,
        ROW_NUMBER() OVER w AS game_no,
        LEAD(game_date) OVER w AS next_game_date,
        SUM(pa) OVER w10 AS pa10, SUM(pm) OVER w10 AS pm10, SUM(ma) OVER w10 AS ma10,
        SUM(mm) OVER w10 AS mm10, SUM(ta) OVER w10 AS ta10, SUM(tm) OVER w10 AS tm10,
        SUM(bad) OVER w10 AS bad10,
        SUM(pa) OVER w20 AS pa20, SUM(pm) OVER w20 AS pm20, SUM(ma) OVER w20 AS ma20,
        SUM(ta) OVER w20 AS ta20
    FROM played
    WINDOW w AS (PARTITION BY player_id, season_year ORDER BY game_date),
           w10 AS (PARTITION BY player_id, season_year ORDER BY game_date
                   ROWS BETWEEN 9 PRECEDING AND CURRENT ROW),
           w20 AS (PARTITION BY player_id, season_year ORDER BY game_date
                   ROWS BETWEEN 19 PRECEDING AND CURRENT ROW)
),
at_date AS (
    SELECT d.analysis_date, w.*,
           LEAST(w.game_no, 10) AS g10, LEAST(w.game_no, 20) AS g20,
           CAST(w.pa10 + w.ma10 + w.ta10 AS DOUBLE) AS tot10,
           CAST(w.pa20 + w.ma20 + w.ta20 AS DOUBLE) AS tot20
    FROM dates d JOIN win w
      ON w.season_year = d.season_year AND w.game_date < d.analysis_date
     AND (w.next_game_date IS NULL OR w.next_game_date >= d.analysis_date)
    WHERE w.game_no >= 10
),
metrics AS (
    SELECT player_id, player_lookup, analysis_date, season_year, team_abbr,
        CASE WHEN tot10 > 0 THEN pa10 / tot10 END AS paint_rate_last_10,
        CASE WHEN tot10 > 0 THEN ma10 / tot10 END AS mid_range_rate_last_10,
        CASE WHEN tot10 > 0 THEN ta10 / tot10 END AS three_pt_rate_last_10,
        CAST(tot10 AS BIGINT) AS total_shots_last_10,
        g10 AS games_in_sample_10,
        CASE WHEN g10 >= 10 THEN 'excellent' WHEN g10 >= 7 THEN 'good' WHEN g10 >= 5 THEN 'limited'
             ELSE 'insufficient' END AS sample_quality_10,
        CASE WHEN pa10 > 0 THEN pm10 / CAST(pa10 AS DOUBLE) END AS paint_pct_last_10,
        CASE WHEN ma10 > 0 THEN mm10 / CAST(ma10 AS DOUBLE) END AS mid_range_pct_last_10,
        CASE WHEN ta10 > 0 THEN tm10 / CAST(ta10 AS DOUBLE) END AS three_pt_pct_last_10,
        pa10 / CAST(g10 AS DOUBLE) AS paint_attempts_per_game,
        ma10 / CAST(g10 AS DOUBLE) AS mid_range_attempts_per_game,
        ta10 / CAST(g10 AS DOUBLE) AS three_pt_attempts_per_game,
        CASE WHEN g20 >= 15 AND tot20 > 0 THEN pa20 / tot20 END AS paint_rate_last_20,
        CASE WHEN g20 >= 15 AND pa20 > 0 THEN pm20 / CAST(pa20 AS DOUBLE) END AS paint_pct_last_20,
        g20 AS games_in_sample_20,
        CASE WHEN g20 >= 20 THEN 'excellent' WHEN g20 >= 14 THEN 'good' WHEN g20 >= 10 THEN 'limited'
             ELSE 'insufficient' END AS sample_quality_20,
        bad10 = 0 AS has_complete_shot_zones,
        CASE WHEN g10 >= 10 THEN 'high' WHEN g10 >= 7 THEN 'medium' ELSE 'low' END AS data_quality_tier
    FROM at_date
)
SELECT *,
    CASE WHEN COALESCE(paint_rate_last_10, 0) = 0 AND COALESCE(mid_range_rate_last_10, 0) = 0
              AND COALESCE(three_pt_rate_last_10, 0) = 0 THEN NULL
         WHEN COALESCE(paint_rate_last_10, 0) >= 0.40 THEN 'paint'
         WHEN COALESCE(three_pt_rate_last_10, 0) >= 0.40 THEN 'perimeter'
         WHEN COALESCE(mid_range_rate_last_10, 0) >= 0.35 THEN 'mid_range'
         ELSE 'balanced' END AS primary_scoring_zone
FROM metrics
ORDER BY analysis_date, player_id
"""


def duckdb_psza(player_games: pl.DataFrame, schedule: pl.DataFrame, start: dt.date, end: dt.date,
                dates: Sequence[dt.date] | None = None, con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Item 8: PSZA rows for every D of ``dates`` (default every day of [start, end]) from
    :data:`DUCKDB_PSZA_SQL` (in-memory DuckDB scanning the Polars frames through Arrow; result as a
    Polars frame)."""
    days = pl.date_range(start, end, "1d", eager=True)
    if dates is not None:
        days = days.filter(days.is_in(list(dates)))
    own = con is None
    con = con or duckdb.connect()
    try:
        con.register("pgs", player_games)
        con.register("schedule", schedule)
        con.register("analysis_days", pl.DataFrame({"analysis_date": days}))
        return con.execute(DUCKDB_PSZA_SQL, {"end": end}).pl()
    finally:
        for name in ("pgs", "schedule", "analysis_days"):
            con.unregister(name)
        if own:
            con.close()


# --------------------------------------------------------------------------------------------------
# agreement

COMPARE_NUMERIC = (
    "paint_rate_last_10", "mid_range_rate_last_10", "three_pt_rate_last_10", "paint_pct_last_10",
    "mid_range_pct_last_10", "three_pt_pct_last_10", "paint_attempts_per_game",
    "mid_range_attempts_per_game", "three_pt_attempts_per_game", "paint_rate_last_20",
    "paint_pct_last_20", "total_shots_last_10", "games_in_sample_10", "games_in_sample_20",
)
COMPARE_EXACT = ("player_lookup", "team_abbr", "sample_quality_10", "sample_quality_20",
                 "primary_scoring_zone", "data_quality_tier", "has_complete_shot_zones")
_KEY = ("player_id", "analysis_date")


@dataclass
class Agreement:
    """Result of :func:`compare_psza`: ``ok`` when keys, numbers (within ``tolerance``) and labels agree."""

    rows: int
    only_left: int
    only_right: int
    max_abs_diff: float
    numeric_mismatches: int
    label_mismatches: int
    tolerance: float = TOLERANCE
    details: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.only_left or self.only_right or self.numeric_mismatches or self.label_mismatches)


def compare_psza(left: pl.DataFrame, right: pl.DataFrame, tolerance: float = TOLERANCE) -> Agreement:
    """Compare two PSZA row sets on (player_id, analysis_date): key sets, ``COMPARE_NUMERIC`` within
    ``tolerance`` (NULL only equal to NULL) and ``COMPARE_EXACT`` exactly."""
    cols = [*_KEY, *COMPARE_NUMERIC, *COMPARE_EXACT]
    a = left.select(cols).cast(dict.fromkeys(COMPARE_NUMERIC, pl.Float64))
    b = right.select(cols).cast(dict.fromkeys(COMPARE_NUMERIC, pl.Float64) | {"player_id": pl.Int64,
                                                                           "analysis_date": pl.Date})
    a = a.cast({"player_id": pl.Int64})
    j = a.join(b, on=list(_KEY), how="full", suffix="__r", coalesce=True, nulls_equal=False)
    only_left = j.filter(pl.col("player_lookup__r").is_null() & pl.col("player_lookup").is_not_null()).height
    only_right = j.filter(pl.col("player_lookup").is_null() & pl.col("player_lookup__r").is_not_null()).height
    both = j.filter(pl.col("player_lookup").is_not_null() & pl.col("player_lookup__r").is_not_null())
    max_diff, num_bad, label_bad, details = 0.0, 0, 0, []
    for c in COMPARE_NUMERIC:
        x, y = pl.col(c), pl.col(f"{c}__r")
        diff = both.select((x - y).abs().max()).item()
        max_diff = max(max_diff, diff or 0.0)
        bad = both.filter((x.is_null() != y.is_null()) | ((x - y).abs() > tolerance)).height
        if bad:
            details.append(f"{c}: {bad} mismatch(es)")
        num_bad += bad
    for c in COMPARE_EXACT:
        bad = both.filter(~pl.col(c).eq_missing(pl.col(f"{c}__r"))).height
        if bad:
            details.append(f"{c}: {bad} mismatch(es)")
        label_bad += bad
    return Agreement(both.height, only_left, only_right, max_diff, num_bad, label_bad, tolerance, details)


def sample_dates(schedule: pl.DataFrame, start: dt.date, end: dt.date, n: int) -> list[dt.date]:
    """``n`` regular-season game dates spread evenly over [start + 21 days, end] (after the first three
    weeks, when PSZA rows exist)."""
    game_dates = (schedule.filter(is_regular_season(pl.col("game_id"))
                                  & pl.col("game_date").is_between(start + dt.timedelta(days=21), end))
                  .get_column("game_date").unique().sort().to_list())
    if n >= len(game_dates):
        return game_dates
    step = (len(game_dates) - 1) / max(n - 1, 1)
    return sorted({game_dates[round(i * step)] for i in range(n)})


# --------------------------------------------------------------------------------------------------
# the whole benchmark


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def run_benchmark(plan: Plan, raw_dir: Path | None = None) -> dict[str, object]:
    """Run what ``plan`` asks for; return a JSON-serialisable dict of results (see the module docstring)."""
    raw_dir = Path(raw_dir or config.raw_data_dir())
    scope = Scope.of(raw_dir)
    results: dict[str, object] = {
        "machine": machine_info(), "load_average_start": load_average(), "runs": plan.runs,
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"), "season": BENCH_SEASON,
        "scope": vars(scope), "nightly_date": plan.nightly_date, "targets": TARGETS,
    }
    print(f"load average at start: {results['load_average_start']}", file=sys.stderr)

    if any((plan.season, plan.all_seasons, plan.plain, plan.floor)):
        print("items 1-5: main command, plain driver, framework floor", file=sys.stderr)
        if plan.keep is not None:
            plan.keep.mkdir(parents=True, exist_ok=True)
            results["launched"] = bench_launched(plan, scope, raw_dir, Path(tempfile.mkdtemp(dir=plan.keep)))
        else:
            with tempfile.TemporaryDirectory(prefix="nba_bench_") as tmp:
                results["launched"] = bench_launched(plan, scope, raw_dir, Path(tmp))

    transforms: dict[str, dict] = {}
    if plan.transforms:
        print("item 6: Phase 4 transforms alone, each scope in a fresh process", file=sys.stderr)
        transforms["season"] = run_transforms_measured(raw_dir, "season", plan.runs)
        if plan.transforms_all_seasons:
            transforms["all"] = run_transforms_measured(raw_dir, "all", plan.runs)
        results["transforms"] = transforms

    if plan.legacy or plan.duckdb:
        results.update(bench_psza(plan, raw_dir, transforms.get("season")))
    results["load_average_end"] = load_average()
    print(f"load average at end: {results['load_average_end']}", file=sys.stderr)
    return results


def bench_psza(plan: Plan, raw_dir: Path, season_transforms: dict | None) -> dict[str, object]:
    """Items 7 and 8 and the agreement of the three PSZA implementations, on the season's frames (built
    here, not timed). The Polars time compared against is item 6's (timed here when item 6 is skipped)."""
    from nba_precompute.defs.phase4.tables import PSZA

    first, last, days = scope_range(raw_dir, "season")
    print("items 7-8: building the season's Phase 3 frames in memory (not timed)", file=sys.stderr)
    tables = build_phase3_frames(raw_dir, first, last)
    schedule = tables[NBA_SCHEDULE.qualified_name]
    player_games = tables[PLAYER_GAME_SUMMARY.qualified_name]
    kwargs = {**transform_inputs(PSZA, tables), "start": first, "end": last, "dates": days}
    psza_times = []
    for _ in range(1 if season_transforms else plan.runs):
        wall, _mem, (psza_rows, psza_failures) = timed(lambda: PSZA.transform(**kwargs))
        psza_times.append(wall)
    ours_s = _median(season_transforms["transforms"]["PSZA"]["times_s"] if season_transforms else psza_times)
    # the legacy backfill ran one date per game date: the season's game dates, not its partitions (every day)
    game_dates = (schedule.filter(is_regular_season(pl.col("game_id")) & pl.col("game_date").is_between(first, last))
                  .get_column("game_date").n_unique())
    out: dict[str, object] = {"game_dates": game_dates, "partitions": len(days), "player_game_rows": player_games.height,
                              "psza_rows": psza_rows.height, "psza_s": ours_s}
    agreement: dict[str, object] = {}
    if plan.legacy:
        print("item 7: legacy per-player pandas PSZA on sampled dates", file=sys.stderr)
        dates = sample_dates(schedule, first, last, plan.legacy_dates)
        on_dates = pl.col("analysis_date").is_in(dates)
        legacy_runs = [run_legacy(player_games, schedule, dates) for _ in range(min(plan.runs, 3))]
        per_date = [_median([r["times_s"][i] for r in legacy_runs]) for i in range(len(dates))]
        legacy = legacy_runs[0]
        season_s = statistics.fmean(per_date) * game_dates
        out["legacy"] = {"dates": [d.isoformat() for d in dates], "seconds_per_date": per_date,
                         "season_estimate_s": season_s, "speedup": season_s / ours_s, "rows": legacy["rows"].height}
        vs_legacy = compare_psza(psza_rows.filter(on_dates), legacy["rows"])
        ours_incomplete = (psza_failures.filter(on_dates & (pl.col("failure_category") == "INCOMPLETE_DATA"))
                           .select("analysis_date", pl.col("entity_id").cast(pl.Int64).alias("player_id")))
        agreement["sampled_dates"] = len(dates)
        agreement["polars_vs_legacy"] = vars(vs_legacy) | {"ok": vs_legacy.ok}
        agreement["incomplete_data_players_equal"] = (
            ours_incomplete.sort("analysis_date", "player_id")
            .equals(legacy["incomplete"].sort("analysis_date", "player_id")))
        print(f"  {statistics.fmean(per_date):.2f} s per date, season {season_s:.0f} s (est.)", file=sys.stderr)
    if plan.duckdb:
        print("item 8: DuckDB SQL PSZA", file=sys.stderr)
        duck_times, duck_rows = [], None
        for _ in range(plan.runs):
            wall, _mem, duck_rows = timed(lambda: duckdb_psza(player_games, schedule, first, last, dates=days))
            duck_times.append(wall)
        out["duckdb"] = {"times_s": duck_times, "rows": duck_rows.height,
                         "ratio_ours_to_duckdb": ours_s / _median(duck_times)}
        vs_all = compare_psza(psza_rows, duck_rows)
        agreement["polars_vs_duckdb_all_dates"] = vars(vs_all) | {"ok": vs_all.ok}
        print(f"  {_median(duck_times):.2f} s", file=sys.stderr)
    out["agreement"] = agreement
    return out


# --------------------------------------------------------------------------------------------------
# report


def _fmt_s(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def _gb(x: float) -> str:
    return f"{x / 1e9:.2f} GB"


def _mb(x: float) -> str:
    return f"{x / 1e6:,.0f} MB"


def _status(ok: bool) -> str:
    return "met" if ok else "**not met**"


def _runs_text(values: Sequence[float | None]) -> str:
    return " / ".join(_fmt_s(v).removesuffix(" s") for v in values) + " s"


def _med(rs: Sequence[dict], key: str) -> float | None:
    values = [r[key] for r in rs if r.get(key) is not None]
    return _median(values) if values else None


def _memory(rs: Sequence[dict]) -> str:
    """Peak RSS of the process tree (max over runs) and of its largest process, when known."""
    text = f"{_gb(max(x['peak_rss_bytes'] for x in rs))} peak RSS (process tree, max over runs)"
    single = [x["peak_rss_single_bytes"] for x in rs if x.get("peak_rss_single_bytes")]
    return text + (f"; largest process {_gb(max(single))}" if single else "")


def _dagster_detail(rs: Sequence[dict]) -> str:
    """The Dagster figures of a measured command (medians over the measurements). A command that made
    several ``dg launch`` runs: the first ``RUN_START``, the runs' durations summed and each run's
    (in launch order), the events of all its runs."""
    if not rs or rs[0].get("run_start_s") is None:
        return ""
    n = rs[0].get("runs", 1)
    if n == 1:
        return (f"; `RUN_START` after {_fmt_s(_med(rs, 'run_start_s'))}, run {_fmt_s(_med(rs, 'run_s'))} "
                f"(steps {_fmt_s(_med(rs, 'steps_s'))}), {int(_med(rs, 'events')):,} events stored")
    each = []
    for i in range(n):
        per = [x["per_run"][i] for x in rs if len(x.get("per_run", ())) == n]
        span = (per[0].get("partition_range") or [None, None]) if per else [None, None]
        where = f"{span[0]}...{span[1]} " if span[0] and span[0] != span[1] else f"{span[0]} " if span[0] else ""
        each.append(f"{where}{_fmt_s(_med(per, 'run_s'))}")
    return (f"; {n} Dagster runs: first `RUN_START` after {_fmt_s(_med(rs, 'run_start_s'))}, runs "
            f"{_fmt_s(_med(rs, 'run_s'))} summed ({'; '.join(each)}), first `RUN_START` to last run's end "
            f"{_fmt_s(_med(rs, 'runs_span_s'))} (steps {_fmt_s(_med(rs, 'steps_s'))} summed), "
            f"{int(_med(rs, 'events')):,} events stored by the {n} runs")


def _runs_count(rs: Sequence[dict]) -> str:
    """How many Dagster runs the command made ("one run", "3 runs"; "one run" for results saved before
    the count was recorded)."""
    counts = sorted({x.get("runs", 1) for x in rs})
    return "one run" if counts == [1] else " / ".join(map(str, counts)) + " runs"


def summarize(r: dict) -> list[dict[str, object]]:
    """The rows of the main table: ``item``, ``what``, ``median`` (seconds or a ratio), ``runs`` (the
    individual values), ``memory`` (text), ``target`` (text), ``met`` (True / False / None: no target),
    ``why`` (which part of a two-part target is missed), ``unit`` (``s`` or ``x``)."""
    t = r.get("targets", TARGETS)
    rows: list[dict[str, object]] = []
    launched = r.get("launched", {})
    scope = r["scope"]
    season_n = scope["season_partitions"]

    def add(item, what, rs=None, key="wall_s", median=None, memory="", target="", met=None, unit="s", why=""):
        values = [x.get(key) for x in rs] if rs else []
        rows.append({"item": item, "what": what, "median": median if median is not None else (
            _med(rs, key) if rs else None), "runs": values, "memory": memory, "target": target, "met": met,
            "unit": unit, "why": why})

    season, plain = launched.get("season", []), launched.get("plain", [])
    if season:
        wall = _med(season, "wall_s")
        add("1", f"main command, {r['season']} season: `nba-precompute launch --season {r['season']}` "
            f"({season_n} partitions, every asset and check, {_runs_count(season)}){_dagster_detail(season)}", season,
            memory=_memory(season),
            target=f"<= {t['season_wall_s']:g} s", met=wall <= t["season_wall_s"])
    if season and plain:
        ratio = _med(season, "wall_s") / _med(plain, "wall_s")
        add("1 / 4", "main command / plain Python driver, same season (process wall times: ratio of the medians; "
            "runs: run i / run i)", median=ratio, target=f"<= {t['season_vs_plain']:g}",
            met=ratio <= t["season_vs_plain"], unit="x")
        rows[-1]["runs"] = [a["wall_s"] / b["wall_s"] for a, b in zip(season, plain)]
    alls = launched.get("all_seasons", [])
    if alls:
        wall = _med(alls, "wall_s")
        rss = max(x["peak_rss_bytes"] for x in alls)
        add("2", f"main command, all seasons: `nba-precompute launch --all-seasons` ({scope['all_partitions']:,} "
            f"partitions, {scope['all_first']}...{scope['all_last']}, {_runs_count(alls)}){_dagster_detail(alls)}",
            alls,
            memory=_memory(alls), target=f"<= {t['all_seasons_wall_s']:g} s, <= {t['all_seasons_peak_rss_gb']:g} GB",
            met=wall <= t["all_seasons_wall_s"] and rss / 1e9 <= t["all_seasons_peak_rss_gb"],
            why=("" if (wall <= t["all_seasons_wall_s"]) == (rss / 1e9 <= t["all_seasons_peak_rss_gb"])
                 else "time met, peak RSS not" if wall <= t["all_seasons_wall_s"] else "peak RSS met, time not"))
    newest = ("tonight's slate (pre-game tables only)" if scope.get("tonight") == scope["all_last"]
              else "the newest partition")
    for key, day, where in (("one_date_season", r["nightly_date"], "on the warehouse and instance of item 1"),
                            ("one_date_newest", scope["all_last"],
                             f"{newest}, on the warehouse and instance of item 2")):
        rs = launched.get(key, [])
        if rs:
            wall = _med(rs, "wall_s")
            add("3", f"one date (nightly): `nba-precompute launch {day}`, {where}"
                f"{_dagster_detail(rs)}", rs, memory=_memory(rs),
                target=f"<= {t['one_date_wall_s']:g} s", met=wall <= t["one_date_wall_s"])
    if plain:
        add("4", f"plain Python driver, {r['season']} season: the same asset and check bodies in topological order, "
            f"no Dagster run, fresh DuckDB file, fresh process; definitions load {_fmt_s(_med(plain, 'definitions_s'))}, "
            f"bodies {_fmt_s(_med(plain, 'bodies_s'))}, {int(_med(plain, 'evaluations')):,} check evaluations",
            plain, memory=_memory(plain))
    plain1 = launched.get("plain_one_date", [])
    if plain1:
        add("4", f"plain Python driver, one date ({r['nightly_date']}) on the warehouse it wrote; definitions "
            f"{_fmt_s(_med(plain1, 'definitions_s'))}, bodies {_fmt_s(_med(plain1, 'bodies_s'))}", plain1,
            memory=_memory(plain1))
        setups = max(x["schema_setups"] for x in plain1)
        fresh = max(x["schema_setups"] for x in plain) if plain else None
        add("4", f"DuckDB schema set-up of a run on an existing warehouse (one date above): {setups} table "
            f"set-ups (CREATE ... IF NOT EXISTS + column check), {_med(plain1, 'schema_setup_s') * 1000:.0f} ms"
            + (f"; on the fresh file of the season run: {fresh}" if fresh is not None else ""),
            plain1, key="schema_setup_s", target="not repeated on every run (0 set-ups)",
            met=setups <= t["schema_setups_existing"])
    floor = launched.get("floor", [])
    if floor:
        extra = (f"; main command - floor = {_fmt_s(_med(season, 'wall_s') - _med(floor, 'wall_s'))}"
                 if season else "")
        add("5", f"framework floor: the same graph with no-op bodies, `dg launch --assets '*' --partition-range` over "
            f"the {r['season']} season{_dagster_detail(floor)}{extra}", floor,
            memory=_memory(floor))
    tr = r.get("transforms", {})
    for scope_key, label in (("season", f"{r['season']} season"), ("all", "all seasons")):
        w = tr.get(scope_key)
        if not w:
            continue
        total = sum(_median(x["times_s"]) for x in w["transforms"].values())
        psza = _median(w["transforms"]["PSZA"]["times_s"])
        runs_total = [sum(x["times_s"][i] for x in w["transforms"].values())
                      for i in range(len(next(iter(w["transforms"].values()))["times_s"]))]
        if scope_key == "season":
            add("6", f"PSZA transform alone, {label} ({w['partitions']} game dates)",
                median=psza, target=f"<= {t['psza_transform_s']:g} s", met=psza <= t["psza_transform_s"])
            rows[-1]["runs"] = w["transforms"]["PSZA"]["times_s"]
        add("6", f"the five Phase 4 transforms alone (sum), {label}: {w['partitions']} game dates, "
            f"{w['player_game_rows']:,} player-game rows; in-memory Phase 3 frames, no Dagster, no I/O",
            median=total, memory=f"{_gb(w['process_peak_rss_bytes'])} process peak RSS",
            target=f"<= {t['all_transforms_s']:g} s" if scope_key == "season" else "",
            met=total <= t["all_transforms_s"] if scope_key == "season" else None)
        rows[-1]["runs"] = runs_total
    lg = r.get("legacy")
    if lg:
        add("7", f"legacy PSZA: per date, per player, pandas; {len(lg['dates'])} sampled dates, "
            f"{statistics.fmean(lg['seconds_per_date']):.2f} s per date x {r['game_dates']} game dates, one process "
            f"(season estimate); ours (item 6) {lg['speedup']:,.0f}x faster", median=lg["season_estimate_s"],
            target=f"ours >= {t['legacy_speedup']:g}x faster", met=lg["speedup"] >= t["legacy_speedup"])
    dk = r.get("duckdb")
    if dk:
        add("8", f"PSZA as DuckDB SQL window functions, {r['season']} season ({dk['rows']:,} rows); "
            f"ours (item 6) / DuckDB = {dk['ratio_ours_to_duckdb']:.2f}", median=_median(dk["times_s"]),
            target=f"ours / DuckDB <= {t['duckdb_ratio']:g}", met=dk["ratio_ours_to_duckdb"] <= t["duckdb_ratio"])
        rows[-1]["runs"] = dk["times_s"]
    return rows


def render_markdown(r: dict) -> str:
    """The report printed by the command: machine and load, the main table, the transforms detail and
    the PSZA agreement."""
    m = r["machine"]
    scope = r["scope"]
    lines = [
        (f"Machine: {m['cpu']}, {m['logical_cores']} logical cores ({m['physical_cores']} physical), "
         f"{m['memory_gb']} GB RAM, {m['os']}; Python {m['python']}, Polars {m['polars']}, DuckDB {m['duckdb']}, "
         f"pandas {m['pandas']}, Dagster {m['dagster']}."),
        "",
        (f"Load average (1, 5, 15 min) at the start: {r['load_average_start']}, at the end: "
         f"{r.get('load_average_end', '-')}. Medians of {r['runs']} run(s), every run listed. {r['season']}: "
         f"{scope['season_partitions']} partitions ({scope['season'][0]}...{scope['season'][1]}); all seasons: "
         f"{scope['all_partitions']:,} partitions. Generated {r['generated_at']}."),
        "",
        "| # | measurement | median | runs | memory | target | |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in summarize(r):
        if row["unit"] == "x":
            median, runs = f"{row['median']:.2f}x", " / ".join(f"{v:.2f}" for v in row["runs"]) + "x"
        else:
            median = _fmt_s(row["median"])
            runs = _runs_text(row["runs"]) if len(row["runs"]) > 1 or row["item"] != "7" else ""
        if row["item"] == "7":
            median += " per season (est.)"
        status = "" if row["met"] is None else _status(bool(row["met"])) + (f" ({row['why']})" if row["why"] else "")
        lines.append(f"| {row['item']} | {row['what']} | **{median}** | {runs} | {row['memory']} | "
                     f"{row['target']} | {status} |")
    tr = r.get("transforms", {})
    if tr:
        scopes = [k for k in ("season", "all") if k in tr]
        names = list(tr[scopes[0]]["transforms"])
        head = " | ".join(f"{r['season'] if s == 'season' else 'all seasons'}: time, RSS growth, rows" for s in scopes)
        lines += ["", "Item 6 per transform (median time; peak RSS growth during the call; rows written / failure rows):",
                  "", f"| transform | {head} |", "|---|" + "---|" * len(scopes)]
        for n in names:
            cells = []
            for s in scopes:
                x = tr[s]["transforms"][n]
                cells.append(f"{_fmt_s(_median(x['times_s']))}, +{_mb(x['peak_rss_delta_bytes'])}, "
                             f"{x['rows']:,} / {x['failures']:,}")
            lines.append(f"| {n} | " + " | ".join(cells) + " |")
        lines.append("| process | " + " | ".join(
            f"Phase 3 frames built in {_fmt_s(tr[s]['phase3_build_s'])} (not timed above); peak RSS "
            f"{_gb(tr[s]['process_peak_rss_bytes'])}" for s in scopes) + " |")
    ag = r.get("agreement", {})
    if ag:
        parts = []
        if "polars_vs_legacy" in ag:
            lg = ag["polars_vs_legacy"]
            parts.append(f"Polars vs legacy on the {ag['sampled_dates']} sampled dates: {lg['rows']:,} rows, max |diff| "
                         f"{lg['max_abs_diff']:.1e}, {'OK' if lg['ok'] else 'MISMATCH ' + str(lg['details'])}; "
                         f"INCOMPLETE_DATA players equal: {ag['incomplete_data_players_equal']}")
        if "polars_vs_duckdb_all_dates" in ag:
            dk = ag["polars_vs_duckdb_all_dates"]
            parts.append(f"Polars vs DuckDB on every partition: {dk['rows']:,} rows, max |diff| {dk['max_abs_diff']:.1e}, "
                         f"{'OK' if dk['ok'] else 'MISMATCH ' + str(dk['details'])}")
        lines += ["", "PSZA agreement: " + "; ".join(parts) + f". Tolerance {TOLERANCE:g} on numbers, labels exact."]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------------
# command line


def _plain_worker(first: str, last: str, duckdb_path: str, report: str) -> int:
    """Item 4 inside its fresh process: the plain driver, its figures written to ``report`` (JSON)."""
    from benchmarks.bench_plain import run_plain

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    result = run_plain(first, last, duckdb_path, config.raw_data_dir())
    Path(report).write_text(json.dumps(result.to_json(), default=str))
    return 0


def parse_args(argv: Sequence[str] | None = None) -> tuple[argparse.Namespace, Plan | None]:
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported; default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="1 run, 4 legacy dates, item 6 on the season only")
    parser.add_argument("--json", type=Path, help="also write the raw results to this JSON file")
    parser.add_argument("--skip-dagster", action="store_true", help="skip items 1, 2, 3 and 5 (everything run "
                        "through Dagster)")
    parser.add_argument("--skip-season", action="store_true", help="skip item 1 (and its one-date run)")
    parser.add_argument("--skip-all-seasons", action="store_true",
                        help="skip everything over all seasons: item 2, its one-date run, item 6 on all seasons")
    parser.add_argument("--skip-one-date", action="store_true", help="skip the one-date runs (items 3 and 4)")
    parser.add_argument("--skip-plain", action="store_true", help="skip item 4 (the plain Python driver)")
    parser.add_argument("--skip-floor", action="store_true", help="skip item 5 (the framework floor)")
    parser.add_argument("--skip-transforms", action="store_true", help="skip item 6")
    parser.add_argument("--skip-legacy", action="store_true", help="skip item 7 (the slow pandas loop)")
    parser.add_argument("--skip-duckdb", action="store_true", help="skip item 8")
    parser.add_argument("--legacy-dates", type=int, help="dates sampled by item 7 (default 10, --quick 4)")
    parser.add_argument("--nightly-date", default=NIGHTLY_DATE,
                        help=f"the one-date run on the season's warehouse (default {NIGHTLY_DATE})")
    parser.add_argument("--keep", type=Path, help="keep the run directories (logs, instances, warehouses) here")
    parser.add_argument("--from-json", type=Path, metavar="JSON",
                        help="measure nothing: print the report of results saved earlier with --json")
    parser.add_argument("--plain-worker", nargs=4, metavar=("FIRST", "LAST", "DUCKDB", "REPORT"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--transforms-worker", nargs=2, metavar=("SCOPE", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.plain_worker or args.transforms_worker:
        return args, None
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    no_dagster = args.skip_dagster
    plan = Plan(
        runs=1 if args.quick else args.runs,
        season=not (no_dagster or args.skip_season),
        all_seasons=not (no_dagster or args.skip_all_seasons),
        one_date=not args.skip_one_date,
        plain=not args.skip_plain,
        floor=not (no_dagster or args.skip_floor),
        transforms=not args.skip_transforms,
        transforms_all_seasons=not (args.quick or args.skip_all_seasons),
        legacy=not args.skip_legacy,
        duckdb=not args.skip_duckdb,
        legacy_dates=args.legacy_dates or (4 if args.quick else 10),
        nightly_date=args.nightly_date,
        keep=args.keep,
    )
    return args, plan


def main(argv: Sequence[str] | None = None) -> int:
    args, plan = parse_args(argv)
    if args.plain_worker:
        return _plain_worker(*args.plain_worker)
    if args.transforms_worker:
        scope, wruns = args.transforms_worker
        print(json.dumps(transforms_worker(config.raw_data_dir(), scope, int(wruns)), default=str))
        return 0
    assert plan is not None
    if args.from_json:
        print(render_markdown(json.loads(args.from_json.read_text())))
        return 0
    results = run_benchmark(plan)
    print(render_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
