"""``nba-precompute ui``: ``dg dev`` (the Dagster webserver and daemon) on the project's instance, in a
process session of its own so that stopping the command stops every process it started
(:func:`nba_precompute.runs.run_in_own_session`)."""

from __future__ import annotations

import argparse
import shlex
import sys

from nba_precompute import runs
from nba_precompute.cli.common import HelpFormatter

DESCRIPTION = """\
Start the Dagster UI (dg dev: the webserver and the daemon) on the project's instance, the one
nba-precompute launch uses (DAGSTER_HOME, else ./.dagster_home when it is there). Stopping the command
(Ctrl-C, SIGTERM or SIGHUP) stops the webserver, the daemon and the code server with it.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``ui`` on the ``nba-precompute`` parser."""
    u = sub.add_parser("ui", help="Start the Dagster UI on the project's instance (runs dg dev).",
                       description=DESCRIPTION, formatter_class=HelpFormatter)
    u.add_argument("--port", type=int, default=None, help="webserver port (default 3000)")


def run(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    """``nba-precompute ui``: returns the exit status of ``dg dev`` (128 + N after signal N)."""
    env, home = runs.project_env()
    cmd = [runs.dg_executable(), "dev", *(["--port", str(args.port)] if args.port else [])]
    print(f"{shlex.join(['dg', *cmd[1:]])}" + (f"   (DAGSTER_HOME={home})" if home else ""), file=sys.stderr)
    sys.stderr.flush()
    return runs.run_in_own_session(cmd, env)
