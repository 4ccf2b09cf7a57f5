"""``python -m nba_precompute.cli``: the ``nba-precompute`` program."""

import sys

from nba_precompute.cli.main import main

if __name__ == "__main__":  # imported (e.g. by pkgutil.walk_packages), it runs nothing
    sys.exit(main())
