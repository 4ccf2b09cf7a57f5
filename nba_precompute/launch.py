"""``nba-precompute launch`` and ``nba-precompute seasons``: Dagster's own ``dg launch``, given the
partitions of the raw data.

``dg launch --assets SEL --partition-range A...B`` is how a run is made (one single-run backfill of
every selected asset over the range; Dagster does the work). What this module adds is the calendar:

* ``launch --all-seasons`` / ``--season 2023-24`` / ``START [END]`` turn seasons and dates into the
  partition range, so nobody has to know that 2020-21 opened on 2020-12-22 or that the season in
  progress currently ends at 2026-02-09;
* every day of a season is a partition (days without games are written empty, ``no_games: true``); a
  date the raw data cannot serve (a season missing from it, a day after tonight's slate) is refused
  with one line saying why, before Dagster is started; a range is narrowed to the partitions inside
  it, and says so;
* tonight's slate (the first game date whose box scores are not in yet) runs as a run of its own
  without the box-score tables, which wait for its box scores; a range split by a missing season
  becomes one run per part;
* a missing or wrong ``NBA_RAW_DATA_DIR`` is one line, not a definitions-loading traceback;
* without ``DAGSTER_HOME``, the project's instance ``./.dagster_home`` is used when it is there, so the
  run shows in the UI afterwards (Dagster would otherwise use a throw-away instance); ``nba-precompute
  ui`` starts ``dg dev`` on the same instance.

It prints the ``dg launch`` commands it runs (the plan) on stdout, and returns the exit status.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nba_precompute import config
from nba_precompute.partitions import BOX_SCORE_TABLES, GameCalendar, game_calendar, season_label
from nba_precompute.raw.readers import RawDataError
from nba_precompute.raw.sources import LAST_PUBLISHED_SHOT_CHART_SEASON, shot_chart_seasons

PROJECT_HOME = Path(".dagster_home")


class LaunchError(Exception):
    """A bad date, season or data directory; the message is one line for the user."""


def partition_range(calendar: GameCalendar, start: dt.date | None, end: dt.date | None, season: str | None,
                    all_seasons: bool) -> tuple[list[dt.date], str]:
    """The partitions to launch and a note (empty, or one line saying how the request was narrowed).

    Raises:
        LaunchError: no selection, a single date that is not a partition (naming the nearest ones), END
            before START, a range or season without partitions, an unknown season.
    """
    if season is None and not all_seasons and start is None:
        raise LaunchError("say what to launch: --all-seasons, --season 2023-24, or a date / a date range")
    try:
        return calendar.select(start, end, season)
    except ValueError as exc:
        raise LaunchError(str(exc)) from None


def parse_date(text: str) -> dt.date:
    """An ISO date argument (``argparse`` type)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """Run ``launch``, ``seasons`` or ``ui`` from parsed arguments (``parser`` reports usage errors)."""
    if args.command == "launch":
        if (args.all_seasons or args.season) and args.start is not None:
            parser.error("give either dates or --season / --all-seasons")
        return launch(args)
    if args.command == "seasons":
        return seasons(args)
    return ui(args)


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


def _calendar() -> GameCalendar:
    try:
        return game_calendar()
    except RawDataError as exc:
        raise LaunchError(f"{exc} (now: {config.raw_data_dir().resolve()})") from None


def box_score_free(assets: str) -> str:
    """``assets`` without the box-score tables (the selection of tonight's pre-game run)."""
    keys = " or ".join(f'key:"{k}"' for k in BOX_SCORE_TABLES)
    return f"({assets}) and not ({keys})"


def plan_runs(calendar: GameCalendar, days: Sequence[dt.date], assets: str) -> list[tuple[str, list[dt.date]]]:
    """The ``dg launch`` runs of a request, in order: one run per contiguous range of ``days`` (a
    season missing from the raw data splits a range), and tonight's slate as a run of its own whose
    selection leaves out the box-score tables (tonight's box scores are not in yet)."""
    runs: list[tuple[str, list[dt.date]]] = []
    for d in days:
        if runs and runs[-1][1][-1] + dt.timedelta(days=1) == d and d != calendar.tonight:
            runs[-1][1].append(d)
        else:
            runs.append((box_score_free(assets) if d == calendar.tonight else assets, [d]))
    return runs


def launch(args: argparse.Namespace) -> int:
    """``nba-precompute launch``: see the module docstring. Returns the exit status (2: usage)."""
    try:
        calendar = _calendar()
        days, note = partition_range(calendar, args.start, args.end, args.season, args.all_seasons)
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    env, home = project_env()
    runs = plan_runs(calendar, days, args.assets)
    if note:
        print(f"note: {note}")
    if calendar.tonight in days:
        print(f"note: {calendar.tonight} is tonight's slate: its pre-game tables are built now, its box-score tables "
              "when its box scores arrive")
    for assets, span in runs:
        print(f"{len(span)} partition(s): {shlex.join(['dg', *dg_command(assets, span)[1:]])}"
              + (f"   (DAGSTER_HOME={home})" if home else ""))
    if not env.get("DAGSTER_HOME"):
        print("note: DAGSTER_HOME is not set and ./.dagster_home is not here: the run is not kept "
              "(run from the project directory, or export DAGSTER_HOME)", file=sys.stderr)
    if args.dry_run:
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.perf_counter()
    code = run_commands(runs, env)
    verdict = "succeeded" if code == 0 else f"FAILED (exit status {code}; the lines above say which step and why)"
    scope = ("" if args.all_seasons else f" --season {args.season}" if args.season
             else f" {days[0]}" if len(days) == 1 else f" {days[0]} {days[-1]}")
    print(f"{len(days)} partition(s) {days[0]}...{days[-1]} in {len(runs)} run(s): {verdict} in "
          f"{time.perf_counter() - started:.0f} s; check the result with: nba-precompute validate{scope}",
          file=sys.stderr)
    return code


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
    environment and the default it applied (empty when ``DAGSTER_HOME`` was set or no instance is here)."""
    env = dict(os.environ)
    if not env.get("DAGSTER_HOME") and (PROJECT_HOME / "dagster.yaml").exists():
        env["DAGSTER_HOME"] = str(PROJECT_HOME.resolve())
        return env, env["DAGSTER_HOME"]
    return env, ""


def ui(args: argparse.Namespace) -> int:
    """``nba-precompute ui``: ``dg dev`` (webserver and daemon) on the project's instance."""
    env, home = project_env()
    cmd = [dg_executable(), "dev", *(["--port", str(args.port)] if args.port else [])]
    print(f"{shlex.join(['dg', *cmd[1:]])}" + (f"   (DAGSTER_HOME={home})" if home else ""), file=sys.stderr)
    sys.stderr.flush()
    return subprocess.call(cmd, env=env)


def seasons(args: argparse.Namespace) -> int:
    """``nba-precompute seasons``: every season of the raw data, its partitions and its shot chart, and
    tonight's slate."""
    try:
        calendar = _calendar()
    except LaunchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    charts = set(shot_chart_seasons(config.raw_data_dir()))
    every = calendar.partition_days
    print(f"{'season':<8} {'opening':<10}  {'game dates':>10}  {'partitions':>10}  {'through':<10}  {'scheduled to':<12}"
          "  shot chart")
    for r in calendar.seasons.iter_rows(named=True):
        days = [d for d in every if r["season_start_date"] <= d <= r["span_end"]]
        chart = ("yes" if r["season_year"] in charts else
                 "none published (zone columns NULL)" if r["season_year"] > LAST_PUBLISHED_SHOT_CHART_SEASON
                 else "MISSING FILE")
        print(f"{season_label(r['season_year']):<8} {r['season_start_date']!s:<10}  {r['game_dates']:>10}  "
              f"{len(days):>10}  {(days[-1] if days else '-')!s:<10}  {r['season_end_date']!s:<12}  {chart}")
    print(f"all seasons: {len(every)} partitions ({len(calendar.game_dates)} game dates), "
          f"{calendar.first}...{calendar.horizon}")
    if calendar.tonight is not None:
        ids = calendar.missing_games(calendar.tonight)
        print(f"tonight: {calendar.tonight}, {len(ids)} game(s) scheduled ({', '.join(ids)}); last night in the raw "
              f"data: {calendar.last_night}; run it with: nba-precompute launch {calendar.tonight}")
    else:
        print(f"tonight: no scheduled game left in the raw data (last game date {calendar.horizon})")
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``launch`` and ``seasons`` on the ``nba-precompute`` parser."""
    p = sub.add_parser("launch", help="materialise assets over seasons or dates (runs `dg launch`)",
                       description=__doc__.split("\n\n")[1], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("start", type=parse_date, nargs="?", help="a partition, or the first day of a range (YYYY-MM-DD)")
    p.add_argument("end", type=parse_date, nargs="?", help="the last day of the range")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--season", help="one season, e.g. 2023-24")
    which.add_argument("--all-seasons", action="store_true", help="every partition of every season")
    p.add_argument("--assets", default="*", help="Dagster asset selection (default '*': every asset)")
    p.add_argument("--dry-run", action="store_true", help="print the dg launch command, do not run it")
    sub.add_parser("seasons", help="the seasons of the raw data: partitions, dates, shot charts")
    u = sub.add_parser("ui", help="the Dagster UI on the project's instance (runs `dg dev`)")
    u.add_argument("--port", type=int, default=None, help="webserver port (default 3000)")
