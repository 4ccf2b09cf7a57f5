"""The ``nba-precompute`` parser and its one dispatch: each command is a module of this package with
``add_parser(subparsers)`` and ``run(parser, args) -> exit status``.

Building the parser imports no Dagster (the command modules import it when they run, where they need
it): ``launch``, ``seasons`` and ``ui`` never load it (``dg`` loads Dagster in its own process), so
they start in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nba_precompute.cli import launch, refresh, seasons, ui, validate
from nba_precompute.cli.common import HelpFormatter

COMMANDS = {"validate": validate, "refresh": refresh, "launch": launch, "seasons": seasons, "ui": ui}

DESCRIPTION = """\
The NBA Phase 4 precompute platform's tools: run the assets over seasons or dates, list the seasons of
the raw data, start the Dagster UI, report on the warehouse, and refresh what raw corrections made
stale. Run nba-precompute COMMAND --help for a command's options.
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``nba-precompute`` parser, one sub-parser per module of :data:`COMMANDS`."""
    parser = argparse.ArgumentParser(prog="nba-precompute", description=DESCRIPTION, formatter_class=HelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for module in COMMANDS.values():
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``nba-precompute`` console script; returns the exit status (each command's
    help gives its own). argparse exits with status 2 itself on malformed arguments."""
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else list(argv))
    return COMMANDS[args.command].run(parser, args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
