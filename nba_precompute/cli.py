"""The ``nba-precompute`` console command.

``nba-precompute validate START [END] [--format terminal|json] [--duckdb-path PATH]``: the validation
report over the warehouse (see :mod:`nba_precompute.transforms.validation`). Exit status 0 when the
report has no true failure and no MISSING (date, table) among the tables present, 1 otherwise, 2 on a
usage error (argparse).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from nba_precompute import config
from nba_precompute.defs.common import read_season_schedule
from nba_precompute.defs.phase4.tables import PHASE4_TABLES, Phase4Table
from nba_precompute.partitions import game_calendar, season_label
from nba_precompute.schemas import (
    PARTITION_LOG,
    PLAYER_GAME_SUMMARY,
    PRECOMPUTE_FAILURES,
    UPCOMING_PLAYER_GAME_CONTEXT,
)
from nba_precompute.transforms.common import dates_frame
from nba_precompute.transforms.validation import (
    ReportTable,
    expected_entities,
    per_date_report,
    summary,
    weekly_incomplete,
)
from nba_precompute.warehouse.base import Warehouse
from nba_precompute.warehouse.duckdb_warehouse import DuckDBWarehouse


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


def report_tables(tables: Sequence[Phase4Table] = PHASE4_TABLES) -> list[ReportTable]:
    """The validation report's view of the Phase 4 declarations."""
    return [ReportTable(t.spec.qualified_name, t.processor, t.universe, t.bands) for t in tables]


def build_report(warehouse: Warehouse, start: dt.date, end: dt.date,
                 tables: Sequence[Phase4Table] = PHASE4_TABLES,
                 partition_days: Sequence[dt.date] | None = None) -> dict[str, object]:
    """Read the warehouse (through the :class:`~nba_precompute.warehouse.base.Warehouse` interface, so
    DuckDB and BigQuery alike) and compute the report for [start, end]: ``per_date`` and ``weekly``
    frames and the ``summary`` dict."""
    report = report_tables(tables)
    schedule, history_start = read_season_schedule(warehouse, start, end)
    player_games = warehouse.read(PLAYER_GAME_SUMMARY, history_start, end,
                                  columns=["player_id", "game_date", "season_year", "minutes_played"])
    upcoming = warehouse.read(UPCOMING_PLAYER_GAME_CONTEXT, start, end, columns=["game_date", "player_id"])
    expected = expected_entities(dates_frame(start, end), schedule, player_games, upcoming)
    existing = {t.spec.qualified_name for t in tables if warehouse.exists(t.spec)}
    names = [t.qualified_name for t in report]
    log = warehouse.read(PARTITION_LOG, start, end, columns=["table_name", "partition_date", "row_count"]).filter(
        pl.col("table_name").is_in(names))
    failures = warehouse.read(PRECOMPUTE_FAILURES, start, end)
    per_date = per_date_report(start, end, schedule, expected, log, failures, report, existing=existing,
                               partition_days=partition_days)
    return {"per_date": per_date, "weekly": weekly_incomplete(per_date, report), "summary": summary(per_date)}


def _json(report: dict[str, object], start: dt.date, end: dt.date, path: str) -> str:
    per_date: pl.DataFrame = report["per_date"]  # type: ignore[assignment]
    weekly: pl.DataFrame = report["weekly"]  # type: ignore[assignment]
    return json.dumps({
        "start": start.isoformat(), "end": end.isoformat(), "warehouse": path,
        "summary": report["summary"],
        "weekly_incomplete": weekly.to_dicts(),
        "dates": per_date.with_columns(pl.col("date").cast(pl.String)).to_dicts(),
    }, indent=2, default=str)


def _terminal(report: dict[str, object], start: dt.date, end: dt.date, path: str) -> str:
    per_date: pl.DataFrame = report["per_date"]  # type: ignore[assignment]
    weekly: pl.DataFrame = report["weekly"]  # type: ignore[assignment]
    s: dict = report["summary"]  # type: ignore[assignment]
    short = {t.spec.qualified_name: t.processor for t in PHASE4_TABLES}
    lines = [f"Phase 4 validation report {start}..{end}  ({path})", ""]
    head = f"{'date':<10}  {'table':<28} {'rows':>6} {'expected':>8} {'incompl':>7} {'stale':>5} {'failures':>8}  status"
    lines += [head, "-" * len(head)]
    for r in per_date.filter(pl.col("table_exists")).iter_rows(named=True):  # formatting only
        fails = r["true_failures"] + r["date_level_failures"]
        note = ""
        lines.append(f"{r['date']!s:<10}  {short[r['table']]:<28} {r['rows_written']:>6} {r['expected']:>8} "
                     f"{r['incomplete_data']:>7} {r['stale_data']:>5} {fails:>8}  {r['status']}{note}")
    lines += ["", "Incomplete rate per season week (INCOMPLETE_DATA is expected, not a failure):"]
    for r in weekly.filter(pl.col("expected") > 0).iter_rows(named=True):
        band = "no band" if r["band_upper"] is None else (
            f"{r['band_label']} -> {'within band' if r['within_band'] else 'ABOVE BAND'}")
        season = "" if r["season_year"] is None else f"{season_label(r['season_year'])} "
        lines.append(f"  {short.get(r['table'], r['table']):<28} {season}week {r['season_week']:>2}: "
                     f"{r['incomplete_rate']:6.1%}  ({band})")
    lines += [
        "", "Summary:",
        f"  rows written {s['rows_written']}, entities expected {s['expected']}",
        (f"  true failures {s['true_failures']} entity rows + {s['date_level_failures']} DATE_LEVEL "
         f"-> true failure rate {s['true_failure_rate']:.2%} (excludes INCOMPLETE_DATA and STALE_DATA)"),
        f"  INCOMPLETE_DATA {s['incomplete_data']} -> incomplete rate {s['incomplete_rate']:.2%} (expected, not a failure)",
        f"  STALE_DATA {s['stale_data']} -> stale rate {s['stale_rate']:.2%}",
        f"  (the legacy pipeline would have reported a failure rate of {s['legacy_failure_rate']:.2%})",
        "  status: " + ", ".join(f"{k} {v}" for k, v in sorted(s["status_counts"].items())),
    ]
    if s["tables_missing_from_warehouse"]:
        lines.append("  tables not in the warehouse yet (not listed above): "
                     + ", ".join(s["tables_missing_from_warehouse"]))
    return "\n".join(lines)


def _validate(args: argparse.Namespace) -> int:
    start, end = args.start, args.end or args.start
    if end < start:
        print(f"error: END {end} is before START {start}", file=sys.stderr)
        return 2
    calendar = game_calendar()
    if not any(start <= d <= end for d in calendar.game_dates):
        print(f"error: {start}..{end} holds no partition: "
              f"{calendar.explain(start) or calendar.explain(end)}", file=sys.stderr)
        return 2
    wh = DuckDBWarehouse(args.duckdb_path)
    if not Path(wh.path).exists():
        print(f"error: DuckDB warehouse {wh.path} does not exist (set --duckdb-path or "
              "NBA_PRECOMPUTE_DUCKDB_PATH, or materialise the assets first)", file=sys.stderr)
        return 2
    report = build_report(wh, start, end, partition_days=[d for d in calendar.game_dates if start <= d <= end])
    render = _json if args.format == "json" else _terminal
    print(render(report, start, end, wh.path))
    per_date: pl.DataFrame = report["per_date"]  # type: ignore[assignment]
    bad = per_date.filter(pl.col("table_exists") & (
        (pl.col("status") == "MISSING") | (pl.col("true_failures") + pl.col("date_level_failures") > 0)))
    return 1 if bad.height else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nba-precompute`` console script."""
    parser = argparse.ArgumentParser(prog="nba-precompute", description="NBA Phase 4 precompute tools")
    sub = parser.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="per-date, per-table validation report of the Phase 4 tables")
    v.add_argument("start", type=_date, help="first date (YYYY-MM-DD)")
    v.add_argument("end", type=_date, nargs="?", help="last date (default: START)")
    v.add_argument("--format", choices=("terminal", "json"), default="terminal")
    v.add_argument("--duckdb-path", default=config.duckdb_path(),
                   help="warehouse file (default: env NBA_PRECOMPUTE_DUCKDB_PATH, else "
                   f"{config.DEFAULT_DUCKDB_PATH})")
    args = parser.parse_args(argv)
    return _validate(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
