"""``nba-precompute refresh [--dry-run] [--season S] [--duckdb-path PATH]``: rematerialise the
partitions whose raw inputs changed since they were written (the plan: :mod:`nba_precompute.refresh`).

The plan (what is stale and why, the steps of the run and its ``dg launch --job nba_refresh`` command)
goes to stdout; the run's own output (Dagster's logs) and the verdict to stderr.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from pathlib import Path

from nba_precompute import config, runs
from nba_precompute.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    EXIT_WAREHOUSE,
    HelpFormatter,
    UsageError,
    error,
    open_warehouse,
    quiet_dagster_warnings,
    warehouse_help,
)
from nba_precompute.partitions import game_calendar
from nba_precompute.raw.readers import RawDataError
from nba_precompute.warehouse.base import WarehouseError

DESCRIPTION = """\
Rematerialise exactly the partitions whose raw inputs changed since they were written (stat
corrections and late box scores). Every partition is stored with the data version of the raw rows it
depends on. A night whose raw rows changed has its box-score tables and schedule run again first, then
the pre-game tables whose windows read that night: every later materialised day of its season, and in
the next season the opening days' roster tables and 365 days of the ML feature store. A partition
written before data versions existed is run once to record its version. Partitions whose inputs did not
change are not rewritten. Everything is one Dagster run of the job nba_refresh (steps in order, each
table on its own days). Before it, the changed versions are recorded in Dagster, whose UI then shows
the partitions to refresh as Unsynced.

Raw files that do not parse or break a domain rule, and a materialised night whose games are no longer
in the raw data, are refused with nothing written.

The plan (what is stale and why, the steps of the run and its dg launch command) is printed on standard
output; the run's logs and the verdict on standard error.
"""

EPILOG = f"""\
Exit status: {EXIT_OK} when everything is up to date or refreshed, or a dry run printed its plan; {EXIT_PROBLEMS}
when the refresh is refused (a dry run too) or its run fails; {EXIT_USAGE} on a usage or configuration error; {EXIT_WAREHOUSE} when
the warehouse cannot be read.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``refresh`` on the ``nba-precompute`` parser."""
    r = sub.add_parser("refresh", help="Rematerialise the partitions whose raw inputs changed (corrections).",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    r.add_argument("--season", help="only the partitions of one season, e.g. 2025-26 (and the box-score tables "
                                    "of a changed night of the season before that they read)")
    r.add_argument("--dry-run", action="store_true", help="print the plan (what is stale and why), launch nothing")
    r.add_argument("--duckdb-path", default=None, help=warehouse_help())


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``nba-precompute refresh``: see :mod:`nba_precompute.refresh`. Returns the exit status."""
    quiet_dagster_warnings()
    from nba_precompute import refresh  # the plan (reads the warehouse and the raw data's versions)

    try:
        calendar = game_calendar()
    except RawDataError as exc:
        error(f"refresh refused, nothing written: {exc}")
        return EXIT_PROBLEMS
    try:
        days = refresh.season_days(calendar, args.season)
        warehouse, where = open_warehouse(args.duckdb_path)
    except (UsageError, ValueError) as exc:
        error(str(exc))
        return EXIT_USAGE
    try:
        warehouse.check_readable()
        plan = refresh.plan_refresh(warehouse, config.raw_data_dir(), calendar, days)
    except WarehouseError as exc:
        error(str(exc))
        return EXIT_WAREHOUSE
    except (RawDataError, refresh.MissingNightError) as exc:
        error(f"refresh refused, nothing written: {exc}")
        return EXIT_PROBLEMS
    print(f"refresh ({where}; raw data {config.raw_data_dir().resolve()}):")
    for line in refresh.describe(plan):
        print(line)
    env, _ = runs.project_env()
    if not args.dry_run:  # the versions into Dagster first (the UI's stale partitions; the runs' inputs)
        from nba_precompute.defs.data_versions import observe

        print(observe(plan, env.get("DAGSTER_HOME")))
    if plan.up_to_date:
        return EXIT_OK
    command = refresh.job_command(plan)
    print(f"one run of the refresh job ({len(plan.runs)} step(s), in order):")
    for line in refresh.step_lines(plan):
        print(line)
    print(shlex.join(["dg", *command[1:]]))
    if args.dry_run:
        print("dry run: nothing launched")
        return EXIT_OK
    if args.duckdb_path:
        env["NBA_PRECOMPUTE_DUCKDB_PATH"] = str(Path(args.duckdb_path).resolve())
        env["NBA_PRECOMPUTE_WAREHOUSE"] = "duckdb"
    sys.stdout.flush()
    code = subprocess.call(command, env=env)
    verdict = "succeeded" if code == 0 else f"FAILED (exit status {code}; the lines above say which step and why)"
    print(f"refresh of {plan.stale.height} partition(s) in one run: {verdict}; check with: "
          "nba-precompute validate", file=sys.stderr)
    return EXIT_OK if code == 0 else EXIT_PROBLEMS
