"""The ``nba-precompute`` console script.

``launch``, ``seasons`` and ``ui`` are parsed and run here with :mod:`nba_precompute.launch` alone,
which needs the raw calendar but not Dagster (``dg`` loads Dagster in its own process): the command
starts in a fraction of a second. Everything else (``validate``, ``--help``) goes to
:func:`nba_precompute.cli.main`, which holds the whole command line.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nba_precompute.config import FAST_COMMANDS


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in FAST_COMMANDS:
        from nba_precompute import launch

        parser = argparse.ArgumentParser(prog="nba-precompute")
        launch.add_parsers(parser.add_subparsers(dest="command", required=True))
        return launch.run(parser, parser.parse_args(args))
    from nba_precompute.cli import main as full_main

    return full_main(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
