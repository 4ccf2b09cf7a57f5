"""What the ``nba-precompute`` commands share: exit statuses, the help formatter, date arguments, the
raw calendar, the warehouse to read, and the one-line error.

Imports nothing heavy at module level (no Dagster, no Polars): building the parser stays fast, and
each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import textwrap
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from nba_precompute import config

if TYPE_CHECKING:
    from nba_precompute.partitions import GameCalendar
    from nba_precompute.warehouse.base import Warehouse

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_WAREHOUSE = 0, 1, 2, 3


class UsageError(Exception):
    """A bad argument or configuration (exit 2); the message is one line for the user."""


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, keeping the blank-line paragraphs of a description or epilog (each one
    wrapped to the terminal's width), and never breaking a line inside a hyphenated word or path."""

    def _split_lines(self, text: str, width: int) -> list[str]:
        return textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        paragraphs = re.split(r"\n\s*\n", textwrap.dedent(text).strip())
        return "\n\n".join(textwrap.fill(" ".join(p.split()), width, initial_indent=indent,
                                         subsequent_indent=indent, break_on_hyphens=False) for p in paragraphs)


def error(message: str) -> None:
    """Print ``error: message`` on stderr (the one line a refused command prints)."""
    print(f"error: {message}", file=sys.stderr)


def parse_date(text: str) -> dt.date:
    """An ISO date argument (``argparse`` type)."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


def add_range_arguments(parser: argparse.ArgumentParser, *, everything_by_default: bool) -> None:
    """The partitions a command covers, as ``launch`` and ``validate`` take them: ``START [END]``, or
    ``--season S``, or ``--all-seasons`` (the last two exclusive). ``everything_by_default``: without any
    of them the command covers every partition (``validate``) rather than asking for one (``launch``)."""
    everything = "; default: every partition" if everything_by_default else ""
    parser.add_argument("start", type=parse_date, nargs="?",
                        help=f"a partition, or the first day of a range (YYYY-MM-DD{everything})")
    parser.add_argument("end", type=parse_date, nargs="?",
                        help="the last day of the range (YYYY-MM-DD; default: START alone)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--season", help="one season's partitions, e.g. 2023-24")
    which.add_argument("--all-seasons", action="store_true", help="every partition of every season"
                       + (" (the default without dates)" if everything_by_default else ""))


def calendar() -> GameCalendar:
    """The raw data's calendar (``nba_precompute.partitions.game_calendar``).

    Raises:
        UsageError: the raw data directory is missing or unreadable (the message names it).
    """
    from nba_precompute.partitions import game_calendar
    from nba_precompute.raw.readers import RawDataError

    try:
        return game_calendar()
    except RawDataError as exc:
        raise UsageError(f"{exc} (now: {config.raw_data_dir().resolve()})") from None


def quiet_dagster_warnings() -> None:
    """Ignore Dagster's ``BetaWarning`` and ``PreviewWarning`` in this process (they announce API
    stability, not a problem of the run); every other warning and every error still shows. Imports
    Dagster: call it where a command imports Dagster anyway."""
    from dagster import BetaWarning, PreviewWarning

    warnings.filterwarnings("ignore", category=BetaWarning)
    warnings.filterwarnings("ignore", category=PreviewWarning)


def warehouse_help() -> str:
    """The help of ``--duckdb-path``, naming the warehouse the command reads without it."""
    path = Path(config.duckdb_path()).resolve()
    source = ("NBA_PRECOMPUTE_DUCKDB_PATH" if os.environ.get("NBA_PRECOMPUTE_DUCKDB_PATH")
              else f"the default {config.DEFAULT_DUCKDB_PATH} under the working directory")
    text = f"DuckDB warehouse file to read, read-only (default: the assets' warehouse, {path}, from {source})"
    if os.environ.get("NBA_PRECOMPUTE_WAREHOUSE", "").strip().lower() == "bigquery":
        text = ("DuckDB warehouse file to read instead of BigQuery (default: BigQuery, as "
                "NBA_PRECOMPUTE_WAREHOUSE=bigquery and the NBA_PRECOMPUTE_BQ_* settings)")
    return text.replace("%", "%%")


def open_warehouse(duckdb_path: str | None) -> tuple[Warehouse, str]:
    """The warehouse to read (the DuckDB file ``duckdb_path``, else the assets' warehouse from the
    environment) and a one-line description of it.

    Raises:
        UsageError: invalid warehouse settings.
    """
    from nba_precompute.defs.resources import WarehouseResource, warehouse_from_env
    from nba_precompute.warehouse.base import WarehouseError

    try:
        resource = (WarehouseResource(kind="duckdb", duckdb_path=duckdb_path) if duckdb_path is not None
                    else warehouse_from_env())
        warehouse = resource.get()
    except (ValueError, WarehouseError) as exc:
        raise UsageError(f"warehouse settings: {exc}") from None
    if resource.kind == "duckdb":
        return warehouse, f"DuckDB file {Path(resource.duckdb_path).resolve()} (read-only)"
    where = f"BigQuery project {resource.bq_project}, location {resource.bq_location}"
    if resource.bq_dataset_prefix:
        where += f", datasets prefixed {resource.bq_dataset_prefix!r}"
    return warehouse, where
