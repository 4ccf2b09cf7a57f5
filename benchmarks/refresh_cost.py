"""What a one-night stat correction at mid-season costs (issue 18): ``nba-precompute refresh`` next to
rebuilding the season (``nba-precompute launch --season 2025-26`` on a fresh warehouse).

On a copy of the 2025-26 raw files (box scores through the last night of the shared data, so the
warehouse reaches the horizon: tonight's slate), in a temporary directory:

1. ``nba-precompute launch --season 2025-26`` on a fresh warehouse and a fresh Dagster instance
   (timed: the cost of rebuilding the season);
2. one legal correction of a game of ``--night`` (default 2026-01-01: one more made two for one
   player, his team's row to match; ``nba_precompute_tests.raw_copies.correct_made_two``);
3. ``nba-precompute refresh --dry-run`` (timed: the planning alone), then ``nba-precompute refresh``
   (timed; it launches one run of the refresh job with ``dg launch --job nba_refresh``), then the partitions
   rewritten are counted from ``nba_processing.partition_log`` (rows whose ``written_at`` changed,
   the data tables only) and ``nba-precompute refresh --dry-run`` must say "up to date".

Prints the figures and the load average (``/proc/loadavg``) before each timed step. Run from the
repository root: ``python benchmarks/refresh_cost.py`` (``NBA_RAW_DATA_DIR``: the shared raw data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from nba_precompute.partitions import game_calendar  # noqa: E402
from nba_precompute.raw.versions import VERSIONED_TABLES  # noqa: E402
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse  # noqa: E402
from nba_precompute_tests.raw_copies import correct_made_two, season_copy  # noqa: E402


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def timed(cmd: list[str], env: dict[str, str], log: Path) -> tuple[float, int, str]:
    load = loadavg()
    t0 = time.perf_counter()
    with open(log, "w") as out:
        rc = subprocess.call(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    return time.perf_counter() - t0, rc, load


def log_rows(db: Path) -> dict[tuple[str, dt.date], object]:
    names = ", ".join(f"'{t}'" for t in VERSIONED_TABLES)
    df = DuckDBWarehouse(str(db)).query(
        f"SELECT table_name, partition_date, written_at FROM nba_processing.partition_log WHERE table_name IN ({names})")
    return {(t, d): w for t, d, w in df.iter_rows()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--night", type=dt.date.fromisoformat, default=dt.date(2026, 1, 1))
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    shared = Path(os.environ.get("NBA_RAW_DATA_DIR", REPO.parent / "shared" / "data" / "nba"))
    real = game_calendar(shared)
    cutoff = (real.tonight or real.horizon + dt.timedelta(days=1))
    work = Path(tempfile.mkdtemp(prefix="refresh_cost_"))
    raw, db, home = work / "raw", work / "warehouse.duckdb", work / "home"
    season_copy(shared, raw, 2025, cutoff)
    home.mkdir()
    shutil.copy(REPO / ".dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "NBA_RAW_DATA_DIR": str(raw), "NBA_PRECOMPUTE_DUCKDB_PATH": str(db),
           "NBA_PRECOMPUTE_WAREHOUSE": "duckdb", "DAGSTER_HOME": str(home),
           "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    cli = [sys.executable, "-m", "nba_precompute.cli"]
    cal = game_calendar(raw)
    print(f"2025-26 copy: {len(cal.partition_days)} partitions {cal.first}..{cal.horizon} (tonight {cal.tonight}); "
          f"work dir {work}")

    build_s, rc, build_load = timed([*cli, "launch", "--season", "2025-26"], env, work / "launch.log")
    if rc != 0:
        print(f"launch failed ({rc}); see {work / 'launch.log'}")
        return 1
    before = log_rows(db)
    game, player = correct_made_two(raw, args.night)
    print(f"corrected {args.night}: game {game}, player {player} (+1 made two, +2 points; team row to match)")

    plan_s, rc, _ = timed([*cli, "refresh", "--dry-run"], env, work / "plan.log")  # planning alone
    refresh_s, rc, refresh_load = timed([*cli, "refresh"], env, work / "refresh.log")
    if rc != 0:
        print(f"refresh failed ({rc}); see {work / 'refresh.log'}")
        return 1
    after = log_rows(db)
    rewritten = sorted(k for k in after if after[k] != before.get(k))
    days = sorted({d for _, d in rewritten})
    check = subprocess.run([*cli, "refresh", "--dry-run"], cwd=REPO, env=env, capture_output=True, text=True)
    plan_lines = [line for line in (work / "refresh.log").read_text().splitlines()
                  if line.startswith(("  night", "  step", "refresh", "one run", "dg", " ")) or "partition(s)" in line][:8]
    print("refresh plan:\n" + "\n".join(plan_lines))
    print(f"rebuild the season (launch --season 2025-26, fresh warehouse): {build_s:7.1f} s  "
          f"({len(before):,} partitions written; load average before: {build_load})")
    print(f"refresh after the correction:                           {refresh_s:7.1f} s  "
          f"({len(rewritten):,} partitions rewritten = {len(rewritten) / max(len(before), 1):.1%}, "
          f"days {days[0] if days else '-'}..{days[-1] if days else '-'}; load average before: {refresh_load})")
    print(f"  of which planning (refresh --dry-run: parse + check the raw files, versions, compare): {plan_s:.1f} s; "
          f"the run also pays Dagster's start-up (the log: {work / 'refresh.log'})")
    print(f"ratio refresh / rebuild: {refresh_s / build_s:.2f}; after refresh: "
          f"{'up to date' if 'up to date' in check.stdout else 'NOT up to date: ' + check.stdout[-300:]}; "
          f"load average now: {loadavg()}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
