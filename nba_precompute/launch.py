"""``nba-precompute launch`` and ``nba-precompute seasons``: Dagster's own ``dg launch``, given the
partitions of the raw data.

``dg launch --assets SEL --partition-range A...B`` is how a run is made (one single-run backfill of
every selected asset over the range; Dagster does the work). What this module adds is the calendar:

* ``launch --all-seasons`` / ``--season 2023-24`` / ``START [END]`` turn seasons and dates into the
  partition ranges, so nobody has to know that 2020-21 opened on 2020-12-22 or where the season in
  progress ends (at tonight's slate);
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
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from nba_precompute import config
from nba_precompute.partitions import BOX_SCORE_TABLES, GameCalendar, contiguous_spans, game_calendar, season_label
from nba_precompute.raw.readers import RawDataError
from nba_precompute.raw.sources import LAST_PUBLISHED_SHOT_CHART_SEASON, shot_chart_seasons

PROJECT_HOME = Path(".dagster_home")


class LaunchError(Exception):
    """A bad date, season or data directory; the message is one line for the user."""


def partition_range(calendar: GameCalendar, start: dt.date | None, end: dt.date | None, season: str | None,
                    all_seasons: bool) -> tuple[list[dt.date], str]:
    """The partitions to launch and a note (empty, or one line saying how the request was narrowed).

    Raises:
        LaunchError: no selection, a single date the raw data cannot serve (saying why: a missing season,
            after tonight's slate), END before START, a range or season without partitions, an unknown
            season.
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
    for span in contiguous_spans(days):
        before = [d for d in span if d != calendar.tonight]  # tonight is the horizon: a span's last day
        if before:
            runs.append((assets, before))
        if calendar.tonight in span:
            runs.append((box_score_free(assets), [calendar.tonight]))
    return runs


def check_asset_selection(selection: str) -> None:
    """Refuse, before ``dg`` starts, an ``--assets`` selection that does not parse or selects no asset to
    materialise, naming the problem and the asset groups. Loads the definitions (Dagster imported here
    only, so the default ``'*'`` keeps the launcher's fast start).

    Raises:
        LaunchError: one line.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Dagster's BetaWarning of the selection parser
        from dagster import AssetSelection, DagsterError

        from nba_precompute.definitions import defs

        graph = defs().resolve_asset_graph()
        groups = sorted({n.group_name for n in graph.asset_nodes if n.is_materializable})
        hint = ("asset groups: " + ", ".join(f"group:{g}" for g in groups)
                + "; e.g. --assets 'group:phase4_precompute or group:phase4_predictions'")
        try:
            keys = AssetSelection.from_string(selection).resolve(graph, allow_missing=True)
        except DagsterError as exc:
            reason = " ".join(str(exc).split())
            raise LaunchError(f"--assets {selection!r} is not an asset selection ({reason}); {hint}") from None
    if not any(graph.get(k).is_materializable for k in keys):
        raise LaunchError(f"--assets {selection!r} selects no asset to materialise; {hint}")


def launch(args: argparse.Namespace) -> int:
    """``nba-precompute launch``: see the module docstring. Returns the exit status (2: usage)."""
    try:
        calendar = _calendar()
        days, note = partition_range(calendar, args.start, args.end, args.season, args.all_seasons)
        if args.assets.strip() != "*":
            check_asset_selection(args.assets)
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
    return run_in_own_session(cmd, env)


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
