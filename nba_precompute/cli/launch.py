"""``nba-precompute launch``: Dagster's own ``dg launch``, given the partitions of the raw data.

``dg launch --assets SEL --partition-range A...B`` is how a run is made (one single-run backfill of
every selected asset over the range; Dagster does the work). What this command adds is the calendar:

* ``--all-seasons`` / ``--season 2023-24`` / ``START [END]`` become the partition ranges, so nobody has
  to know that 2020-21 opened on 2020-12-22 or where the season in progress ends (at tonight's slate);
* every day of a season is a partition (days without games are written empty, ``no_games: true``); a
  date the raw data cannot serve (a season missing from it, a day after tonight's slate) is refused
  with one line saying why, before Dagster is started; a range is narrowed to the partitions inside
  it, and says so;
* tonight's slate (the first game date whose box scores are not in yet) runs as a run of its own
  without the box-score tables, which wait for its box scores (:func:`nba_precompute.runs.plan_runs`);
  a selection of box-score tables only has no run tonight, and says so; a range split by a missing
  season becomes one run per part;
* a partition that reads a raw row breaking a domain rule (the quarantine, ``nba_precompute.raw.quarantine``)
  is left out of the runs, which are split around it (:func:`nba_precompute.runs.around_blocked`); what is
  blocked, why (file, line, rule, value) and the fix are printed with the plan, the other partitions run,
  and the command exits 1;
* a missing or wrong ``NBA_RAW_DATA_DIR`` is one line, not a definitions-loading traceback;
* without ``DAGSTER_HOME``, the project's instance ``./.dagster_home`` is used when it is there
  (:func:`nba_precompute.runs.project_env`).

The plan (the ``dg launch`` commands) goes to stdout; diagnostics, Dagster's logs and the verdict to
stderr. Dagster is imported only to check an ``--assets`` selection other than ``'*'``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
import time

from nba_precompute import config, runs
from nba_precompute.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    HelpFormatter,
    UsageError,
    add_range_arguments,
    calendar,
    error,
)
from nba_precompute.partitions import BOX_SCORE_TABLES, GameCalendar
from nba_precompute.raw.readers import RawDataError
from nba_precompute.schemas import PHASE3_TABLES, PHASE4_TABLES

# the table assets ("schema/table"): what a selection can materialise, and what a quarantined row blocks
TABLE_KEYS = frozenset(t.qualified_name.replace(".", "/") for t in (*PHASE3_TABLES, *PHASE4_TABLES))

DESCRIPTION = """\
Materialise the assets over seasons or dates with Dagster's dg launch. The command turns seasons and
dates into partition ranges: --season 2023-24 runs one season from its opening night to the eve of the
next one, --all-seasons runs every season of the raw data, and START [END] runs one date or a range.

Every day of a season is a partition; days without games are written empty. A date the raw data cannot
serve (a season missing from it, a day after tonight's slate) is refused with one line saying why,
before Dagster starts, and a range is narrowed to the partitions inside it. Tonight's slate (the first
game date whose box scores are not in yet) runs on its own, without the box-score tables, which wait
for its box scores.

A partition that reads a raw row breaking a domain rule (a quarantined row: nba-precompute validate lists
them) is not launched: the runs are split around it, the blocked partitions are printed with the row's
file, line, rule and value, and the other partitions run.

The plan (the dg launch commands, the blocked partitions, and notes on how the request was narrowed) is
printed on standard output; diagnostics, Dagster's logs and the verdict on standard error. Without DAGSTER_HOME, the project's instance ./.dagster_home is used when it is
there, so the runs show in the UI (nba-precompute ui).
"""

EPILOG = """\
Exit status: 0 when every run succeeded (or after a dry run); 1 when partitions were blocked by quarantined
raw rows and every other run succeeded (a dry run too), or a raw file cannot be read (nothing launched); 2 on a usage error
(a bad date, season, asset selection or raw data directory); otherwise the exit status of the dg launch run
that failed.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``launch`` on the ``nba-precompute`` parser."""
    p = sub.add_parser("launch", help="Materialise assets over seasons or dates (runs dg launch).",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    add_range_arguments(p, everything_by_default=False)
    p.add_argument("--assets", default="*", help="Dagster asset selection (default '*': every asset)")
    p.add_argument("--dry-run", action="store_true", help="print the dg launch commands, do not run them")


def partition_range(cal: GameCalendar, start: dt.date | None, end: dt.date | None, season: str | None,
                    all_seasons: bool) -> tuple[list[dt.date], str]:
    """The partitions to launch and a note (empty, or one line saying how the request was narrowed).

    Raises:
        UsageError: no selection, a single date the raw data cannot serve (saying why: a missing season,
            after tonight's slate), END before START, a range or season without partitions, an unknown
            season.
    """
    if season is None and not all_seasons and start is None:
        raise UsageError("say what to launch: --all-seasons, --season 2023-24, or a date / a date range")
    try:
        return cal.select(start, end, season)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def check_asset_selection(selection: str) -> set[str]:
    """Refuse, before ``dg`` starts, an ``--assets`` selection that does not parse or selects no asset to
    materialise, naming the problem and the asset groups. Loads the definitions (Dagster imported here
    only, so the default ``'*'`` keeps the launcher's fast start).

    Returns the asset keys (``"nba_analytics/player_game_summary"``) of the materialisable assets the
    selection selects.

    Raises:
        UsageError: one line.
    """
    import warnings

    from nba_precompute.cli.common import quiet_dagster_warnings

    with warnings.catch_warnings():
        quiet_dagster_warnings()  # the selection parser's BetaWarning
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
            raise UsageError(f"--assets {selection!r} is not an asset selection ({reason}); {hint}") from None
    selected = {k.to_user_string() for k in keys if graph.get(k).is_materializable}
    if not selected:
        raise UsageError(f"--assets {selection!r} selects no asset to materialise; {hint}")
    return selected


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``nba-precompute launch``: see the module docstring. Returns the exit status (2: usage; 1: partitions
    blocked by quarantined raw rows, the others launched)."""
    if (args.all_seasons or args.season) and args.start is not None:
        parser.error("give either dates or --season / --all-seasons")
    try:
        cal = calendar()
        days, note = partition_range(cal, args.start, args.end, args.season, args.all_seasons)
        selected = TABLE_KEYS if args.assets.strip() == "*" else check_asset_selection(args.assets) & TABLE_KEYS
        box_only = args.assets.strip() != "*" and selected <= set(BOX_SCORE_TABLES)
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    scope = ("" if args.all_seasons else f" --season {args.season}" if args.season
             else f" {days[0]}" if len(days) == 1 else f" {days[0]} {days[-1]}")
    planned = runs.plan_runs(cal, days, args.assets, box_scores_only=box_only)
    tonight = cal.tonight in days
    if tonight and box_only:
        message = (f"{cal.tonight} is tonight's slate: its box scores are not in yet, and --assets "
                   f"{args.assets!r} selects box-score tables only")
        if not planned:
            error(f"{message}: nothing to launch")
            return EXIT_USAGE
        print(f"note: {message}: no run for {cal.tonight}")
    try:
        planned, blocked = blocked_partitions(cal, days, planned, selected, args.assets, scope)
    except RawDataError as exc:
        error(f"{exc}; nothing launched")
        return EXIT_PROBLEMS
    env, home = runs.project_env()
    if note:
        print(f"note: {note}")
    if tonight and not box_only:
        print(f"note: {cal.tonight} is tonight's slate: its pre-game tables are built now, its box-score tables "
              "when its box scores arrive")
    for assets, span in planned:
        print(f"{len(span)} partition(s): {shlex.join(['dg', *runs.dg_command(assets, span)[1:]])}"
              + (f"   (DAGSTER_HOME={home})" if home else ""))
    if not env.get("DAGSTER_HOME"):
        print("note: DAGSTER_HOME is not set and ./.dagster_home is not here: the run is not kept "
              "(run from the project directory, or export DAGSTER_HOME)", file=sys.stderr)
    if args.dry_run or not planned:
        return EXIT_PROBLEMS if blocked else EXIT_OK
    sys.stdout.flush()
    sys.stderr.flush()
    started = time.perf_counter()
    code = runs.run_commands(planned, env)
    verdict = "succeeded" if code == 0 else f"FAILED (exit status {code}; the lines above say which step and why)"
    launched = sorted(d for _, span in planned for d in span)
    print(f"{len(launched)} partition(s) {launched[0]}...{launched[-1]} in {len(planned)} run(s): {verdict} in "
          f"{time.perf_counter() - started:.0f} s; check the result with: nba-precompute validate{scope}",
          file=sys.stderr)
    if code == 0 and blocked:
        print(f"{blocked} partition(s) not launched: they read quarantined raw rows (listed above); exit "
              f"{EXIT_PROBLEMS}", file=sys.stderr)
        return EXIT_PROBLEMS
    return code


def blocked_partitions(cal: GameCalendar, days: list[dt.date], planned: list[tuple[str, list[dt.date]]],
                       tables: set[str], assets: str, scope: str) -> tuple[list[tuple[str, list[dt.date]]], int]:
    """``planned`` without the partitions that read a raw row breaking a domain rule (issue 18: a bad row
    blocks only what reads it; :func:`nba_precompute.runs.around_blocked`), and how many (table, day)
    partitions that leaves out. When any is, prints on stdout what is blocked, why (each quarantined row:
    file, line, rule, value) and the fix.

    The quarantine of the seasons of ``days`` is computed first (``RawInputs.quarantine``: the hoopR files
    parsed and checked against the domain rules, about 1 s a season); the runs are changed only when it
    has rows.

    Raises:
        RawDataError: a raw file is missing, corrupt or unparseable.
    """
    from nba_precompute.raw.inputs import RawInputs

    q = RawInputs(config.raw_data_dir(), cal.seasons).quarantine(days[0], days[-1])
    if q.is_empty:
        return planned, 0
    kept, hit = runs.around_blocked(planned, tables, cal.tonight, q)
    if hit.is_empty():
        return kept, 0
    n = hit.select("table_name", "partition_date").unique().height
    print(f"blocked: {n} partition(s) read raw rows that break a domain rule (quarantined) and are not launched: "
          f"{q.partitions(hit)}")
    for line in q.lines(hit, limit=20):
        print(f"  {line}")
    print(f"fix: correct the raw row(s), then run nba-precompute launch{scope}"
          + (f" --assets {shlex.quote(assets)}" if assets.strip() != "*" else "")
          + " again (or nba-precompute refresh); nba-precompute validate lists the quarantined rows")
    return kept, n
