"""Benchmark: a full season through Dagster, the Phase 4 transforms alone, and PSZA three ways.

Run from the repository root (so that ``../shared/data/nba`` resolves, or set ``NBA_RAW_DATA_DIR``)::

    python -m nba_precompute.bench                 # 3 runs of everything, Markdown table on stdout
    python -m nba_precompute.bench --runs 5 --json bench.json
    python -m nba_precompute.bench --quick         # 1 run, fewer legacy dates, no 4x scaling

What is measured (medians over ``--runs`` runs; not part of the test suite):

1. ``dagster asset materialize -m nba_precompute.definitions --select '*' --partition-range
   <opening night>...<last date>`` (the README's main command: every asset, the whole 2022-23 season
   as one single-run backfill) in a subprocess with a fresh ``DAGSTER_HOME`` (holding a copy of the
   repository's ``.dagster_home/dagster.yaml`` when there is one) and a fresh DuckDB file: wall time,
   the time until Dagster's ``RUN_START`` event, and the peak RSS of the whole process tree (sampled
   every 20 ms with psutil).
2. The nightly case: the same command for one partition (``--partition <date>``, every asset), on the
   warehouse and instance left by run 1.
3. Each Phase 4 transform (``defs.phase4.tables.PHASE4_TABLES``) alone over the whole season: the pure Polars call on
   in-memory Phase 3 frames (built once from the raw files, outside the timing), without Dagster or
   I/O; the peak RSS increase during the call; and the same at 2x and 4x the season (the season
   stacked with shifted dates, :func:`stack_seasons`).
4. The legacy approach (reference §1.2 step 8 and §5): per date, a rank-<=20 extract of the player's
   played games, then a Python loop over players computing the zone metrics with pandas
   (:func:`legacy_psza_for_date`), on a sample of dates spread over the season; the mean time per
   date times the number of game dates gives the season estimate (the legacy backfill ran one date
   per game date, reference §10.2). Single process: the legacy ProcessPool could at best divide this
   by the number of cores (2 here).
5. The same PSZA season written as DuckDB SQL window functions (:data:`DUCKDB_PSZA_SQL`).

Items 3, 4 and 5 are compared on the sampled dates: the same (player, date) keys, the same
INCOMPLETE_DATA players (3 and 4), every numeric column within 1e-9 and the labels exactly.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import psutil

from nba_precompute import config
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, Phase4Table
from nba_precompute.partitions import game_calendar
from nba_precompute.raw import readers
from nba_precompute.schemas import is_regular_season
from nba_precompute.transforms import phase3
from nba_precompute.transforms.common import season_calendar
from nba_precompute.transforms.psza import (
    MIN_GAMES,
    MIN_GAMES_20,
    PRIMARY_MID,
    PRIMARY_PAINT,
    PRIMARY_THREE,
    WINDOW,
    WINDOW_20,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
NIGHTLY_DATE = "2023-02-01"
BENCH_SEASON = 2022  # the season of items 1-5 (2022-23: box scores and shot chart)
#: days between stacked season copies: 25 weeks (weekdays kept), longer than a regular season (174 days)
STACK_SHIFT_DAYS = 175
TOLERANCE = 1e-9

TARGETS = {
    "full_season_wall_s": 60.0,
    "full_season_peak_rss_gb": 2.0,
    "single_date_wall_s": 10.0,
    "psza_transform_s": 1.0,
    "all_transforms_s": 5.0,
    "legacy_speedup": 100.0,
    "duckdb_ratio": 1.0,
}


# --------------------------------------------------------------------------------------------------
# Phase 3 inputs (no Dagster)


def build_phase3_frames(raw_dir: Path, start: dt.date, end: dt.date) -> dict[str, object]:
    """Phase 3 tables for [start, end] from the raw files, with the same builders the assets call.

    Returns a dict of inputs named like the Phase 4 transform parameters: ``schedule`` (the
    ``nba_schedule`` rows with their season calendar), ``player_games``, ``team_offense``,
    ``team_defense``, ``upcg``, ``uptgc``, ``present_games`` (distinct ``game_id``/``team_abbr`` of
    ``player_games``), ``start`` and ``end``. Raises ``RawDataError`` when a raw file is unusable.
    """
    schedule_raw = readers.read_schedule(raw_dir)
    box = readers.read_player_boxscores(raw_dir)
    logs = readers.read_team_game_logs(raw_dir)
    seasons = (schedule_raw.filter(pl.col("game_date").is_between(start, end))
               .get_column("season_year").unique().sort().to_list())
    shots = pl.concat([readers.read_shots(raw_dir, s + 1) for s in seasons])
    schedule = phase3.build_schedule(schedule_raw, start, end)
    player_games = phase3.build_player_game_summary(box, logs, schedule_raw, shots, start, end)
    team_offense = phase3.build_team_offense_game_summary(logs, schedule_raw, start, end)
    team_defense = phase3.build_team_defense_game_summary(logs, schedule_raw, shots, start, end)
    return {
        "schedule": schedule,
        "player_games": player_games,
        "team_offense": team_offense,
        "team_defense": team_defense,
        "uptgc": phase3.build_upcoming_team_game_context(schedule, start, end),
        "upcg": phase3.build_upcoming_player_game_context(player_games, team_offense, schedule, start, end),
        "present_games": player_games.select("game_id", "team_abbr").unique(),
        "start": start,
        "end": end,
    }


def stack_seasons(inputs: dict[str, object], copies: int, shift_days: int = STACK_SHIFT_DAYS) -> dict[str, object]:
    """``copies`` back-to-back copies of a one-season input set, for the scaling measurement.

    Copy i (0-based) has every DATE column shifted by ``i * shift_days`` days, ``season_year`` + i and
    the two season digits of ``game_id`` (characters 4-5, ``0022200001`` -> ``0022300001``) + i, so
    the copies are distinct seasons and games of the same players and teams; ``end`` moves to the last
    copy's end. With ``shift_days`` >= the season's length the copies do not overlap.
    """
    if copies < 1:
        raise ValueError(f"copies must be >= 1, got {copies}")
    out: dict[str, object] = {}
    for name, value in inputs.items():
        if isinstance(value, pl.DataFrame):
            out[name] = pl.concat([_shift_frame(value, i, shift_days) for i in range(copies)])
        else:
            out[name] = value
    out["end"] = inputs["end"] + dt.timedelta(days=(copies - 1) * shift_days)  # type: ignore[operator]
    return out


def _shift_frame(df: pl.DataFrame, i: int, shift_days: int) -> pl.DataFrame:
    if i == 0:
        return df
    exprs = [pl.col(c) + pl.duration(days=i * shift_days) for c, t in df.schema.items() if t == pl.Date]
    if "season_year" in df.columns:
        exprs.append(pl.col("season_year") + i)
    if "game_id" in df.columns:
        gid = pl.col("game_id")
        season = gid.str.slice(3, 2).cast(pl.Int64) + i
        exprs.append(gid.str.slice(0, 3) + season.cast(pl.String).str.zfill(2) + gid.str.slice(5))
    return df.with_columns(exprs)


# --------------------------------------------------------------------------------------------------
# Phase 4 transforms (the declarations of nba_precompute.defs.phase4.tables)


def transform_inputs(table: Phase4Table, available: dict[str, object]) -> dict[str, object]:
    """The keyword arguments of ``table``'s transform: each declared upstream parameter from
    ``available`` (the Phase 3 frames of :func:`build_phase3_frames` and the rows of the transforms
    before it, keyed by lower-case abbreviation), plus ``start`` and ``end``.

    Raises:
        KeyError: an upstream parameter has no input of that name.
    """
    kwargs = {u.param: available[u.param] for u in table.upstream if u.param is not None}
    return {**kwargs, "start": available["start"], "end": available["end"]}


# --------------------------------------------------------------------------------------------------
# measuring


class PeakRSS:
    """Context manager sampling the RSS of a process and its children every ``interval`` seconds.

    ``peak`` is the largest sum seen (bytes); ``baseline`` the value on entry, so ``peak - baseline``
    is the growth during the block.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.02):
        self.pid = pid or os.getpid()
        self.interval = interval
        self.peak = 0
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
                total += p.memory_info().rss
            except psutil.Error:
                pass
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
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        result = fn()
        wall = time.perf_counter() - t0
    return wall, mem.peak - mem.baseline, result


def machine_info() -> dict[str, object]:
    """Cores, memory, CPU model, OS and library versions of this machine, and its load when measured."""
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
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --------------------------------------------------------------------------------------------------
# items 1 and 2: Dagster through its CLI


def dagster_command(partition_args: Sequence[str]) -> list[str]:
    """The README's ``dagster asset materialize`` command for every asset and the given partitions."""
    exe = shutil.which("dagster", path=str(Path(sys.executable).parent))
    base = [exe] if exe else [sys.executable, "-m", "dagster"]
    return [*base, "asset", "materialize", "-m", "nba_precompute.definitions", "--select", "*",
            *partition_args]


def run_measured(cmd: Sequence[str], env: dict[str, str], log_path: Path) -> dict[str, object]:
    """Run ``cmd`` (cwd = repository root), sampling the RSS of its process tree.

    Returns ``wall_s``, ``run_start_s`` (seconds until Dagster logged ``RUN_START``; NULL when it did
    not), ``peak_rss_bytes`` and ``returncode``. Output goes to ``log_path``. Raises RuntimeError when
    the command fails.
    """
    markers: dict[str, float] = {}
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, bufsize=1)

        def reader() -> None:
            assert proc.stdout is not None
            for line in proc.stdout:
                if " - RUN_START - " in line and "run_start" not in markers:
                    markers["run_start"] = time.perf_counter() - t0
                log.write(line)

        thread = threading.Thread(target=reader, daemon=True)
        thread.start()
        with PeakRSS(proc.pid) as mem:
            rc = proc.wait()
        wall = time.perf_counter() - t0
        thread.join()
    if rc != 0:
        tail = "".join(log_path.read_text().splitlines(keepends=True)[-20:])
        raise RuntimeError(f"{' '.join(cmd)} exited with {rc}; log {log_path}:\n{tail}")
    return {"wall_s": wall, "run_start_s": markers.get("run_start"), "peak_rss_bytes": mem.peak,
            "returncode": rc}


def bench_dagster(runs: int, raw_dir: Path, workdir: Path, nightly: str = NIGHTLY_DATE,
                  full_range: tuple[str, str] = ("2022-10-18", "2023-04-09")) -> dict[str, list[dict]]:
    """Items 1 and 2, ``runs`` times each, every run in a fresh DAGSTER_HOME and DuckDB file."""
    repo_yaml = REPO_ROOT / ".dagster_home" / "dagster.yaml"
    out: dict[str, list[dict]] = {"full_season": [], "single_date": []}
    for i in range(runs):
        run_dir = workdir / f"dagster_run_{i}"
        home = run_dir / "dagster_home"
        home.mkdir(parents=True)
        if repo_yaml.exists():
            shutil.copy(repo_yaml, home / "dagster.yaml")
        env = {**os.environ, "DAGSTER_HOME": str(home), "NBA_RAW_DATA_DIR": str(raw_dir.resolve()),
               "NBA_PRECOMPUTE_DUCKDB_PATH": str(run_dir / "warehouse.duckdb")}
        full = run_measured(dagster_command(["--partition-range", f"{full_range[0]}...{full_range[1]}"]),
                            env, run_dir / "full_season.log")
        out["full_season"].append(full)
        print(f"  [1] run {i + 1}/{runs}: {full['wall_s']:.1f} s, RUN_START after "
              f"{full['run_start_s'] or float('nan'):.1f} s, peak RSS {full['peak_rss_bytes'] / 1e9:.2f} GB",
              file=sys.stderr)
        single = run_measured(dagster_command(["--partition", nightly]), env, run_dir / "single_date.log")
        out["single_date"].append(single)
        print(f"  [2] run {i + 1}/{runs}: {single['wall_s']:.1f} s, peak RSS "
              f"{single['peak_rss_bytes'] / 1e9:.2f} GB", file=sys.stderr)
        shutil.rmtree(run_dir, ignore_errors=True)
    return out


# --------------------------------------------------------------------------------------------------
# item 3: the Phase 4 transforms alone


def run_transforms(inputs: dict[str, object], runs: int,
                   tables: Sequence[Phase4Table] = PHASE4_TABLES) -> dict[str, dict]:
    """Time each Phase 4 transform ``runs`` times on ``inputs``, in declaration order (later ones get
    the rows of earlier ones).

    Returns per abbreviation (TDZA, ...): ``times_s``, ``peak_rss_delta_bytes`` (max over runs),
    ``rows``, ``failures``, ``result``.
    """
    available = dict(inputs)
    results: dict[str, dict] = {}
    for t in tables:
        kwargs = transform_inputs(t, available)
        times, mems, out = [], [], None
        for _ in range(runs):
            wall, mem, out = timed(lambda t=t, kwargs=kwargs: t.transform(**kwargs))
            times.append(wall)
            mems.append(mem)
        rows, failures = out  # type: ignore[misc]
        available[t.abbreviation.lower()] = rows
        results[t.abbreviation] = {"times_s": times, "peak_rss_delta_bytes": max(mems), "rows": rows.height,
                                   "failures": failures.height, "result": (rows, failures)}
    return results


def save_inputs(inputs: dict[str, object], directory: Path) -> None:
    """Write the Phase 3 input frames as Parquet (and ``start``/``end`` as JSON) for scaling workers."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, value in inputs.items():
        if isinstance(value, pl.DataFrame):
            value.write_parquet(directory / f"{name}.parquet")
    (directory / "range.json").write_text(json.dumps({"start": str(inputs["start"]), "end": str(inputs["end"])}))


def load_inputs(directory: Path) -> dict[str, object]:
    """Inverse of :func:`save_inputs`."""
    rng = json.loads((directory / "range.json").read_text())
    out: dict[str, object] = {p.stem: pl.read_parquet(p) for p in sorted(directory.glob("*.parquet"))}
    out["start"] = dt.date.fromisoformat(rng["start"])
    out["end"] = dt.date.fromisoformat(rng["end"])
    return out


def scaling_worker(directory: Path, copies: int, runs: int) -> dict[str, object]:
    """One scaling point in a fresh process: load the saved season, stack ``copies`` of it, time every
    transform ``runs`` times. Returns the per-transform results (without frames), the input rows and
    the process's RSS before the transforms and at its peak (``ru_maxrss``)."""
    import resource

    stacked = stack_seasons(load_inputs(directory), copies)
    baseline = psutil.Process().memory_info().rss
    res = run_transforms(stacked, runs)
    return {
        "copies": copies,
        "player_game_rows": stacked["player_games"].height,  # type: ignore[union-attr]
        "rss_before_bytes": baseline,
        "process_peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "transforms": {n: {k: v for k, v in r.items() if k != "result"} for n, r in res.items()},
    }


def run_scaling(inputs: dict[str, object], scales: Sequence[int], runs: int) -> dict[int, dict]:
    """:func:`scaling_worker` for each number of copies, each in its own ``python -m
    nba_precompute.bench --scaling-worker`` subprocess (so that memory measured at one scale is not
    memory the allocator kept from another)."""
    out: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="nba_bench_inputs_") as tmp:
        save_inputs(inputs, Path(tmp))
        for k in scales:
            proc = subprocess.run(
                [sys.executable, "-m", "nba_precompute.bench", "--scaling-worker", tmp, str(k), str(runs)],
                cwd=REPO_ROOT, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise RuntimeError(f"scaling worker {k}x failed:\n{proc.stderr[-3000:]}")
            out[k] = json.loads(proc.stdout.strip().splitlines()[-1])
            names = [n for n, r in out[k]["transforms"].items() if "skipped" not in r]
            print(f"  {k}x: " + ", ".join(f"{n} {_median(out[k]['transforms'][n]['times_s']):.2f} s"
                                          for n in names), file=sys.stderr)
    return out


# --------------------------------------------------------------------------------------------------
# item 4: the legacy approach (per date, per player, pandas)

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
    """Item 4 on ``dates``: seconds per date, and the rows / INCOMPLETE_DATA ids of every date."""
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
# item 5: DuckDB SQL window functions

#: PSZA the way a SQL-first user writes it: number the played games, 10/20-game frame sums with
#: ROWS BETWEEN windows, the next game date with LEAD, then a range join picks for every date D the
#: player's last game before D (game_date < D <= next game date).
DUCKDB_PSZA_SQL = """
WITH cal AS (
    SELECT season_year, MIN(game_date) AS season_start
    FROM schedule WHERE game_id LIKE '002%' GROUP BY season_year
),
days AS (
    SELECT CAST(d AS DATE) AS analysis_date
    FROM generate_series(CAST($start AS TIMESTAMP), CAST($end AS TIMESTAMP), INTERVAL 1 DAY) AS t(d)
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
                con: duckdb.DuckDBPyConnection | None = None) -> pl.DataFrame:
    """Item 5: PSZA rows for every D in [start, end] from :data:`DUCKDB_PSZA_SQL` (in-memory DuckDB
    scanning the Polars frames through Arrow; result as a Polars frame)."""
    own = con is None
    con = con or duckdb.connect()
    try:
        con.register("pgs", player_games)
        con.register("schedule", schedule)
        return con.execute(DUCKDB_PSZA_SQL, {"start": start, "end": end}).pl()
    finally:
        con.unregister("pgs")
        con.unregister("schedule")
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


def game_date_count(schedule: pl.DataFrame, start: dt.date, end: dt.date) -> int:
    """Regular-season game dates in [start, end] (the dates the legacy backfill processed)."""
    return schedule.filter(is_regular_season(pl.col("game_id"))
                           & pl.col("game_date").is_between(start, end)).get_column("game_date").n_unique()


# --------------------------------------------------------------------------------------------------
# the whole benchmark


def _median(xs: Sequence[float]) -> float:
    return statistics.median(xs)


def run_benchmark(runs: int = 3, quick: bool = False, skip_dagster: bool = False,
                  scales: Sequence[int] = (1, 2, 4), legacy_dates: int = 10,
                  raw_dir: Path | None = None) -> dict[str, object]:
    """Run items 1-5 and the scaling measurement; return a JSON-serialisable dict of results."""
    raw_dir = Path(raw_dir or config.raw_data_dir())
    start, end = game_calendar(raw_dir).season_range(BENCH_SEASON)
    results: dict[str, object] = {"machine": machine_info(), "runs": runs,
                                  "season": f"{start}...{end}", "generated_at": dt.datetime.now().isoformat()}

    if not skip_dagster:
        print("items 1-2: dagster asset materialize (full season, then one date)", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="nba_bench_") as tmp:
            d = bench_dagster(runs, raw_dir, Path(tmp))
        results["dagster"] = d

    print("building the Phase 3 frames in memory (not timed)", file=sys.stderr)
    inputs = build_phase3_frames(raw_dir, start, end)
    schedule, player_games = inputs["schedule"], inputs["player_games"]
    results["game_dates"] = game_date_count(schedule, start, end)
    results["calendar_days"] = (end - start).days + 1
    results["player_game_rows"] = player_games.height

    print("item 3: Phase 4 transforms alone", file=sys.stderr)
    transforms = run_transforms(inputs, runs)
    psza_rows, psza_failures = transforms["PSZA"]["result"]
    print("  " + ", ".join(f"{n} {_median(t['times_s']):.2f} s" for n, t in transforms.items()
                           if "skipped" not in t), file=sys.stderr)
    print(f"scaling: item 3 at {', '.join(f'{k}x' for k in scales)} the season, one subprocess each",
          file=sys.stderr)
    scaling = run_scaling(inputs, scales, runs)

    print("item 4: legacy per-player pandas PSZA on sampled dates", file=sys.stderr)
    dates = sample_dates(schedule, start, end, legacy_dates)
    legacy_runs = [run_legacy(player_games, schedule, dates) for _ in range(1 if quick else min(runs, 3))]
    per_date = [_median([r["times_s"][i] for r in legacy_runs]) for i in range(len(dates))]
    legacy = legacy_runs[0]

    print("item 5: DuckDB SQL PSZA", file=sys.stderr)
    duck_times, duck_rows = [], None
    for _ in range(runs):
        wall, _mem, duck_rows = timed(lambda: duckdb_psza(player_games, schedule, start, end))
        duck_times.append(wall)

    ours_s = _median(transforms["PSZA"]["times_s"])
    legacy_season_s = statistics.fmean(per_date) * results["game_dates"]
    on_dates = pl.col("analysis_date").is_in(dates)
    ours_sampled = psza_rows.filter(on_dates)
    ours_incomplete = (psza_failures.filter(on_dates & (pl.col("failure_category") == "INCOMPLETE_DATA"))
                       .select("analysis_date", pl.col("entity_id").cast(pl.Int64).alias("player_id")))
    vs_legacy = compare_psza(ours_sampled, legacy["rows"])
    vs_duck = compare_psza(ours_sampled, duck_rows.filter(on_dates))
    vs_duck_all = compare_psza(psza_rows, duck_rows)
    incomplete_equal = (ours_incomplete.sort("analysis_date", "player_id")
                        .equals(legacy["incomplete"].sort("analysis_date", "player_id")))

    results["transforms"] = {n: {kk: vv for kk, vv in r.items() if kk != "result"} for n, r in transforms.items()}
    results["scaling"] = scaling
    results["legacy"] = {"dates": [d.isoformat() for d in dates], "seconds_per_date": per_date,
                         "season_estimate_s": legacy_season_s, "speedup": legacy_season_s / ours_s,
                         "rows": legacy["rows"].height}
    results["duckdb"] = {"times_s": duck_times, "rows": duck_rows.height,
                         "ratio_ours_to_duckdb": ours_s / _median(duck_times)}
    results["agreement"] = {
        "sampled_dates": len(dates),
        "polars_vs_legacy": vars(vs_legacy) | {"ok": vs_legacy.ok},
        "polars_vs_duckdb_sampled": vars(vs_duck) | {"ok": vs_duck.ok},
        "polars_vs_duckdb_all_dates": vars(vs_duck_all) | {"ok": vs_duck_all.ok},
        "incomplete_data_players_equal": incomplete_equal,
    }
    return results


# --------------------------------------------------------------------------------------------------
# report


def _fmt_s(x: float) -> str:
    return f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def _mb(x: float) -> str:
    return f"{x / 1e6:,.0f} MB"


def _status(ok: bool) -> str:
    return "met" if ok else "**missed**"


def render_markdown(r: dict) -> str:
    """The results table (Markdown) printed by the command and pasted into the README."""
    m = r["machine"]
    lines = [
        (f"Machine: {m['logical_cores']} logical cores ({m['physical_cores']} physical), {m['memory_gb']} GB RAM, "
        f"{m['cpu']}; Python {m['python']}, Polars {m['polars']}, DuckDB {m['duckdb']}, pandas {m['pandas']}, "
        f"Dagster {m['dagster']}. Load average at start: {m['load_average_at_start']}. "
        f"Medians of {r['runs']} run(s). Season {r['season']}: {r['calendar_days']} daily partitions, "
        f"{r['game_dates']} game dates, {r['player_game_rows']:,} player-game rows."),
        "",
        "| # | measurement | median | memory | target | |",
        "|---|---|---|---|---|---|",
    ]
    if "dagster" in r:
        full, single = r["dagster"]["full_season"], r["dagster"]["single_date"]
        wall = _median([x["wall_s"] for x in full])
        rss = max(x["peak_rss_bytes"] for x in full) / 1e9
        run_start = [x["run_start_s"] for x in full if x["run_start_s"] is not None]
        lines.append(
            f"| 1 | full season, every asset, through Dagster (`dagster asset materialize --select '*' "
            f"--partition-range`){f'; RUN_START after {_median(run_start):.1f} s' if run_start else ''} "
            f"| {_fmt_s(wall)} | {rss:.2f} GB peak RSS (max) | <= 60 s, <= 2 GB | "
            f"{_status(wall <= TARGETS['full_season_wall_s'] and rss <= TARGETS['full_season_peak_rss_gb'])} |")
        swall = _median([x["wall_s"] for x in single])
        srss = max(x["peak_rss_bytes"] for x in single) / 1e9
        lines.append(f"| 2 | one date ({NIGHTLY_DATE}), every asset, through Dagster (`--partition`) | "
                     f"{_fmt_s(swall)} | {srss:.2f} GB | <= 10 s | {_status(swall <= TARGETS['single_date_wall_s'])} |")
    t1 = r["transforms"]
    total = 0.0
    n_done = 0
    for name, t in t1.items():
        if "skipped" in t:
            lines.append(f"| 3 | {name} transform alone, whole season | not available: {t['skipped']} | | | |")
            continue
        med = _median(t["times_s"])
        total += med
        n_done += 1
        target = "<= 1 s" if name == "PSZA" else ""
        status = _status(med <= TARGETS["psza_transform_s"]) if name == "PSZA" else ""
        lines.append(f"| 3 | {name} transform alone, whole season ({t['rows']:,} rows, {t['failures']:,} "
                     f"failure rows) | {_fmt_s(med)} | see scaling | {target} | {status} |")
    lines.append(f"| 3 | all {n_done} available Phase 4 transforms (sum of medians; {len(t1)} registered) | "
                 f"{_fmt_s(total)} | | <= 5 s | {_status(total <= TARGETS['all_transforms_s'])} |")
    lg = r["legacy"]
    lines.append(
        f"| 4 | legacy PSZA: per date, per player, pandas; {len(lg['dates'])} sampled dates, "
        f"{statistics.fmean(lg['seconds_per_date']):.2f} s per date x {r['game_dates']} game dates "
        f"(single process) | {_fmt_s(lg['season_estimate_s'])} per season (est.) | | ours >= 100x faster | "
        f"{lg['speedup']:,.0f}x: {_status(lg['speedup'] >= TARGETS['legacy_speedup'])} |")
    dk = r["duckdb"]
    lines.append(
        f"| 5 | PSZA as DuckDB SQL window functions, whole season ({dk['rows']:,} rows) | "
        f"{_fmt_s(_median(dk['times_s']))} | | ours / DuckDB <= 1.0 | "
        f"{dk['ratio_ours_to_duckdb']:.2f}: {_status(dk['ratio_ours_to_duckdb'] <= TARGETS['duckdb_ratio'])} |")
    ag = r["agreement"]
    pl_lg, pl_dk, pl_dk_all = ag["polars_vs_legacy"], ag["polars_vs_duckdb_sampled"], ag["polars_vs_duckdb_all_dates"]
    lines += [
        "",
        (f"Agreement on the {ag['sampled_dates']} sampled dates: Polars vs legacy {pl_lg['rows']:,} rows, "
        f"max |diff| {pl_lg['max_abs_diff']:.1e}, {'OK' if pl_lg['ok'] else 'MISMATCH ' + str(pl_lg['details'])}; "
        f"Polars vs DuckDB {pl_dk['rows']:,} rows, max |diff| {pl_dk['max_abs_diff']:.1e}, "
        f"{'OK' if pl_dk['ok'] else 'MISMATCH ' + str(pl_dk['details'])} (all {r['calendar_days']} days: "
        f"{pl_dk_all['rows']:,} rows, {'OK' if pl_dk_all['ok'] else 'MISMATCH'}); INCOMPLETE_DATA players "
        f"Polars = legacy: {ag['incomplete_data_players_equal']}. Tolerance {TOLERANCE:g} on numbers, labels exact."),
    ]
    scaling = {int(k): v for k, v in r.get("scaling", {}).items()}
    if scaling:
        names = [n for n, t in t1.items() if "skipped" not in t]
        lines += ["", ("Scaling (item 3 on the season stacked 1x / 2x / 4x with shifted dates, each in a fresh "
                       "process; median time and peak RSS growth during the call per transform; process peak RSS):"),
                  "",
                  "| season copies | player-game rows | " + " | ".join(names) + " | all | process peak RSS |",
                  "|---|---|" + "---|" * (len(names) + 2)]
        for k in sorted(scaling):
            res = scaling[k]["transforms"]
            cells = [f"{_fmt_s(_median(res[n]['times_s']))}, +{_mb(res[n]['peak_rss_delta_bytes'])}" for n in names]
            tot = sum(_median(res[n]["times_s"]) for n in names)
            lines.append(f"| {k}x | {scaling[k]['player_game_rows']:,} | " + " | ".join(cells)
                         + f" | {_fmt_s(tot)} | {scaling[k]['process_peak_rss_bytes'] / 1e9:.2f} GB |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nba_precompute.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="1 run, 4 legacy dates, scaling 1x and 2x")
    parser.add_argument("--skip-dagster", action="store_true", help="skip items 1-2 (the Dagster CLI runs)")
    parser.add_argument("--json", type=Path, help="also write the raw results to this JSON file")
    parser.add_argument("--scaling-worker", nargs=3, metavar=("DIR", "COPIES", "RUNS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scaling_worker:
        directory, copies, wruns = args.scaling_worker
        print(json.dumps(scaling_worker(Path(directory), int(copies), int(wruns)), default=str))
        return 0
    if args.runs < 1:
        parser.error("--runs must be >= 1")
    runs = 1 if args.quick else args.runs
    results = run_benchmark(runs=runs, quick=args.quick, skip_dagster=args.skip_dagster,
                            scales=(1, 2) if args.quick else (1, 2, 4), legacy_dates=4 if args.quick else 10)
    print(render_markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
