"""``nba-precompute validate [START [END]] [--season 2023-24 | --all-seasons] [--details]
[--format terminal|json] [--duckdb-path PATH]``: the validation report of the warehouse (the numbers
come from :func:`nba_precompute.report.build_report` and :mod:`nba_precompute.transforms.validation`;
this module selects the partitions and prints). Stale partitions (raw inputs changed since they were
written: :mod:`nba_precompute.refresh`) are listed too, and make the exit status 1.

* Dates: no date and ``--all-seasons`` report every game date of the raw data
  (``nba_precompute.partitions.game_calendar``; days without games are empty partitions and are not
  reported); ``--season 2023-24`` one season; ``START`` one date (a date the raw data cannot serve is
  refused in one line saying why); ``START END`` the game dates in [START, END].
* Warehouse: the one the assets use (``NBA_PRECOMPUTE_WAREHOUSE``, ``NBA_PRECOMPUTE_DUCKDB_PATH``,
  ``NBA_PRECOMPUTE_BQ_*``: ``nba_precompute.defs.resources.warehouse_from_env``), or the DuckDB file
  ``--duckdb-path``. It is only read, through the ``Warehouse`` interface (``read``, ``exists``,
  ``partition_log``, ``row_counts``, ``check_readable``), so DuckDB (opened read-only) and BigQuery
  alike.
* Output: a per-season summary, shot-chart coverage, the problem rows (grouped into runs of
  consecutive partitions) with the ``dg launch`` commands that rematerialise them, the
  ``incomplete_rate_within_band`` warnings (the (date, table) days whose incomplete rate is above its
  band: the same WARNs as the asset check on the dashboard, never a failure), and the totals; ``--details`` adds every (date, table) row; ``--format
  json`` prints everything as one JSON document.

Exit status:

* 0 - clean: every Phase 3 and Phase 4 partition of the range materialised and whole, no true failure;
* 1 - problems found: a table or partition missing, a Phase 3 hole, expected entities unaccounted for,
  or a true failure (entity-level or DATE_LEVEL);
* 2 - usage or configuration error: bad arguments, a date that is not a partition, a season not in
  the raw data, an unreadable raw data directory (``NBA_RAW_DATA_DIR``), invalid warehouse settings;
* 3 - the warehouse cannot be read: the DuckDB file is locked by a running run (another process holds
  its write lock), does not exist or is not a DuckDB file; BigQuery unreachable, datasets missing,
  permission denied. Nothing was validated: retry later or fix the connection.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from collections.abc import Sequence

import polars as pl

from nba_precompute import config
from nba_precompute.cli.common import (
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    EXIT_WAREHOUSE,
    HelpFormatter,
    UsageError,
    add_range_arguments,
    error,
    open_warehouse,
    quiet_dagster_warnings,
    warehouse_help,
)
from nba_precompute.partitions import GameCalendar, game_calendar, season_label
from nba_precompute.raw.readers import RawDataError
from nba_precompute.raw.sources import shot_chart_seasons
from nba_precompute.schemas import PHASE3_TABLES
from nba_precompute.transforms.validation import INCOMPLETE_RATE_WITHIN_BAND, MIN_SLATE_PLAYERS, PHASE3
from nba_precompute.warehouse.base import Warehouse, WarehouseError, WarehouseLockedError

MAX_PROBLEM_LINES = 20  # grouped problem lines printed without --details
MAX_WARNING_LINES = 10  # incomplete_rate_within_band warnings printed without --details


# --------------------------------------------------------------------------- arguments


def select_partitions(calendar: GameCalendar, start: dt.date | None, end: dt.date | None,
                      season: str | None) -> list[dt.date]:
    """The game dates to report: every one (no date, no season), a season's, one date's or those in
    [start, end] (days without games are empty partitions by construction and are not reported).

    Raises:
        UsageError: dates together with ``season``, END before START, a single date the raw data cannot
            serve (saying why: a missing season, after tonight's slate), a range or season without game
            dates, an unknown season.
    """
    if season is not None and start is not None:
        raise UsageError("give either dates or --season, not both")
    try:
        days = calendar.select(start, end, season)[0]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    # days without games are empty partitions by construction: the report covers the game dates
    games = set(calendar.game_dates)
    on_game_days = [d for d in days if d in games]
    if not on_game_days:
        raise UsageError(f"{days[0]}..{days[-1]} holds no game date: nothing to validate")
    return on_game_days



# --------------------------------------------------------------------------- output


def _season(year: object) -> str:
    return "?" if year is None else season_label(int(year))


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())) or "none"


def _span(start: dt.date, end: dt.date) -> str:
    return f"{start}" if start == end else f"{start}..{end}"


def _zones(r: dict) -> str:
    if r.get("coverage") is None:
        return "-"
    if r["source"] == "none published" and not r["with_zone_split"]:
        return "none*"
    return f"{r['coverage']:.0%}"


def _season_lines(seasons: pl.DataFrame) -> list[str]:
    head = (f"{'season':<8} {'dates':>5} {'rows':>10} {'expected':>10} {'INCOMPL.':>9} {'STALE':>6} "
            f"{'failed':>7} {'fail rate':>9} {'unacc.':>8} {'zones':>6}  Phase 4 / Phase 3 (date, table) statuses")
    lines = [head, "-" * len(head)]
    for r in seasons.iter_rows(named=True):  # one line per season (<= 6): formatting only
        p4 = _counts({s: r[s] for s in ("COMPLETE", "FAILED", "MISSING", "NO_GAMES") if r[s]})
        p3 = _counts({s: r[f"phase3_{s}"] for s in ("COMPLETE", "PHASE3_HOLE", "MISSING") if r[f"phase3_{s}"]})
        lines.append(f"{_season(r['season_year']):<8} {r['partitions']:>5} {r['rows_written']:>10,} "
                     f"{r['expected']:>10,} {r['incomplete_data']:>9,} {r['stale_data']:>6,} "
                     f"{r['failed_entities']:>7,} {r['true_failure_rate']:>9.2%} {r['unaccounted']:>8,} "
                     f"{_zones(r):>6}  {p4} / {p3}")
    return lines


def _problem_lines(problems: pl.DataFrame, limit: int | None) -> list[str]:
    total = int(problems.get_column("pairs").sum()) if problems.height else 0
    n_phase3 = len(PHASE3_TABLES)
    shown = problems if limit is None else problems.head(limit)
    lines = [f"Problems: {total:,} (date, table) pairs in {problems.height:,} runs"
             + ("" if limit is None or problems.height <= limit else
                f" (first {limit} shown; every row: --details or --format json)") + ":"]
    for r in shown.iter_rows(named=True):  # at most `limit` lines: formatting only
        phase = "Phase 3" if r["phase"] == PHASE3 else "Phase 4"
        n = r["partitions"]
        detail = "" if not r["detail"] else f" {r['detail']}" if r["detail"].startswith("(") else f" — {r['detail']}"
        tables = (f"all {n_phase3} Phase 3 tables" if r["phase"] == PHASE3 and len(r["labels"]) == n_phase3
                  else ", ".join(r["labels"]))
        lines.append(f"  {_span(r['start'], r['end']):<22} {n:>4} date{'s' if n > 1 else ' '}  {phase}  "
                     f"{r['status']:<11} {tables}: {r['problem_kind']}{detail}")
    return lines


def _warning_lines(warnings: pl.DataFrame, phase4: pl.DataFrame, labels: dict[str, str],
                   details: bool) -> list[str]:
    """The ``incomplete_rate_within_band`` WARN days, worded like the check on the dashboard."""
    banded = phase4.filter(pl.col("expected_band_upper").is_not_null() & pl.col("materialized"))
    lines = [f"{INCOMPLETE_RATE_WITHIN_BAND} (WARN, not a failure: more entities than usual below the minimum "
             f"for that week of the season, worth a look): {warnings.height:,} of {banded.height:,} banded "
             f"(date, table) days above their band" + (":" if warnings.height else "")]
    shown = warnings if details else warnings.head(MAX_WARNING_LINES)
    for r in shown.iter_rows(named=True):  # formatting only
        lines.append(f"  WARN {r['date']!s:<10} {labels.get(r['table'], r['table']):<5} week {r['season_week']:>2}: "
                     f"incomplete rate {r['incomplete_rate']:6.1%} ({r['entities_incomplete']:,} of "
                     f"{r['entities_total']:,}) above the band's upper edge {r['expected_band_upper']:.0%} "
                     f"({r['expected_band']})")
    if not details and warnings.height > MAX_WARNING_LINES:
        lines.append(f"  ... {warnings.height - MAX_WARNING_LINES} more (--details)")
    return lines


def _weekly_lines(weekly: pl.DataFrame, labels: dict[str, str]) -> list[str]:
    """--details: every (table, season, week) with its pooled incomplete rate and WARN days."""
    lines = ["Incomplete rate per season week (INCOMPLETE_DATA is expected, not a failure; "
             f"a week with a WARN day is one with {INCOMPLETE_RATE_WITHIN_BAND} WARNs):"]
    for r in weekly.filter(pl.col("entities_total") > 0).iter_rows(named=True):  # formatting only
        band = "no band" if r["band_upper"] is None else (
            f"{r['band_label']}; {r['days_above_band']} of {r['dates']} day(s) above band -> "
            f"{'within band' if r['within_band'] else 'WARN'}")
        lines.append(f"  {labels.get(r['table'], r['table']):<5} {_season(r['season_year'])} week "
                     f"{r['season_week']:>2}: {r['incomplete_rate']:6.1%} of {r['entities_total']:,}  ({band})")
    return lines


def _detail_lines(phase4: pl.DataFrame, phase3: pl.DataFrame, labels: dict[str, str]) -> list[str]:
    head = (f"{'date':<10}  {'table':<6} {'rows':>6} {'expected':>8} {'incompl':>7} {'stale':>5} "
            f"{'failed':>6}  status")
    lines = ["Phase 4, every (date, table):", head, "-" * len(head)]
    order = {name: str(i) for i, name in enumerate(labels)}  # declaration order: TDZA, PSZA, PCF, PDC, MLFS
    phase4 = phase4.sort("date", pl.col("table").replace(order))
    for r in phase4.iter_rows(named=True):  # --details: one line per row, formatting only
        note = f"  {r['problem']}" if r["problem"] else ""
        lines.append(f"{r['date']!s:<10}  {labels.get(r['table'], r['table']):<6} {r['rows_written']:>6} "
                     f"{r['expected']:>8} {r['incomplete_data']:>7} {r['stale_data']:>5} "
                     f"{r['failed_entities']:>6}  {r['status']}{note}")
    head = f"{'date':<10}  {'table':<28} {'rows':>6} {'games':>5}  status"
    lines += ["", "Phase 3, every (date, table):", head, "-" * len(head)]
    for r in phase3.iter_rows(named=True):
        note = f"  {r['problem']}" if r["problem"] else ""
        lines.append(f"{r['date']!s:<10}  {r['table'].split('.')[-1]:<28} {r['rows_written']:>6} "
                     f"{r['games']:>5}  {r['status']}{note}")
    return lines


def render_terminal(report: dict[str, object], warehouse: str, details: bool = False) -> str:
    """The terminal report: header, per-season table, shot-chart coverage, problem runs (all of them
    with ``details``, else the first :data:`MAX_PROBLEM_LINES`), fix commands, the
    ``incomplete_rate_within_band`` WARN days (all with ``details``, else the first
    :data:`MAX_WARNING_LINES`), totals and the verdict; ``details`` adds every season week and every
    (date, table) row."""
    s: dict = report["summary"]  # type: ignore[assignment]
    seasons: pl.DataFrame = report["seasons"]  # type: ignore[assignment]
    problems: pl.DataFrame = report["problems"]  # type: ignore[assignment]
    fixes: pl.DataFrame = report["fixes"]  # type: ignore[assignment]
    coverage: pl.DataFrame = report["coverage"]  # type: ignore[assignment]
    from nba_precompute.defs.phase4.tables import PHASE4_TABLES

    labels = {t.spec.qualified_name: t.abbreviation for t in PHASE4_TABLES}
    lines = [f"Validation report {report['start']}..{report['end']}: {s['dates']:,} partitions (game dates) "
             f"in {seasons.height} season(s)", f"warehouse: {warehouse}", "",
             "Per season (Phase 4 entities; fail rate = failed / expected entities, a fraction):"]
    lines += _season_lines(seasons)
    lines += ["", "Shot-chart coverage (zones: played player-games with a zone split in player_game_summary):"]
    lines += [f"  {_season(r['season_year'])}: {r['note']}" for r in coverage.iter_rows(named=True)]
    lines.append("")
    if problems.height:
        lines += _problem_lines(problems, None if details else MAX_PROBLEM_LINES)
        lines += ["", "To fix, run from the project directory, in this order (then validate again):"]
        lines += [f"  {c}" for c in fixes.get_column("command")]
    else:
        later = " (stale partitions or quarantined raw rows: below)" if (report.get("stale") or report.get("quarantine")) else ""
        lines.append(f"Problems: none (every partition materialised and whole, no true failure){later}")
    lines.append("")
    lines += _warning_lines(report["warnings"], report["phase4"], labels, details)  # type: ignore[arg-type]
    lines += _slate_lines(report.get("tonight"), report.get("slate"))  # type: ignore[arg-type]
    lines += [
        "", "Summary:",
        f"  Phase 4: {s['rows_written']:,} rows written, {s['expected']:,} entities expected, "
        f"{s['unaccounted']:,} unaccounted for ({s['unaccounted_rate']:.2%})",
        f"  true failures: {s['true_failures']:,} entity rows + {s['date_level_failures']:,} DATE_LEVEL rows on "
        f"{s['date_level_pairs']:,} (date, table) -> {s['failed_entities']:,} failed entities -> true failure rate "
        f"{s['true_failure_rate']:.2%} (excludes INCOMPLETE_DATA and STALE_DATA)",
        f"  INCOMPLETE_DATA {s['incomplete_data']:,} -> incomplete rate {s['incomplete_rate']:.2%} (expected, "
        f"not a failure); STALE_DATA {s['stale_data']:,} -> stale rate {s['stale_rate']:.2%}",
        f"  (the legacy pipeline would have reported a failure rate of {s['legacy_failure_rate']:.2%})",
        f"  warnings: {s['warnings'][INCOMPLETE_RATE_WITHIN_BAND]:,} {INCOMPLETE_RATE_WITHIN_BAND} WARN "
        f"(date, table) days (not failures)",
        f"  status, Phase 4 (date, table): {_counts(s['status_counts'])}; "
        f"Phase 3 (date, table): {_counts(s['phase3_status_counts'])}",
    ]
    if s["phase3_problem_pairs"]:
        lines.append("  Phase 3 is incomplete: Phase 4's expected entities are counted from what Phase 3 holds, "
                     "so they are lower bounds until Phase 3 is fixed")
    if s["tables_missing_from_warehouse"]:
        lines.append("  tables not in the warehouse: " + ", ".join(s["tables_missing_from_warehouse"]))
    stale = report.get("stale") or []
    if stale:
        lines += ["", *stale]  # type: ignore[list-item]
    quarantined = report.get("quarantine") or []
    if quarantined:
        lines += ["", *quarantined]  # type: ignore[list-item]
    if s["ok"] and not stale and not quarantined:
        lines.append(f"Result: OK (exit {EXIT_OK})")
    elif s["ok"] and not stale:
        lines.append(f"Result: PROBLEMS FOUND (exit {EXIT_PROBLEMS}): quarantined raw rows (see above); "
                     "fix the raw files")
    elif s["ok"] and not quarantined and not stale[0].startswith(CANNOT_COMPARE):
        lines.append(f"Result: PROBLEMS FOUND (exit {EXIT_PROBLEMS}): stale partitions (see above); "
                     "fix: nba-precompute refresh")
    elif s["ok"]:  # refresh refuses until the raw files are fixed: say so, not just "refresh"
        lines.append(f"Result: PROBLEMS FOUND (exit {EXIT_PROBLEMS}): "
                     + ("stale partitions and quarantined raw rows" if quarantined else "raw data that cannot be "
                        "compared") + " (see above); fix the raw files first (nba-precompute refresh refuses "
                     "until then), then: nba-precompute refresh")
    else:
        lines.append(f"Result: PROBLEMS FOUND (exit {EXIT_PROBLEMS}): {s['phase4_problem_pairs']:,} Phase 4 and "
                     f"{s['phase3_problem_pairs']:,} Phase 3 (date, table) pairs MISSING / FAILED / PHASE3_HOLE")
    if details:
        lines += [""] + _weekly_lines(report["weekly"], labels)  # type: ignore[arg-type]
        lines += [""] + _detail_lines(report["phase4"], report["phase3"], labels)  # type: ignore[arg-type]
    return "\n".join(lines)


def _slate_lines(tonight: dt.date | None, slate: pl.DataFrame | None) -> list[str]:
    """Tonight's readiness: games, teams, players per team, and the teams below the minimum."""
    if tonight is None or slate is None:
        return []
    games = slate.get_column("game_id").n_unique()
    per_team = ", ".join(f"{r['team_abbr']} {r['players']}" for r in slate.iter_rows(named=True))
    lines = ["", f"Tonight's slate {tonight}: {games} game(s), {slate.height} team(s); players in the pre-game "
             f"universe per team: {per_team or 'none'}"]
    low = slate.filter(pl.col("below_minimum"))
    for r in low.iter_rows(named=True):
        lines.append(f"  WARNING: {r['team_abbr']} (vs {r['opponent_team_abbr']}, {r['game_id']}) has "
                     f"{r['players']} player(s) in its pre-game universe (fewer than {MIN_SLATE_PLAYERS})"
                     + ("; the slate is not materialised yet: nba-precompute launch " + str(tonight)
                        if r["players"] == 0 else ""))
    if not low.height:
        lines.append(f"  every scheduled team has at least {MIN_SLATE_PLAYERS} players")
    return lines


def render_json(report: dict[str, object], warehouse: str, exit_code: int) -> str:
    """Everything as one JSON document: ``summary``, ``seasons``, ``shot_chart_coverage``,
    ``problems``, ``fix_commands``, ``incomplete_rate_within_band`` (the WARN (date, table) days, the
    check's metadata names), ``weekly_incomplete``, ``dates`` (every Phase 4 (date, table) row, with its
    ``incomplete_rate_within_band`` verdict) and ``phase3_dates`` (every Phase 3 row); rates are
    fractions (0-1)."""
    def rows(key: str) -> list[dict]:
        return report[key].to_dicts()  # type: ignore[union-attr]

    return json.dumps({
        "start": report["start"], "end": report["end"], "warehouse": warehouse, "exit_code": exit_code,
        "summary": report["summary"], "seasons": rows("seasons"), "shot_chart_coverage": rows("coverage"),
        "problems": rows("problems"), "fix_commands": rows("fixes"),
        "tonight": report.get("tonight"),
        "slate": report["slate"].to_dicts() if report.get("slate") is not None else None,  # type: ignore[union-attr]
        INCOMPLETE_RATE_WITHIN_BAND: rows("warnings"), "weekly_incomplete": rows("weekly"),
        "dates": rows("phase4"), "phase3_dates": rows("phase3"), "stale": report.get("stale") or [],
        "quarantine": report.get("quarantine") or [],
    }, indent=2, default=str)


# --------------------------------------------------------------------------- the command


DESCRIPTION = """\
Print the validation report of the Phase 3 and Phase 4 partitions. Per season and per (date, table),
it gives the rows written, the entities expected, INCOMPLETE_DATA, STALE_DATA, the true failures
(DATE_LEVEL included), the Phase 3 holes and the shot-chart coverage, with the dg launch commands that
rematerialise what is missing. Only partitions (the regular-season game dates of the raw data) are
reported. Partitions whose raw inputs changed since they were written are listed as stale, and raw rows that
break a domain rule are listed with the partitions they block.

The report is printed on standard output; errors on standard error.
"""

EPILOG = f"""\
Exit status: {EXIT_OK} when clean; {EXIT_PROBLEMS} when problems are found (a missing table or partition, a
Phase 3 hole, unaccounted entities, a true failure, stale partitions, quarantined raw rows); {EXIT_USAGE} on a
usage or configuration error; {EXIT_WAREHOUSE} when the warehouse cannot be read (the DuckDB file is locked by a running run or
absent, or BigQuery is unreachable).
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``validate`` on the ``nba-precompute`` parser."""
    v = sub.add_parser("validate", help="Print the validation report of the Phase 3 and Phase 4 partitions.",
                       description=DESCRIPTION, epilog=EPILOG, formatter_class=HelpFormatter)
    add_range_arguments(v, everything_by_default=True)
    v.add_argument("--details", action="store_true", help="print every (date, table) row and every week")
    v.add_argument("--format", choices=("terminal", "json"), default="terminal",
                   help="terminal: the report as text (default); json: everything as one JSON document")
    v.add_argument("--duckdb-path", default=None, help=warehouse_help())


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``nba-precompute validate``: see the module docstring. Returns the exit status."""
    if args.all_seasons and args.start is not None:
        parser.error("--all-seasons takes no dates")
    quiet_dagster_warnings()
    from nba_precompute.report import build_report  # loads Dagster (the schedule reader of the assets)

    try:
        calendar = game_calendar()
        days = select_partitions(calendar, args.start, args.end, args.season)
        warehouse, where = open_warehouse(args.duckdb_path)
    except (UsageError, RawDataError) as exc:
        error(str(exc))
        return EXIT_USAGE
    try:
        warehouse.check_readable()
        report = build_report(warehouse, days, calendar.seasons, shot_chart_seasons(config.raw_data_dir()),
                              tonight=calendar.tonight)
    except WarehouseLockedError as exc:
        error(str(exc))
        return EXIT_WAREHOUSE
    except WarehouseError as exc:
        message = (f"{exc} (--duckdb-path PATH or NBA_PRECOMPUTE_DUCKDB_PATH selects another file)"
                   if where.startswith("DuckDB") else f"cannot read the warehouse ({where}): {exc}")
        error(message)
        return EXIT_WAREHOUSE
    report["stale"] = _stale_lines(warehouse, calendar, days)
    report["quarantine"] = _quarantine_lines(calendar, days)
    code = (EXIT_OK if report["summary"]["ok"] and not report["stale"] and not report["quarantine"]  # type: ignore[index]
            else EXIT_PROBLEMS)
    text = render_json(report, where, code) if args.format == "json" else render_terminal(report, where, args.details)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. `| head`: the reader left, the verdict is the exit status
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return code


CANNOT_COMPARE = "Data versions: cannot compare the partitions with the raw data"


def _stale_lines(warehouse: Warehouse, calendar: GameCalendar, days: Sequence[dt.date]) -> list[str]:
    """The report's lines on stale partitions (issue 18: raw inputs changed since the write; empty when
    none); a raw night gone from the files or unreadable raw files are reported here too."""
    from nba_precompute import refresh

    try:
        plan = refresh.plan_refresh(warehouse, config.raw_data_dir(), calendar, days, validate_raw=False)
    except (RawDataError, refresh.MissingNightError) as exc:
        return [f"{CANNOT_COMPARE}: {exc}"]
    return refresh.stale_summary_lines(plan)


def _quarantine_lines(calendar: GameCalendar, days: Sequence[dt.date]) -> list[str]:
    """The report's lines on quarantined raw rows (issue 18: rows that break a domain rule; each with
    file, line, rule, value and the partitions of ``days`` that read it, which runs refuse); empty when
    none. Unreadable raw files are reported here too."""
    from nba_precompute.raw.inputs import RawInputs

    try:
        q = RawInputs(config.raw_data_dir(), calendar.seasons).quarantine(min(days), max(days))
    except RawDataError as exc:
        return [f"Raw data: cannot be checked against the domain rules: {exc}"]
    hit = q.blocking(days=days)
    if hit.is_empty():
        return []
    return [f"Quarantined raw rows ({hit.get_column('row').n_unique()}; each breaks a domain rule, and every run "
            "refuses the partitions that read it until the file is fixed):",
            *(f"  {line}" for line in q.lines(hit, limit=50))]
