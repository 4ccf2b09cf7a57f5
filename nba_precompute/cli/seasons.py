"""``nba-precompute seasons``: every season of the raw data, its partitions and its shot chart, and
tonight's slate (on stdout)."""

from __future__ import annotations

import argparse

from nba_precompute import config
from nba_precompute.cli.common import EXIT_USAGE, HelpFormatter, UsageError, calendar, error
from nba_precompute.partitions import season_label
from nba_precompute.raw.sources import LAST_PUBLISHED_SHOT_CHART_SEASON, shot_chart_seasons

DESCRIPTION = """\
List the seasons of the raw data: opening night, game dates, partitions (every day of the season up
to tonight's slate), the scheduled end, and whether its shot-chart file is there. The last lines give
the total and tonight's slate, with the command that runs it.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``seasons`` on the ``nba-precompute`` parser."""
    sub.add_parser("seasons", help="List the seasons of the raw data: partitions, dates, shot charts.",
                   description=DESCRIPTION, formatter_class=HelpFormatter)


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``nba-precompute seasons``: see the module docstring. Returns the exit status (2: no raw data)."""
    try:
        cal = calendar()
    except UsageError as exc:
        error(str(exc))
        return EXIT_USAGE
    charts = set(shot_chart_seasons(config.raw_data_dir()))
    every = cal.partition_days
    print(f"{'season':<8} {'opening':<10}  {'game dates':>10}  {'partitions':>10}  {'through':<10}  {'scheduled to':<12}"
          "  shot chart")
    for r in cal.seasons.iter_rows(named=True):
        days = [d for d in every if r["season_start_date"] <= d <= r["span_end"]]
        chart = ("yes" if r["season_year"] in charts else
                 "none published (zone columns NULL)" if r["season_year"] > LAST_PUBLISHED_SHOT_CHART_SEASON
                 else "MISSING FILE")
        print(f"{season_label(r['season_year']):<8} {r['season_start_date']!s:<10}  {r['game_dates']:>10}  "
              f"{len(days):>10}  {(days[-1] if days else '-')!s:<10}  {r['season_end_date']!s:<12}  {chart}")
    print(f"all seasons: {len(every)} partitions ({len(cal.game_dates)} game dates), "
          f"{cal.first}...{cal.horizon}")
    if cal.tonight is not None:
        ids = cal.missing_games(cal.tonight)
        print(f"tonight: {cal.tonight}, {len(ids)} game(s) scheduled ({', '.join(ids)}); last night in the raw "
              f"data: {cal.last_night}; run it with: nba-precompute launch {cal.tonight}")
    else:
        print(f"tonight: no scheduled game left in the raw data (last game date {cal.horizon})")
    return 0
